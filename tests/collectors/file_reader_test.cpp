#include "base/file_reader.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/host_paths.hpp"

namespace hostpulse {
namespace {

using ::testing::HasSubstr;

// A fresh directory per test, removed with its files afterwards.
class FileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "hostpulse_file_reader_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
  }

  void TearDown() override {
    for (const std::string& path : created_) ::unlink(path.c_str());
    ::rmdir(directory_.c_str());
  }

  std::string write_file(std::string_view name, std::string_view contents) {
    const std::string path = directory_ + "/" + std::string(name);
    const int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(descriptor, 0) << path;
    if (descriptor < 0) return path;
    std::size_t written = 0;
    while (written < contents.size()) {
      const ssize_t result = ::write(descriptor, contents.data() + written, contents.size() - written);
      if (result <= 0) break;
      written += static_cast<std::size_t>(result);
    }
    EXPECT_EQ(written, contents.size());
    ::close(descriptor);
    created_.push_back(path);
    return path;
  }

  std::string make_fifo(std::string_view name) {
    const std::string path = directory_ + "/" + std::string(name);
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
    created_.push_back(path);
    return path;
  }

  // Runs reader.read() on another thread so a read that hangs fails with a
  // message after kReadDeadline instead of waiting for the ctest timeout.
  static Status read_within_deadline(FileReader& reader) {
    static constexpr auto kReadDeadline = std::chrono::seconds(5);
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> result = done->get_future();
    std::thread([&reader, done] { done->set_value(reader.read()); }).detach();
    if (result.wait_for(kReadDeadline) != std::future_status::ready) {
      std::fprintf(stderr, "%s: read() did not return within 5 s\n", reader.path().c_str());
      // The hung thread still uses reader, so returning would be unsafe; each
      // test runs in its own process under ctest, so only this one fails.
      std::abort();
    }
    return result.get();
  }

  std::string directory_;
  std::vector<std::string> created_;
};

TEST_F(FileReaderTest, ReadsWholeFile) {
  const std::string path = write_file("small", "cpu 1 2 3 4\n");
  FileReader reader(path);
  const Status status = reader.read();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(reader.contents(), "cpu 1 2 3 4\n");
  EXPECT_EQ(reader.path(), path);
}

TEST_F(FileReaderTest, ReadsEmptyFile) {
  FileReader reader(write_file("empty", ""));
  ASSERT_TRUE(reader.read().ok());
  EXPECT_TRUE(reader.contents().empty());
}

TEST_F(FileReaderTest, ReadsFileLargerThanOneBuffer) {
  std::string contents;
  for (int line = 0; line < 20000; ++line) contents += "line " + std::to_string(line) + "\n";
  FileReader reader(write_file("large", contents));
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), contents);
  EXPECT_GE(reader.capacity(), contents.size());
}

TEST_F(FileReaderTest, SeesChangesBetweenReads) {
  const std::string path = write_file("changing", "first version, long\n");
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  write_file("changing", "second\n");
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), "second\n");
}

TEST_F(FileReaderTest, MissingFileNamesPathAndReason) {
  const std::string path = directory_ + "/does_not_exist";
  FileReader reader(path);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(path));
  EXPECT_THAT(status.error, HasSubstr("cannot open"));
  EXPECT_THAT(status.error, HasSubstr("No such file or directory"));
  EXPECT_TRUE(reader.contents().empty());
}

TEST_F(FileReaderTest, DirectoryIsRefusedNamingWhatItIs) {
  FileReader reader(directory_);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, directory_ + ": is a directory, not a regular file");
  EXPECT_TRUE(reader.contents().empty());
}

// Without O_NONBLOCK, open() of a FIFO waits for a writer: forever here.
// The deadline guard turns a hang into a failure instead of a stuck suite.
TEST_F(FileReaderTest, FifoWithoutWriterIsRefusedWithoutWaiting) {
  const std::string path = make_fifo("fifo");
  FileReader reader(path);
  const Status status = read_within_deadline(reader);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, path + ": is a FIFO, not a regular file");
  EXPECT_TRUE(reader.contents().empty());
}

// With a writer that never writes, read() would wait for data forever.
TEST_F(FileReaderTest, FifoWithSilentWriterIsRefusedWithoutWaiting) {
  const std::string path = make_fifo("silent_fifo");
  // O_RDWR: a writer end that opens without waiting for a reader, and keeps
  // the FIFO "connected" so a reader would see no EOF.
  const int writer = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  FileReader reader(path);
  const Status status = read_within_deadline(reader);
  ::close(writer);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("is a FIFO, not a regular file"));
}

