#include "collectors/collector_table.hpp"

#include <exception>
#include <new>
#include <string>

namespace hostpulse {

std::string_view series_kind_name(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::gauge: return "gauge";
    case SeriesKind::rate: return "rate";
    case SeriesKind::counter: return "counter";
  }
  return "gauge";
}

CollectorSet::CollectorSet(const HostPaths& paths, std::span<const SourceDefinition> definitions)
    : CollectorSet(SourceSettings{.paths = paths}, definitions) {}

CollectorSet::CollectorSet(const SourceSettings& settings, std::span<const SourceDefinition> definitions)
    : definitions_(definitions) {
  readers_.reserve(definitions_.size());
  sources_.reserve(definitions_.size());
  for (const SourceDefinition& definition : definitions_) {
    // Read every tick: kept open (procfs makes a table afresh for each read
    // from offset 0).
    readers_.emplace_back(
        definition.procfs_path.empty() ? std::string() : settings.paths.proc_file(definition.procfs_path),
        FileReader::Options{.hold_descriptor = true});
    sources_.push_back(definition.create(settings));
  }
  rest_.assign(definitions_.size(), 0);
}

bool CollectorSet::resting(std::size_t index) {
  if (index >= rest_.size() || rest_[index] == 0) return false;
  --rest_[index];
  sources_[index]->fail();
  return true;
}

Status CollectorSet::collect_one(std::size_t index) {
  if (index >= definitions_.size()) {
    return Status::failure("collector index " + std::to_string(index) + " out of range (" +
                           std::to_string(definitions_.size()) + " collectors)");
  }
  const SourceDefinition& definition = definitions_[index];
  FileReader& reader = readers_[index];
  Source& source = *sources_[index];

  Status status;
  // Parsers and the reader report failures as Status; the catch blocks are
  // the backstop that keeps one collector from taking down the sampler thread.
  try {
    source.fail();
    if (definition.procfs_path.empty()) {
      status = source.read({});
    } else {
      status = reader.read();
      if (!status.ok() && reader.missing() && !definition.required) {
        status = Status::absent(reader.path() + ": not present");
      } else if (status.ok()) {
        status = source.read(reader.contents());
        // Parser messages name the file but not where it was read from, which
        // matters when HostPaths points somewhere other than the real /proc.
        if (!status.ok()) status.error.insert(0, reader.path() + ": ");
      }
    }
  } catch (const std::bad_alloc&) {
    status = Status::failure(std::string(definition.name) + ": out of memory");
  } catch (const std::exception& exception) {
    status = Status::failure(std::string(definition.name) + ": unexpected exception: " + exception.what());
  } catch (...) {
    status = Status::failure(std::string(definition.name) + ": unexpected non-standard exception");
  }
  if (!status.ok()) source.fail();
  rest_[index] = status.unavailable ? kUnavailableRetryReads - 1 : 0;
  return status;
}

std::size_t CollectorSet::collect_all() {
  std::size_t failed = 0;
  for (std::size_t index = 0; index < definitions_.size(); ++index) {
    if (resting(index)) continue;
    const Status status = collect_one(index);
    if (!status.ok() && !status.unavailable) ++failed;
  }
  return failed;
}

HostFacts CollectorSet::facts() const {
  HostFacts facts;
  for (const auto& source : sources_) source->contribute(facts);
  return facts;
}

void CollectorSet::advance_all() {
  for (auto& source : sources_) source->advance();
}

}  // namespace hostpulse
