#include "agent/alerts/silences.hpp"

#include <algorithm>

#include "agent/pipeline/series_match.hpp"
#include "base/wall_clock.hpp"

namespace hostpulse {

void Silences::expire_locked(std::int64_t now_ms) const {
  std::erase_if(silences_, [now_ms](const Silence& s) { return s.until_ms <= now_ms; });
}

Status Silences::add(Silence silence, Silence& added) {
  std::lock_guard lock(mutex_);
  expire_locked(wall_clock_ms());
  if (silences_.size() >= kMaxSilences) {
    return Status::failure("at most " + std::to_string(kMaxSilences) + " silences at once; delete some first");
  }
  silence.id = std::to_string(next_id_++);
  silences_.push_back(silence);
  added = silence;
  return Status::success();
}

bool Silences::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto before = silences_.size();
  std::erase_if(silences_, [&](const Silence& s) { return s.id == id; });
  return silences_.size() != before;
}

bool Silences::silenced(const std::string& rule, const std::string& instance, std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  return std::any_of(silences_.begin(), silences_.end(), [&](const Silence& s) {
    return s.until_ms > now_ms && glob_match(s.rule, rule) && glob_match(s.instance, instance);
  });
}

std::vector<Silence> Silences::list(std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  expire_locked(now_ms);
  return silences_;
}

}  // namespace hostpulse