// /dev/zero never reaches EOF: without the type check it would fill the
// buffer up to the size limit on every tick.
TEST_F(FileReaderTest, CharacterDeviceIsRefused) {
  if (::access("/dev/zero", R_OK) != 0) GTEST_SKIP() << "/dev/zero is not readable here";
  const std::string path = directory_ + "/zero_link";
  ASSERT_EQ(::symlink("/dev/zero", path.c_str()), 0);
  created_.push_back(path);
  FileReader reader(path);
  const Status status = read_within_deadline(reader);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, path + ": is a character device, not a regular file");
  EXPECT_EQ(reader.capacity(), 0u) << "nothing should have been read";
}

TEST_F(FileReaderTest, SocketIsRefused) {
  const std::string path = directory_ + "/socket";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof address.sun_path) << "temp path too long for a UNIX socket";
  path.copy(address.sun_path, path.size());
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  created_.push_back(path);
  FileReader reader(path);
  const Status status = read_within_deadline(reader);
  ::close(listener);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, path + ": is a socket, not a regular file");
}

// A regular file above the limit is refused from its size, before its
// contents are read into memory.
TEST_F(FileReaderTest, SparseFileAboveLimitIsRefusedWithoutReading) {
  const std::string path = write_file("sparse", "");
  ASSERT_EQ(::truncate(path.c_str(), 1 << 30), 0);
  FileReader reader(path);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("larger than 16 MiB, refusing to read it"));
  EXPECT_EQ(reader.capacity(), 0u);
}

TEST_F(FileReaderTest, BufferShrinksAfterTheFileBecomesSmallAgain) {
  const std::string path = write_file("shrinking", std::string(3u << 20, 'x'));
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  ASSERT_GE(reader.capacity(), 3u << 20);

  write_file("shrinking", "cpu 1 2 3\n");
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), "cpu 1 2 3\n");
  EXPECT_LE(reader.capacity(), FileReader::kShrinkAboveBytes);
}

TEST_F(FileReaderTest, BufferIsReleasedAfterAFailedRead) {
  const std::string path = write_file("failing", std::string(1u << 20, 'x'));
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  ASSERT_GE(reader.capacity(), 1u << 20);
  ::unlink(path.c_str());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_FALSE(reader.read().ok());
  EXPECT_LE(reader.capacity(), FileReader::kShrinkAboveBytes);
}

