// The five whole-host /proc sources together on the busy-host tree that
// tests/fixtures/make_large_host_procs.py writes (committed as
// hosts/procs_large_host): what the integrated bench and dashboard read.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/collector_table.hpp"
#include "collectors/linux/pressure.hpp"
#include "collectors/linux/proc_file_nr.hpp"
#include "collectors/linux/proc_net_snmp.hpp"
#include "collectors/linux/proc_net_sockstat.hpp"
#include "collectors/linux/proc_vmstat.hpp"
#include "tests/collectors/linux/proc_host_fixtures.hpp"
#include "tests/support/recording_series_writer.hpp"

namespace hostpulse {
namespace {

TEST(ProcSourcesLargeHostTest, EveryValueFromTheGeneratedTree) {
  const SourceDefinition definitions[] = {pressure_source(), proc_vmstat_source(), proc_net_snmp_source(),
                                          proc_net_sockstat_source(), proc_file_nr_source()};
  CollectorSet collectors(testing_support::host_fixture_settings("procs_large_host"), definitions);
  for (int tick = 0; tick < 2; ++tick) {
    for (std::size_t index = 0; index < collectors.size(); ++index) {
      const Status status = collectors.collect_one(index);
      EXPECT_TRUE(status.ok()) << collectors.definition(index).name << ": " << status.error;
    }
    if (tick == 0) collectors.advance_all();
  }
  std::vector<std::pair<std::string, std::string>> entities;
  const auto values = testing_support::derive_to_map(collectors, 1.0, &entities);
  EXPECT_EQ(entities, (std::vector<std::pair<std::string, std::string>>{
                          {"resource", "cpu"}, {"resource", "memory"}, {"resource", "io"}, {"resource", "irq"}}));
  // 4 resources x 8 series, less irq's 4 "some" series; 6 + 7 + 5 + 3 host-wide.
  EXPECT_EQ(values.size(), 4u * 8u - 4u + 6u + 7u + 5u + 3u);
  // Copied by hand from tests/fixtures/hosts/procs_large_host/proc/....
  EXPECT_DOUBLE_EQ(values.at("pressure.cpu.some_avg300_pct"), 39.74);
  EXPECT_DOUBLE_EQ(values.at("pressure.irq.full_avg60_pct"), 23.71);
  EXPECT_DOUBLE_EQ(values.at("pressure.io.some_stall_pct"), 0.0);  // the same tree twice
  EXPECT_DOUBLE_EQ(values.at("vm.oom_kills"), 3.0);
  EXPECT_DOUBLE_EQ(values.at("tcp.established"), 48213.0);
  EXPECT_DOUBLE_EQ(values.at("tcp.time_wait"), 18342.0);
  EXPECT_DOUBLE_EQ(values.at("sockets.used"), 61234.0);
  EXPECT_DOUBLE_EQ(values.at("files.open"), 412340.0);
  EXPECT_DOUBLE_EQ(values.at("files.used_pct"), 0.0);  // of an unlimited maximum
}

}  // namespace
}  // namespace hostpulse
