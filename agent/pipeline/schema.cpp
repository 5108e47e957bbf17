#include "agent/pipeline/schema.hpp"

#include <cassert>

namespace hostpulse {

Schema::Schema(std::vector<SeriesInfo> series, std::uint64_t version)
    : series_(std::move(series)), version_(version) {
  for (const SeriesInfo& info : series_) {
    assert(info.id == static_cast<std::uint32_t>(&info - series_.data()));
    if (info.live) ++live_count_;
    auto [position, inserted] = by_name_.try_emplace(info.name, info.id);
    // A name that came back after retiring has a newer id: prefer the live one.
    if (!inserted && (info.live || !series_[position->second].live)) position->second = info.id;
  }
}

std::optional<std::uint32_t> Schema::find(std::string_view name) const {
  const auto position = by_name_.find(name);
  if (position == by_name_.end()) return std::nullopt;
  return position->second;
}

}  // namespace hostpulse
