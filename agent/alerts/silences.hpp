#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"

namespace hostpulse {

struct Silence {
  std::string id;
  std::string rule;       // rule name or * glob
  std::string instance;   // series name or * glob
  std::int64_t until_ms = 0;
  std::string comment;
};

// Silenced alerts still change state (stream, REST, log) but send no
// notifications. Bounded; expired silences are dropped. Thread-safe.
class Silences {
 public:
  static constexpr std::size_t kMaxSilences = 1000;

  // Adds a silence; error when the list is full.
  Status add(Silence silence, Silence& added);
  bool remove(const std::string& id);
  [[nodiscard]] bool silenced(const std::string& rule, const std::string& instance, std::int64_t now_ms) const;
  [[nodiscard]] std::vector<Silence> list(std::int64_t now_ms) const;

 private:
  void expire_locked(std::int64_t now_ms) const;

  mutable std::mutex mutex_;
  mutable std::vector<Silence> silences_;
  std::uint64_t next_id_ = 1;
};

}  // namespace hostpulse
