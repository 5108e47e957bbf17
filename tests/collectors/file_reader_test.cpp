#include "collectors/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
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

TEST_F(FileReaderTest, RereadOfSameSizeFileKeepsTheBuffer) {
  const std::string contents(10000, 'x');
  FileReader reader(write_file("same_size", contents));
  ASSERT_TRUE(reader.read().ok());
  const char* const first_data = reader.contents().data();
  const std::size_t first_capacity = reader.capacity();
  for (int again = 0; again < 3; ++again) {
    ASSERT_TRUE(reader.read().ok());
    EXPECT_EQ(reader.contents().data(), first_data);
    EXPECT_EQ(reader.capacity(), first_capacity);
    EXPECT_EQ(reader.contents().size(), contents.size());
  }
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

TEST_F(FileReaderTest, DirectoryIsAReadError) {
  FileReader reader(directory_);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr(directory_));
  EXPECT_THAT(status.error, HasSubstr("Is a directory"));
  EXPECT_TRUE(reader.contents().empty());
}

TEST_F(FileReaderTest, FileLargerThanLimitFails) {
  FileReader reader(write_file("oversize", "0123456789A"), 10);
  const Status status = reader.read();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error, HasSubstr("file larger than 10 bytes"));
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
  EXPECT_THAT(one_byte_reader.read().error, HasSubstr("file larger than 0 bytes"));
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

}  // namespace
}  // namespace hostpulse
