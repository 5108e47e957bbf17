#include "collectors/collector_table.hpp"

#include <exception>
#include <new>
#include <string>

namespace hostpulse {

CollectorSet::CollectorSet(const HostPaths& paths, std::span<const CollectorDefinition> definitions)
    : definitions_(definitions) {
  readers_.reserve(definitions_.size());
  for (const CollectorDefinition& definition : definitions_) {
    readers_.emplace_back(paths.proc_file(definition.procfs_path));
  }
}

Status CollectorSet::collect_one(std::size_t index, RawSample& sample) {
  if (index >= definitions_.size()) {
    return Status::failure("collector index " + std::to_string(index) + " out of range (" +
                           std::to_string(definitions_.size()) + " collectors)");
  }
  const CollectorDefinition& definition = definitions_[index];
  FileReader& reader = readers_[index];

  Status status;
  // Parsers and the reader report failures as Status; the catch blocks are
  // the backstop that keeps one collector from taking down the sampler thread.
  try {
    if (definition.ok_flag != nullptr) sample.*definition.ok_flag = false;
    if (definition.parse_into == nullptr) {
      status = Status::failure(std::string(definition.name) + ": no parser in the collector table");
    } else {
      status = reader.read();
      if (status.ok()) {
        status = definition.parse_into(reader.contents(), sample);
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

  if (definition.ok_flag != nullptr) sample.*definition.ok_flag = status.ok();
  return status;
}

std::size_t CollectorSet::collect_all(RawSample& sample) {
  std::size_t failed = 0;
  for (std::size_t index = 0; index < definitions_.size(); ++index) {
    if (!collect_one(index, sample).ok()) ++failed;
  }
  return failed;
}

}  // namespace hostpulse