// The shrink rule must not fire on a steady file: shrinking and growing
// again every tick would allocate on every tick.
TEST_F(FileReaderTest, RereadOfASteadyFileKeepsTheBuffer) {
  // 10,000 bytes: an ordinary file; the others are past the shrink threshold.
  for (const std::size_t size : {std::size_t{10'000}, std::size_t{70'000}, std::size_t{128u << 10}, std::size_t{300'000}}) {
    SCOPED_TRACE(size);
    FileReader reader(write_file("steady", std::string(size, 'y')));
    ASSERT_TRUE(reader.read().ok());
    const char* const first_data = reader.contents().data();
    const std::size_t first_capacity = reader.capacity();
    for (int again = 0; again < 3; ++again) {
      ASSERT_TRUE(reader.read().ok());
      EXPECT_EQ(reader.contents().data(), first_data);
      EXPECT_EQ(reader.capacity(), first_capacity);
      EXPECT_EQ(reader.contents().size(), size);
    }
  }
}

// A shrunk buffer is one step above the file, so the next read of the same
// file fits without growing.
TEST_F(FileReaderTest, ShrunkBufferStillHoldsTheFileWithoutGrowing) {
  const std::string path = write_file("medium", std::string(4u << 20, 'z'));
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  write_file("medium", std::string(100'000, 'z'));
  ASSERT_TRUE(reader.read().ok());
  const std::size_t shrunk = reader.capacity();
  EXPECT_GT(shrunk, 100'000u);
  EXPECT_LT(shrunk, 1u << 20);
  const char* const data = reader.contents().data();
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.capacity(), shrunk);
  EXPECT_EQ(reader.contents().data(), data);
}

TEST_F(FileReaderTest, FileLargerThanLimitFails) {
  FileReader reader(write_file("oversize", "0123456789A"), 10);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("larger than 10 bytes, refusing to read it"));
  EXPECT_THAT(status.error, HasSubstr("oversize"));
  EXPECT_TRUE(reader.contents().empty());
  EXPECT_LE(reader.capacity(), 10u);
}

TEST_F(FileReaderTest, FileOfExactlyTheLimitIsRead) {
  FileReader reader(write_file("exact", "0123456789"), 10);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), "0123456789");
  EXPECT_EQ(reader.capacity(), 10u);
}

TEST_F(FileReaderTest, ZeroLimitAcceptsOnlyEmptyFiles) {
  FileReader empty_reader(write_file("empty", ""), 0);
  EXPECT_TRUE(empty_reader.read().ok());
  FileReader one_byte_reader(write_file("one_byte", "x"), 0);
  EXPECT_THAT(one_byte_reader.read().error, HasSubstr("larger than 0 bytes, refusing to read it"));
}

TEST_F(FileReaderTest, FailureAfterSuccessClearsContents) {
  const std::string path = write_file("vanishing", "data\n");
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  ::unlink(path.c_str());
  EXPECT_FALSE(reader.read().ok());
  EXPECT_TRUE(reader.contents().empty());
}

// procfs files report size 0; only reading to EOF gets their contents.
TEST(FileReaderProcfsTest, ReadsLiveProcfsFile) {
  FileReader reader(HostPaths{}.proc_file("self/status"));
  const Status status = reader.read();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_THAT(reader.contents(), HasSubstr("Name:"));
  EXPECT_EQ(reader.contents().back(), '\n');
}

// sysfs files report a size of 4096 whatever they hold; they are regular
// files and must keep reading like procfs ones.
TEST(FileReaderProcfsTest, ReadsLiveSysfsFile) {
  const std::string path = HostPaths{}.sys_file("devices/system/cpu/online");
  if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " is not readable here";
  FileReader reader(path);
  const Status status = reader.read();
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_FALSE(reader.contents().empty());
  EXPECT_EQ(reader.contents().back(), '\n');
}

TEST_F(FileReaderTest, ErrorNumberIsTheErrnoOfTheLastFailedRead) {
  const std::string path = write_file("error_number", "45000\n");
  FileReader reader(path);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.error_number(), 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_FALSE(reader.read().ok());
  EXPECT_EQ(reader.error_number(), ENOENT);
  // Too large is refused by the reader itself: no errno.
  FileReader small(write_file("error_number_big", std::string(100, 'x')), 10);
  EXPECT_FALSE(small.read().ok());
  EXPECT_EQ(small.error_number(), 0);
}

TEST_F(FileReaderTest, SmallInitialBufferGrowsOnlyForALongerFile) {
  const FileReader::Options options{.max_bytes = 4096, .initial_bytes = 32, .whole_in_one_read = true};
  FileReader small(write_file("attribute", "45000\n"), options);
  ASSERT_TRUE(small.read().ok());
  EXPECT_EQ(small.contents(), "45000\n");
  EXPECT_EQ(small.capacity(), 32u);
  // A file longer than the buffer is still read whole (the first read()
  // fills the buffer, which is then doubled until one leaves room).
  const std::string label(100, 'l');
  FileReader longer(write_file("label", label + "\n"), options);
  ASSERT_TRUE(longer.read().ok());
  EXPECT_EQ(longer.contents(), label + "\n");
  EXPECT_EQ(longer.capacity(), 128u);
  // Exactly the buffer's size: the next read() (which returns 0) ends it.
  FileReader exact(write_file("exact", std::string(31, 'x') + "\n"), options);
  ASSERT_TRUE(exact.read().ok());
  EXPECT_EQ(exact.contents().size(), 32u);
}

TEST_F(FileReaderTest, WholeInOneReadStillRefusesWhatIsOverTheLimit) {
  const FileReader::Options options{.max_bytes = 64, .initial_bytes = 16, .whole_in_one_read = true};
  FileReader reader(write_file("over", std::string(65, 'x')), options);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("larger than 64 bytes"));
  FileReader at_limit(write_file("at_limit", std::string(64, 'x')), options);
  ASSERT_TRUE(at_limit.read().ok());
  EXPECT_EQ(at_limit.contents().size(), 64u);
}

TEST_F(FileReaderTest, TryReadFailsWithTheMessageReadGives) {
  const std::string path = directory_ + "/not-there";
  FileReader reader(path);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(reader.try_read());
  EXPECT_TRUE(reader.missing());
  EXPECT_EQ(reader.error_number(), ENOENT);
  EXPECT_EQ(reader.failure().error, status.error);
  EXPECT_THAT(reader.failure().error, HasSubstr(path + ": cannot open: No such file or directory"));

  const std::string fifo = directory_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  created_.push_back(fifo);
  FileReader fifo_reader(fifo);
  EXPECT_FALSE(fifo_reader.try_read());
  EXPECT_THAT(fifo_reader.failure().error, HasSubstr("is a FIFO, not a regular file"));
  EXPECT_EQ(fifo_reader.failure().error, fifo_reader.read().error);

  FileReader good(write_file("good", "1\n"));
  EXPECT_TRUE(good.try_read());
  EXPECT_TRUE(good.failure().ok());
}

