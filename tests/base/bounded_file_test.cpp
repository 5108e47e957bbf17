#include "base/bounded_file.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::TempDir;

TEST(ReadBoundedFileTest, ReadsARegularFileUpToTheLimit) {
  TempDir dir;
  std::string out = "stale";
  ASSERT_TRUE(read_bounded_file(dir.write("exact", std::string(100, 'x')), 100, out).ok());
  EXPECT_EQ(out, std::string(100, 'x'));
  ASSERT_TRUE(read_bounded_file(dir.write("empty", ""), 100, out).ok());
  EXPECT_EQ(out, "");
  // Bigger than one read.
  const std::string big(100'000, 'y');
  ASSERT_TRUE(read_bounded_file(dir.write("big", big), big.size(), out).ok());
  EXPECT_EQ(out, big);
}

TEST(ReadBoundedFileTest, RefusesFilesOverTheLimit) {
  TempDir dir;
  const std::string path = dir.write("big", std::string(1025, 'x'));
  std::string out = "stale";
  const Status status = read_bounded_file(path, 1024, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, path + ": larger than 1 KiB, refusing to read it");
  EXPECT_EQ(out, "");
}

TEST(ReadBoundedFileTest, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const std::string socket_path = dir.file("socket");
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);

  struct Case {
    std::string path;
    std::string error;
  };
  const Case cases[] = {
      {dir.path(), dir.path() + ": is a directory, not a regular file"},
      // No writer: a blocking open would wait forever.
      {fifo, fifo + ": is a FIFO, not a regular file"},
      // Reading it would never end.
      {"/dev/zero", "/dev/zero: is a character device, not a regular file"},
      // Sockets cannot be open()ed at all.
      {socket_path, socket_path + ": is a socket, not a regular file"},
      {dir.file("missing"), dir.file("missing") + ": cannot open: No such file or directory"},
  };
  for (const Case& c : cases) {
    std::string out = "stale";
    const auto started = std::chrono::steady_clock::now();
    const Status status = read_bounded_file(c.path, 1 << 20, out);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1)) << c.path;
    ASSERT_FALSE(status.ok()) << c.path;
    EXPECT_EQ(status.error, c.error);
    EXPECT_EQ(out, "");
  }
  ::close(listener);
}

TEST(ReadBoundedFileTest, FollowsLinksToRegularFiles) {
  TempDir dir;
  const std::string target = dir.write("target", "text");
  const std::string link = dir.file("link");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::string out;
  ASSERT_TRUE(read_bounded_file(link, 100, out).ok());
  EXPECT_EQ(out, "text");
}

TEST(DescribeByteCountTest, Table) {
  EXPECT_EQ(describe_byte_count(1 << 20), "1 MiB");
  EXPECT_EQ(describe_byte_count(4096), "4 KiB");
  EXPECT_EQ(describe_byte_count(1000), "1000 bytes");
  EXPECT_EQ(describe_byte_count((1 << 20) + 1024), "1025 KiB");
}

}  // namespace
}  // namespace hostpulse
