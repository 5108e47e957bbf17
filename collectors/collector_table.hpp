#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/file_reader.hpp"
#include "base/status.hpp"
#include "collectors/host_paths.hpp"
#include "collectors/source.hpp"

namespace hostpulse {

// The platform's explicit table of sources (no self-registration: the linker
// could drop it). Defined in collectors/<platform>/collector_table.cpp, picked
// by CMake; adding a source is one line there.
std::span<const SourceDefinition> platform_sources();

// The first entries of that table: the sources every Linux since 2.6 has
// (stat, meminfo, loadavg, uptime). Tests and benchmarks whose fixtures hold
// only those four files run these, so adding a source does not change them.
std::span<const SourceDefinition> core_sources();

// Owns one reusable reader and one source (its last two parsed reads) per
// table entry. It does no timing or counting: the sampler does that in one
// place around collect_one().
class CollectorSet {
 public:
  CollectorSet(const HostPaths& paths, std::span<const SourceDefinition> definitions);
  CollectorSet(const SourceSettings& settings, std::span<const SourceDefinition> definitions);

  [[nodiscard]] std::size_t size() const { return definitions_.size(); }
  [[nodiscard]] const SourceDefinition& definition(std::size_t index) const { return definitions_[index]; }
  [[nodiscard]] std::span<const SourceDefinition> definitions() const { return definitions_; }
  [[nodiscard]] const Source& source(std::size_t index) const { return *sources_[index]; }

  // Reads and parses source `index` into its current read. Never throws; a
  // missing or garbled file is a failed Status (and a failed read); a source
  // the host does not have is a Status with unavailable set.
  Status collect_one(std::size_t index);
  // Runs every source; returns how many failed (an unavailable one has not).
  std::size_t collect_all();

  // A source that reported itself unavailable (no PSI, no battery) is read
  // again only every kUnavailableRetryReads-th time: in between, resting()
  // marks its read failed and returns true, and the caller skips it. So an
  // absent source costs no probing and no message per tick, and a battery
  // plugged in later still shows up within a minute at 1 s.
  static constexpr std::uint32_t kUnavailableRetryReads = 60;
  bool resting(std::size_t index);

  // What the current reads tell other sources (CPUs online).
  [[nodiscard]] HostFacts facts() const;
  // Writes every source's values from its previous and current read.
  // writer_for(index) gives the writer for source index.
  template <class WriterFor>
  void derive_all(double elapsed_s, WriterFor&& writer_for) const {
    const DeriveContext context{.elapsed_s = elapsed_s, .facts = facts()};
    for (std::size_t index = 0; index < sources_.size(); ++index) {
      sources_[index]->derive(context, writer_for(index));
    }
  }
  // Writes every source's Prometheus samples from its current read.
  template <class WriterFor>
  void expose_all(WriterFor&& writer_for) const {
    for (std::size_t index = 0; index < sources_.size(); ++index) sources_[index]->expose(writer_for(index));
  }
  // Every current read becomes the previous one.
  void advance_all();

 private:
  std::span<const SourceDefinition> definitions_;
  std::vector<FileReader> readers_;  // of each procfs_path; unused for an empty one
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::uint32_t> rest_;  // reads left before an unavailable source is asked again
};

}  // namespace hostpulse