TEST(FileReaderProcfsTest, OneReadOfASysfsAttributeReadsItWhole) {
  const std::string path = HostPaths{}.sys_file("class/net/lo/mtu");
  if (::access(path.c_str(), R_OK) != 0) GTEST_SKIP() << path << " is not readable here";
  FileReader whole(path, FileReader::Options{.max_bytes = 4096, .initial_bytes = 32, .whole_in_one_read = true});
  FileReader until_end(path, 4096);
  ASSERT_TRUE(whole.read().ok());
  ASSERT_TRUE(until_end.read().ok());
  EXPECT_EQ(whole.contents(), until_end.contents());
  EXPECT_EQ(whole.contents().back(), '\n');
}

// ---- held descriptors (hold_descriptor) ----

const FileReader::Options kHeld{.whole_in_one_read = false, .hold_descriptor = true};

std::string thread_name() {
  char name[16] = {};
  ::prctl(PR_GET_NAME, name);
  return name;
}

TEST(FileReaderHeldTest, AHeldProcfsFileIsMadeAfreshForEveryRead) {
  const std::string original = thread_name();
  FileReader reader("/proc/thread-self/comm", kHeld);
  ASSERT_TRUE(reader.read().ok());
  if (!reader.holds_descriptor()) GTEST_SKIP() << "no procfs here (or the held cap is reached)";
  EXPECT_EQ(reader.contents(), original + "\n");
  ASSERT_EQ(::prctl(PR_SET_NAME, "hp-held-test"), 0);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), "hp-held-test\n");  // the same descriptor, read from offset 0 again
  EXPECT_TRUE(reader.holds_descriptor());
  ASSERT_EQ(::prctl(PR_SET_NAME, original.c_str()), 0);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), original + "\n");
}

TEST(FileReaderHeldTest, AHeldFileThatGoesAwayIsOpenedAgainByItsPath) {
  std::promise<pid_t> started;
  std::promise<void> finish;
  std::thread thread([&started, finished = finish.get_future()]() mutable {
    started.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
    finished.wait();
  });
  const pid_t thread_id = started.get_future().get();
  FileReader reader("/proc/self/task/" + std::to_string(thread_id) + "/comm", kHeld);
  ASSERT_TRUE(reader.read().ok());
  const bool held = reader.holds_descriptor();
  finish.set_value();
  thread.join();
  // The task is gone: the held descriptor fails, the path is tried again
  // and is not there. join() returns once the thread has run its last
  // code; its /proc entry goes a moment later, so poll with a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool ok = true;
  while (ok && std::chrono::steady_clock::now() < deadline) ok = reader.read().ok();
  EXPECT_FALSE(ok);
  EXPECT_TRUE(reader.missing());
  EXPECT_FALSE(reader.holds_descriptor());
  if (!held) GTEST_SKIP() << "the descriptor was not held (no procfs, or the cap)";
}

TEST_F(FileReaderTest, ARegularFileIsNeverHeldSoARenameIsSeen) {
  const std::string path = write_file("renamed", "first\n");
  FileReader reader(path, kHeld);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_FALSE(reader.holds_descriptor());
  const std::string replacement = write_file("replacement", "second\n");
  ASSERT_EQ(::rename(replacement.c_str(), path.c_str()), 0);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.contents(), "second\n");
}

TEST(FileReaderHeldTest, HeldDescriptorsAreCappedAndGivenBackByTheReaders) {
  const std::size_t before = FileReader::held_descriptors();
  {
    std::vector<FileReader> readers;
    readers.reserve(FileReader::kMaxHeldDescriptors + 10);
    for (std::size_t i = 0; i < FileReader::kMaxHeldDescriptors + 10; ++i) {
      readers.emplace_back("/proc/self/comm", kHeld);
      ASSERT_TRUE(readers.back().read().ok());
    }
    if (FileReader::held_descriptors() == before) GTEST_SKIP() << "no procfs here";
    EXPECT_EQ(FileReader::held_descriptors(), FileReader::kMaxHeldDescriptors);
    // Past the cap a reader still reads, opening the file each time.
    EXPECT_FALSE(readers.back().holds_descriptor());
    ASSERT_TRUE(readers.back().read().ok());
    // Moving a reader moves its descriptor, not a copy of it.
    FileReader moved = std::move(readers.front());
    EXPECT_TRUE(moved.holds_descriptor());
    EXPECT_EQ(FileReader::held_descriptors(), FileReader::kMaxHeldDescriptors);
  }
  EXPECT_EQ(FileReader::held_descriptors(), before);
}

}  // namespace
}  // namespace hostpulse
