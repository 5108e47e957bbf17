#include "agent/pipeline/series_name.hpp"

#include <string>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

TEST(SeriesNameTest, PlainValuesAreKeptAndEverythingElseIsEscaped) {
  EXPECT_EQ(escape_label_value("eth0"), "eth0");
  EXPECT_EQ(escape_label_value("nvme0n1p2"), "nvme0n1p2");
  EXPECT_EQ(escape_label_value("dm-0"), "dm-0");
  EXPECT_EQ(escape_label_value("/var/lib/docker"), "/var/lib/docker");
  EXPECT_EQ(escape_label_value("eth0.100"), "eth0%2E100");
  EXPECT_EQ(escape_label_value("/mnt/my disk"), "/mnt/my%20disk");
  EXPECT_EQ(escape_label_value("*"), "%2A");
  EXPECT_EQ(escape_label_value("100%"), "100%25");
  EXPECT_EQ(escape_label_value("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(escape_label_value(std::string("a\0b\n", 4)), "a%00b%0A");
}

TEST(SeriesNameTest, UnescapingGivesTheValueBack) {
  for (const std::string& value : {std::string("eth0.100"), std::string("/mnt/my disk"), std::string("{\"x\"}"),
                                  std::string("caf\xc3\xa9"), std::string("\x01\xff", 2), std::string("%2E")}) {
    std::string back;
    ASSERT_TRUE(unescape_label_value(escape_label_value(value), back).ok()) << value;
    EXPECT_EQ(back, value);
  }
}

TEST(SeriesNameTest, MalformedEscapesAreRejected) {
  std::string value;
  EXPECT_FALSE(unescape_label_value("%2", value).ok());
  EXPECT_FALSE(unescape_label_value("%zz", value).ok());
  EXPECT_FALSE(unescape_label_value("%2e", value).ok()) << "one spelling per name: upper-case hex only";
  EXPECT_FALSE(unescape_label_value("a.b", value).ok()) << "a dot must be escaped";
  EXPECT_TRUE(unescape_label_value("", value).ok());
}

TEST(SeriesNameTest, TemplatesSplitAtTheirPlaceholder) {
  SeriesTemplate parts;
  ASSERT_TRUE(parse_series_template("cpu.{cpu}.busy_pct", parts).ok());
  EXPECT_EQ(parts.prefix, "cpu.");
  EXPECT_EQ(parts.label, "cpu");
  EXPECT_EQ(parts.suffix, ".busy_pct");
  EXPECT_EQ(series_family(parts), "cpu.busy_pct");
  EXPECT_EQ(series_name(parts, "eth0.1"), "cpu.eth0%2E1.busy_pct");

  ASSERT_TRUE(parse_series_template("{disk}.reads", parts).ok());
  EXPECT_EQ(series_family(parts), "reads");
  ASSERT_TRUE(parse_series_template("fs.{mount}", parts).ok());
  EXPECT_EQ(series_family(parts), "fs");
  ASSERT_TRUE(parse_series_template("mem.used_bytes", parts).ok());
  EXPECT_FALSE(parts.per_entity());
  EXPECT_EQ(series_family(parts), "mem.used_bytes");
  EXPECT_EQ(series_name(parts, "ignored"), "mem.used_bytes");
}

TEST(SeriesNameTest, AmbiguousTemplatesAreRejected) {
  SeriesTemplate parts;
  EXPECT_FALSE(parse_series_template("a.{x}.{y}", parts).ok());
  EXPECT_FALSE(parse_series_template("a.{x", parts).ok());
  EXPECT_FALSE(parse_series_template("a.x}", parts).ok());
  EXPECT_FALSE(parse_series_template("a.{}.b", parts).ok());
  EXPECT_FALSE(parse_series_template("a{x}.b", parts).ok());
  EXPECT_FALSE(parse_series_template("{x}", parts).ok());
}

}  // namespace
}  // namespace hostpulse
