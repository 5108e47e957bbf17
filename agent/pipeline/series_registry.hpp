#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/schema.hpp"
#include "agent/pipeline/series_name.hpp"
#include "collectors/collector_table.hpp"

namespace hostpulse {

// Tunables of the dynamic schema, each with the reason for its default.
struct SeriesRegistryOptions {
  // Live series beyond this are refused: an entity that would pass it gets no
  // series (counted in health, which turns degraded, and logged once). Each
  // live series costs about 4 KiB of compressed history at the default hour
  // (at most ~30 KiB for values without any pattern); 10,000 is a 256-CPU
  // host (2,856 series) plus hundreds of disks, interfaces and mounts.
  std::size_t max_series = 10'000;
  // An entity absent from this many successful reads of its source has its
  // series retired: a minute at 1 s, so a flapping interface does not churn.
  std::uint64_t retire_after_reads = 60;
  // Ids are never reused while the agent runs; each costs a few dozen bytes
  // for good (its schema entry), so churn over weeks is bounded here.
  std::size_t max_series_ids = 1'000'000;
  // Entity keys longer than this are refused (a hostile mount point or
  // interface name must not make names unbounded).
  std::size_t max_key_bytes = 256;
};

struct SeriesRegistryStats {
  std::size_t live_series = 0;
  std::size_t series_ids = 0;           // every id handed out
  std::uint64_t entities_refused = 0;   // by the caps or a bad key
  bool at_cap = false;                  // the last refusal was for a cap and nothing retired since
};

// Owns the series of every source: host-wide ones from the start, per-entity
// ones as their entities appear in a read, retired when they stay away. Used
// on the sampler thread only, except schema() and stats().
class SeriesRegistry {
 public:
  explicit SeriesRegistry(std::span<const SourceDefinition> sources, SeriesRegistryOptions options = {});
  SeriesRegistry(const SeriesRegistry&) = delete;
  SeriesRegistry& operator=(const SeriesRegistry&) = delete;

  // Starts a tick for point `seq`: values gets one NaN per id; writers write
  // into it (growing it when an entity appears).
  void begin_tick(std::uint64_t seq, std::vector<double>& values);
  // The writer for source `index` (position in the table) during a tick.
  SeriesWriter& writer(std::size_t index);
  // Ends the tick: sources whose read succeeded age their entities (a failed
  // read ages nothing: its entities were not seen, but not missing either).
  // Returns what changed this tick; a new schema is published if anything did.
  SchemaChange end_tick(const CollectorSet& collectors);
  // The same with each source's read outcome given directly (by table index).
  SchemaChange end_tick(std::span<const bool> read_ok);

  [[nodiscard]] SchemaSnapshot schema() const;
  [[nodiscard]] SeriesRegistryStats stats() const;

 private:
  static constexpr std::uint32_t kNoId = 0xffffffffu;
  struct Spec {
    const SeriesSpec* declared = nullptr;
    SeriesTemplate parts;
    std::uint32_t host_id = kNoId;   // host-wide series only
    std::size_t label = SIZE_MAX;    // index into the source's labels, per-entity only
  };
  struct Label {
    std::string name;
    std::map<std::string, std::uint32_t, std::less<>> entities;  // key -> entity index
  };
  struct SourceState {
    const SourceDefinition* definition = nullptr;
    std::vector<Spec> specs;
    std::vector<Label> labels;
    std::uint64_t successful_reads = 0;
  };
  struct Entity {
    std::uint32_t source = 0;
    std::size_t label = 0;
    std::string key;
    std::uint64_t last_seen_read = 0;
    std::vector<std::uint32_t> ids;  // by spec index; kNoId for other specs
    bool in_use = false;
  };
  class Writer final : public SeriesWriter {
   public:
    Writer(SeriesRegistry& registry, std::uint32_t source) : registry_(registry), source_(source) {}
    void set(std::size_t spec, double value) override;
    EntityHandle entity(std::string_view label, std::string_view key) override;
    void set(EntityHandle entity, std::size_t spec, double value) override;
    void set_all(EntityHandle entity, std::size_t first_spec, std::span<const double> values) override;
    void start_tick();

   private:
    SeriesRegistry& registry_;
    std::uint32_t source_;
    // Sources report their entities in the same order tick after tick (the
    // kernel lists CPUs in order): the entity the last tick had at this
    // position is tried before the lookup by key.
    std::vector<std::uint32_t> previous_order_;
    std::vector<std::uint32_t> current_order_;
    std::size_t cursor_ = 0;
  };

  std::uint32_t add_series(const Spec& spec, std::string_view label_value);
  EntityHandle find_or_add_entity(std::uint32_t source, std::string_view label, std::string_view key);
  void refuse(std::string_view why, bool cap);
  void retire(Entity& entity);
  void publish_locked();

  const SeriesRegistryOptions options_;
  std::vector<SourceState> sources_;
  std::vector<Writer> writers_;
  std::vector<SeriesInfo> series_;
  std::size_t live_series_ = 0;
  std::vector<Entity> entities_;
  std::vector<std::uint32_t> free_entities_;
  std::vector<double>* values_ = nullptr;
  std::unique_ptr<bool[]> read_ok_;  // one per source, reused by end_tick(collectors)
  std::uint64_t seq_ = 0;
  SchemaChange pending_;
  std::uint64_t version_ = 0;
  std::uint64_t entities_refused_ = 0;
  bool at_cap_ = false;
  bool cap_logged_ = false;

  mutable std::mutex mutex_;  // guards snapshot_ and stats_ for other threads
  SchemaSnapshot snapshot_;
  SeriesRegistryStats stats_;
};

}  // namespace hostpulse
