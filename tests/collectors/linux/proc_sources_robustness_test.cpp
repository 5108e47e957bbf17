// The whole-host /proc parsers on every cut-off of their captured fixtures
// and on pseudo-random bytes. Under ASan/UBSan (-DHOSTPULSE_SANITIZE=ON)
// this proves they never read out of bounds; without, it checks that a cut
// without its final newline never parses.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/linux/pressure.hpp"
#include "collectors/linux/proc_file_nr.hpp"
#include "collectors/linux/proc_net_snmp.hpp"
#include "collectors/linux/proc_net_sockstat.hpp"
#include "collectors/linux/proc_vmstat.hpp"
#include "tests/collectors/linux/proc_host_fixtures.hpp"

namespace hostpulse {
namespace {

using testing_support::read_host_fixture;

// Each parser behind one signature.
Status parse_pressure_cpu(std::string_view text) {
  PressureFile file;
  return parse_pressure_file(text, "cpu", file);
}
Status parse_vmstat(std::string_view text) {
  VmStat out;
  return parse_proc_vmstat(text, out);
}
Status parse_snmp(std::string_view text) {
  NetSnmp out;
  return parse_proc_net_snmp(text, out);
}
Status parse_sockstat(std::string_view text) {
  SockStat out;
  return parse_proc_net_sockstat(text, out);
}
Status parse_file_nr(std::string_view text) {
  FileNr out;
  return parse_proc_file_nr(text, out);
}

struct ParserCase {
  std::string_view fixture;
  std::string_view relative;
  Status (*parse)(std::string_view);
};

constexpr ParserCase kParsers[] = {
    {"psi_this_vm", "pressure/cpu", &parse_pressure_cpu},
    {"vmstat_this_vm", "vmstat", &parse_vmstat},
    {"snmp_this_vm", "net/snmp", &parse_snmp},
    {"sockstat_this_vm", "net/sockstat", &parse_sockstat},
    {"filenr_this_vm", "sys/fs/file-nr", &parse_file_nr},
};

// An exact-size heap copy: a read one past the end hits ASan's redzone.
Status parse_exact(const ParserCase& parser, std::string_view text) {
  const std::vector<char> bytes(text.begin(), text.end());
  return parser.parse(std::string_view(bytes.data(), bytes.size()));
}

TEST(ProcSourcesRobustnessTest, EveryCutOffWithoutItsNewlineFails) {
  for (const ParserCase& parser : kParsers) {
    SCOPED_TRACE(parser.fixture);
    const std::string text = read_host_fixture(parser.fixture, parser.relative);
    ASSERT_TRUE(parse_exact(parser, text).ok());
    for (std::size_t size = 0; size < text.size(); ++size) {
      const std::string_view cut(text.data(), size);
      const Status status = parse_exact(parser, cut);
      if (size == 0 || cut.back() != '\n') {
        EXPECT_FALSE(status.ok()) << "cut at " << size;
      }
    }
  }
}

TEST(ProcSourcesRobustnessTest, RandomBytesNeverCrash) {
  constexpr int kRounds = 2000;       // enough for every parser path to see junk; runs in well under a second
  constexpr std::size_t kMaxBytes = 300;
  std::mt19937 random(20261201);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, kMaxBytes);
  for (const ParserCase& parser : kParsers) {
    const std::string captured = read_host_fixture(parser.fixture, parser.relative);
    for (int round = 0; round < kRounds; ++round) {
      std::string text(length(random), '\0');
      for (char& c : text) c = static_cast<char>(byte(random));
      (void)parse_exact(parser, text);
      // Junk spliced into the real file, and a byte of the real file flipped.
      std::string spliced = captured;
      spliced.insert(std::min(spliced.size(), length(random)), text);
      (void)parse_exact(parser, spliced);
      std::string flipped = captured;
      if (!flipped.empty()) flipped[length(random) % flipped.size()] = static_cast<char>(byte(random));
      (void)parse_exact(parser, flipped);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace hostpulse
