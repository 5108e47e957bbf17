#pragma once

#include <string>
#include <utility>

namespace hostpulse {

// Outcome of reading or parsing one source: ok, or a reason a person can act on.
// Failure is data (STYLE rule 6): callers count and report it, nothing throws.
// An empty std::string does not allocate, so success costs nothing.
struct Status {
  std::string error;
  // Not a fault: the host has no such data (a kernel without pressure stall
  // information, a machine without a battery). error says what is missing;
  // it is reported, not counted or logged as a failure.
  bool unavailable = false;

  [[nodiscard]] bool ok() const { return error.empty(); }
  static Status success() { return {}; }
  static Status failure(std::string message) {
    if (message.empty()) message = "unknown error";
    return Status{std::move(message)};
  }
  static Status absent(std::string what) {
    Status status = failure(std::move(what));
    status.unavailable = true;
    return status;
  }
};

}  // namespace hostpulse
