#include "collectors/linux/proc_uptime.hpp"

#include <string>

#include "collectors/linux/procfs_text.hpp"

namespace hostpulse {
namespace {

using procfs_text::next_field;
using procfs_text::NumberError;

Status parse_seconds(std::string_view& rest, std::string_view what, double& seconds) {
  const std::string_view token = next_field(rest);
  if (const NumberError error = procfs_text::parse_non_negative_double(token, seconds);
      error != NumberError::none) {
    return Status::failure("uptime: " + std::string(what) + ": " +
                           procfs_text::describe(error, token, "a double"));
  }
  return Status::success();
}

}  // namespace

Status parse_proc_uptime(std::string_view text, Uptime& out) {
  if (Status complete = procfs_text::check_complete(text, "uptime"); !complete.ok()) return complete;

  procfs_text::LineCursor lines(text);
  std::string_view rest;
  lines.next(rest);
  std::string_view after_first_line;
  if (lines.next(after_first_line)) {
    return Status::failure("uptime: expected one line, found more after line 1");
  }

  if (Status status = parse_seconds(rest, "seconds up", out.uptime_s); !status.ok()) return status;
  // Summed over all CPUs, so it is normally larger than the uptime itself.
  if (Status status = parse_seconds(rest, "idle seconds", out.idle_s); !status.ok()) return status;

  if (const std::string_view extra = next_field(rest); !extra.empty()) {
    return Status::failure("uptime: unexpected " + procfs_text::quote(extra) + " after the idle seconds");
  }
  return Status::success();
}

}  // namespace hostpulse

namespace hostpulse {
namespace {

constexpr SeriesSpec kSeries[] = {
    {"system.uptime_s", "seconds", SeriesKind::gauge, "Time since boot", 2},
};

constexpr SourceFunctions<Uptime> kFunctions{&parse_proc_uptime, &derive_proc_uptime};

}  // namespace

void derive_proc_uptime(const Uptime* /*previous*/, const Uptime& current, const DeriveContext& /*context*/,
                        SeriesWriter& out) {
  out.set(0, derive_math::hundredths(current.uptime_s));
}

SourceDefinition proc_uptime_source() {
  return {.name = "proc_uptime", .procfs_path = "uptime", .series = kSeries,
          .create = &create_source<Uptime, kFunctions>, .required = true};
}

}  // namespace hostpulse
