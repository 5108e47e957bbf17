#include "agent/pipeline/series_registry.hpp"

#include <limits>
#include <stdexcept>

#include "base/log.hpp"
#include "base/quote.hpp"

namespace hostpulse {
namespace {

constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

}  // namespace

SeriesRegistry::SeriesRegistry(std::span<const SourceDefinition> sources, SeriesRegistryOptions options)
    : options_(options) {
  sources_.resize(sources.size());
  read_ok_ = std::make_unique<bool[]>(sources.size());
  writers_.reserve(sources.size());
  for (std::size_t index = 0; index < sources.size(); ++index) {
    SourceState& source = sources_[index];
    source.definition = &sources[index];
    for (const SeriesSpec& declared : sources[index].series) {
      Spec spec;
      spec.declared = &declared;
      if (Status status = parse_series_template(declared.name, spec.parts); !status.ok()) {
        // A source's own declaration: a programming error, caught by every test run.
        throw std::logic_error(std::string(sources[index].name) + ": " + status.error);
      }
      if (spec.parts.per_entity()) {
        std::size_t label = 0;
        while (label < source.labels.size() && source.labels[label].name != spec.parts.label) ++label;
        if (label == source.labels.size()) {
          source.labels.push_back(Label{.name = std::string(spec.parts.label), .entities = {}});
        }
        spec.label = label;
      }
      source.specs.push_back(spec);
    }
    writers_.emplace_back(*this, static_cast<std::uint32_t>(index));
  }
  // Host-wide series first, in table order, so their ids do not depend on
  // which entities a host has.
  for (SourceState& source : sources_) {
    for (Spec& spec : source.specs) {
      if (!spec.parts.per_entity()) spec.host_id = add_series(spec, {});
    }
  }
  // pending_ keeps them: the first end_tick reports them as added, so
  // history (and anything else built from changes) learns of them too.
  std::lock_guard lock(mutex_);
  publish_locked();
}

std::uint32_t SeriesRegistry::add_series(const Spec& spec, std::string_view label_value) {
  const auto id = static_cast<std::uint32_t>(series_.size());
  SeriesInfo info{
      .id = id,
      .name = series_name(spec.parts, label_value),
      .family = series_family(spec.parts),
      .labels = {},
      .unit = spec.declared->unit,
      .kind = series_kind_name(spec.declared->kind),
      .description = spec.declared->description,
      .decimals = spec.declared->decimals,
      .live = true,
      .first_seq = seq_,
  };
  if (spec.parts.per_entity()) {
    info.labels.push_back(SeriesLabel{.name = std::string(spec.parts.label), .value = std::string(label_value)});
  }
  series_.push_back(std::move(info));
  ++live_series_;
  pending_.added.push_back(id);
  if (values_ != nullptr) values_->resize(series_.size(), kNoValue);
  return id;
}

void SeriesRegistry::begin_tick(std::uint64_t seq, std::vector<double>& values) {
  seq_ = seq;
  values_ = &values;
  values.assign(series_.size(), kNoValue);
}

SeriesWriter& SeriesRegistry::writer(std::size_t index) { return writers_.at(index); }

void SeriesRegistry::refuse(std::string_view why, bool cap) {
  ++entities_refused_;
  if (cap) at_cap_ = true;
  // Once per cap episode, and rate-limited for bad keys: the log must not
  // become the unbounded thing.
  if (!cap_logged_) {
    cap_logged_ = true;
    spdlog::warn("series not added: {} (further refusals are counted in /api/v1/health, not logged)", why);
  }
}

EntityHandle SeriesRegistry::find_or_add_entity(std::uint32_t source_index, std::string_view label_name,
                                                std::string_view key) {
  SourceState& source = sources_[source_index];
  std::size_t label = 0;
  while (label < source.labels.size() && source.labels[label].name != label_name) ++label;
  if (label == source.labels.size()) return {};  // no series of that label declared
  Label& table = source.labels[label];
  const std::uint64_t this_read = source.successful_reads + 1;
  if (const auto found = table.entities.find(key); found != table.entities.end()) {
    entities_[found->second].last_seen_read = this_read;
    return EntityHandle{found->second};
  }

  if (key.empty() || key.size() > options_.max_key_bytes) {
    refuse(std::string(source.definition->name) + ": " + std::string(label_name) + " " + quote(key) +
               " is empty or longer than " + std::to_string(options_.max_key_bytes) + " bytes",
           false);
    return {};
  }
  std::size_t new_series = 0;
  for (const Spec& spec : source.specs) {
    if (spec.label == label) ++new_series;
  }
  if (live_series_ + new_series > options_.max_series) {
    refuse(std::to_string(options_.max_series) + " live series reached ([history] max_series); " +
               std::string(label_name) + " " + quote(key) + " of " + std::string(source.definition->name) +
               " has none",
           true);
    return {};
  }
  if (series_.size() + new_series > options_.max_series_ids) {
    refuse(std::to_string(options_.max_series_ids) + " series ids handed out since start (restart to reclaim); " +
               std::string(label_name) + " " + quote(key) + " has none",
           true);
    return {};
  }

  std::uint32_t index = 0;
  if (!free_entities_.empty()) {
    index = free_entities_.back();
    free_entities_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(entities_.size());
    entities_.emplace_back();
  }
  Entity& entity = entities_[index];
  entity = Entity{.source = source_index, .label = label, .key = std::string(key), .last_seen_read = this_read,
                  .ids = std::vector<std::uint32_t>(source.specs.size(), kNoId), .in_use = true};
  for (std::size_t spec = 0; spec < source.specs.size(); ++spec) {
    if (source.specs[spec].label == label) entity.ids[spec] = add_series(source.specs[spec], key);
  }
  table.entities.emplace(entity.key, index);
  return EntityHandle{index};
}

void SeriesRegistry::retire(Entity& entity) {
  for (const std::uint32_t id : entity.ids) {
    if (id == kNoId) continue;
    series_[id].live = false;
    series_[id].retired_seq = seq_;
    --live_series_;
    pending_.retired.push_back(id);
  }
  Label& table = sources_[entity.source].labels[entity.label];
  table.entities.erase(entity.key);
  entity = Entity{};
  free_entities_.push_back(static_cast<std::uint32_t>(&entity - entities_.data()));
  // Room again: the next refusal is a new episode worth a log line.
  at_cap_ = false;
  cap_logged_ = false;
}

SchemaChange SeriesRegistry::end_tick(const CollectorSet& collectors) {
  for (std::size_t index = 0; index < sources_.size(); ++index) {
    read_ok_[index] = index < collectors.size() && collectors.source(index).current_ok();
  }
  return end_tick(std::span<const bool>(read_ok_.get(), sources_.size()));
}

SchemaChange SeriesRegistry::end_tick(std::span<const bool> read_ok) {
  for (std::size_t index = 0; index < sources_.size() && index < read_ok.size(); ++index) {
    if (read_ok[index]) ++sources_[index].successful_reads;
  }
  for (Entity& entity : entities_) {
    if (!entity.in_use) continue;
    const SourceState& source = sources_[entity.source];
    if (source.successful_reads - entity.last_seen_read >= options_.retire_after_reads) retire(entity);
  }
  values_ = nullptr;
  SchemaChange change;
  const bool changed = !pending_.empty();
  if (changed) change = std::move(pending_);
  pending_ = {};
  std::lock_guard lock(mutex_);
  if (changed) publish_locked();
  stats_.entities_refused = entities_refused_;
  stats_.at_cap = at_cap_;
  return change;
}

void SeriesRegistry::publish_locked() {
  snapshot_ = std::make_shared<const Schema>(series_, version_++);
  stats_.live_series = live_series_;
  stats_.series_ids = series_.size();
}

SchemaSnapshot SeriesRegistry::schema() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

SeriesRegistryStats SeriesRegistry::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void SeriesRegistry::Writer::set(std::size_t spec, double value) {
  const SourceState& source = registry_.sources_[source_];
  if (spec >= source.specs.size()) return;
  const std::uint32_t id = source.specs[spec].host_id;
  if (id != kNoId && registry_.values_ != nullptr) (*registry_.values_)[id] = value;
}

EntityHandle SeriesRegistry::Writer::entity(std::string_view label, std::string_view key) {
  return registry_.find_or_add_entity(source_, label, key);
}

void SeriesRegistry::Writer::set(EntityHandle entity, std::size_t spec, double value) {
  if (!entity.valid() || entity.index >= registry_.entities_.size() || registry_.values_ == nullptr) return;
  const Entity& state = registry_.entities_[entity.index];
  if (!state.in_use || state.source != source_ || spec >= state.ids.size()) return;
  const std::uint32_t id = state.ids[spec];
  if (id != kNoId) (*registry_.values_)[id] = value;
}

}  // namespace hostpulse
