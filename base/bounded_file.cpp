#include "base/bounded_file.hpp"

#include "base/file_reader.hpp"

namespace hostpulse {

Status read_bounded_file(const std::string& path, std::size_t max_bytes, std::string& out) {
  out.clear();
  // The same non-blocking, regular-files-only, size-capped read the
  // collectors use for procfs.
  FileReader reader(path, max_bytes);
  const Status status = reader.read();
  if (!status.ok()) return status;
  out.assign(reader.contents());
  return Status::success();
}

}  // namespace hostpulse
