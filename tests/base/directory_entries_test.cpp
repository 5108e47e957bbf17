#include "base/directory_entries.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::TempDir;

std::set<std::string> names_of(const DirectoryEntries& lister) {
  std::set<std::string> names;
  for (const DirectoryEntry& entry : lister.entries()) names.emplace(entry.name);
  return names;
}

TEST(DirectoryEntriesTest, ListsFilesDirectoriesAndLinksWithoutDotEntries) {
  TempDir dir;
  dir.write("temp1_input", "42000\n");
  ASSERT_EQ(::mkdir(dir.file("hwmon0").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("hwmon0", dir.file("hwmon1").c_str()), 0);
  DirectoryEntries lister;
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_EQ(names_of(lister), (std::set<std::string>{"temp1_input", "hwmon0", "hwmon1"}));
  EXPECT_EQ(lister.dropped(), 0u);
  for (const DirectoryEntry& entry : lister.entries()) {
    // tmpfs and ext4 fill in d_type; DT_UNKNOWN is allowed by the API but
    // would make this check meaningless, so it is required here.
    if (entry.name == "temp1_input") {
      EXPECT_EQ(entry.type, DT_REG);
    } else if (entry.name == "hwmon0") {
      EXPECT_EQ(entry.type, DT_DIR);
    } else {
      EXPECT_EQ(entry.type, DT_LNK);
    }
  }
}

TEST(DirectoryEntriesTest, EmptyDirectoryHasNoEntries) {
  TempDir dir;
  DirectoryEntries lister;
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_TRUE(lister.entries().empty());
}

TEST(DirectoryEntriesTest, MissingPathAndFileReportTheirErrno) {
  TempDir dir;
  DirectoryEntries lister;
  EXPECT_EQ(lister.list(dir.file("absent")), ENOENT);
  EXPECT_TRUE(lister.entries().empty());
  const std::string file = dir.write("plain", "x");
  EXPECT_EQ(lister.list(file), ENOTDIR);
  EXPECT_TRUE(lister.entries().empty());
}

TEST(DirectoryEntriesTest, ManyEntriesNeedSeveralReadsAndAllArrive) {
  TempDir dir;
  // ~3000 records of ~40 bytes: more than one 32 KiB getdents64 buffer.
  constexpr int kFiles = 3000;
  std::set<std::string> expected;
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "temp" + std::to_string(i) + "_input_with_a_longer_name";
    dir.write(name, "1\n");
    expected.insert(name);
  }
  DirectoryEntries lister(4096, 1u << 20);
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_EQ(names_of(lister), expected);
  EXPECT_EQ(lister.dropped(), 0u);
}

TEST(DirectoryEntriesTest, EntriesPastTheCapAreDroppedAndCounted) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) dir.write("f" + std::to_string(i), "");
  DirectoryEntries lister(4);
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_EQ(lister.entries().size(), 4u);
  EXPECT_EQ(lister.dropped(), 6u);
}

TEST(DirectoryEntriesTest, NamesThatOverflowTheStorageAreDropped) {
  TempDir dir;
  dir.write(std::string(200, 'a'), "");
  dir.write(std::string(200, 'b'), "");
  DirectoryEntries lister(16, 300);  // room for one 200-byte name only
  ASSERT_EQ(lister.list(dir.path()), 0);
  ASSERT_EQ(lister.entries().size(), 1u);
  EXPECT_EQ(lister.entries()[0].name.size(), 200u);
  EXPECT_EQ(lister.dropped(), 1u);
}

TEST(DirectoryEntriesTest, RelistingReflectsChangesAndReusesStorage) {
  TempDir dir;
  dir.write("one", "");
  DirectoryEntries lister;
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_EQ(names_of(lister), (std::set<std::string>{"one"}));
  dir.write("two", "");
  ASSERT_EQ(::unlink(dir.file("one").c_str()), 0);
  ASSERT_EQ(lister.list(dir.path()), 0);
  EXPECT_EQ(names_of(lister), (std::set<std::string>{"two"}));
}

TEST(DirectoryEntriesTest, ListsALiveProcDirectory) {
  // /proc/self is there on every Linux test machine; its fd folder holds at
  // least stdin, stdout and stderr.
  DirectoryEntries lister;
  ASSERT_EQ(lister.list("/proc/self/fd"), 0);
  const std::set<std::string> names = names_of(lister);
  EXPECT_TRUE(names.count("0") == 1 && names.count("1") == 1 && names.count("2") == 1);
}

}  // namespace
}  // namespace hostpulse
