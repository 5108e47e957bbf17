#pragma once

#include <string>
#include <utility>

namespace hostpulse {

// Outcome of reading or parsing one source: ok, or a reason a person can act on.
// Failure is data (STYLE rule 6): callers count and report it, nothing throws.
// An empty std::string does not allocate, so success costs nothing.
struct Status {
  std::string error;

  [[nodiscard]] bool ok() const { return error.empty(); }
  static Status success() { return {}; }
  static Status failure(std::string message) {
    if (message.empty()) message = "unknown error";
    return Status{std::move(message)};
  }
};

}  // namespace hostpulse
