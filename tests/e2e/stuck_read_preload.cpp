// LD_PRELOAD shim for one e2e test: makes the agent's read(2) of one file
// never return, as a read on a hung NFS or FUSE mount does, so the test can
// drive the agent's stuck-sampler shutdown from outside without any hook in
// the agent itself.
//
//   HOSTPULSE_TEST_STUCK_READ       the file (canonical path) whose reads hang
//   HOSTPULSE_TEST_STUCK_READ_WHEN  reads hang only while this file exists,
//                                   so the agent can start and tick first

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" ssize_t read(int descriptor, void* buffer, size_t count) {
  using ReadFunction = ssize_t (*)(int, void*, size_t);
  static const auto real_read = reinterpret_cast<ReadFunction>(::dlsym(RTLD_NEXT, "read"));
  const char* stuck_path = std::getenv("HOSTPULSE_TEST_STUCK_READ");
  const char* trigger = std::getenv("HOSTPULSE_TEST_STUCK_READ_WHEN");
  if (stuck_path != nullptr && trigger != nullptr && ::access(trigger, F_OK) == 0) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", descriptor);
    char target[PATH_MAX];
    const ssize_t length = ::readlink(link, target, sizeof target - 1);
    if (length > 0) {
      target[length] = '\0';
      // pause() returns after each signal handler; the hang must outlast them.
      if (std::strcmp(target, stuck_path) == 0) {
        for (;;) ::pause();
      }
    }
  }
  return real_read(descriptor, buffer, count);
}
