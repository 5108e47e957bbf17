#include "agent/api/url.hpp"

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

TEST(RequestTargetTest, SplitsAndDecodes) {
  RequestTarget target;
  ASSERT_TRUE(parse_request_target("/api/v1/history?series=cpu.%2A,load.1m&last=5m&x=a+b", target).ok());
  EXPECT_EQ(target.path, "/api/v1/history");
  ASSERT_EQ(target.query.size(), 3u);
  EXPECT_EQ(*target.parameter("series"), "cpu.*,load.1m");
  EXPECT_EQ(*target.parameter("last"), "5m");
  EXPECT_EQ(*target.parameter("x"), "a b");
  EXPECT_EQ(target.parameter("nope"), nullptr);
}

TEST(RequestTargetTest, EdgeCases) {
  RequestTarget target;
  ASSERT_TRUE(parse_request_target("/", target).ok());
  EXPECT_EQ(target.path, "/");
  EXPECT_TRUE(target.query.empty());
  ASSERT_TRUE(parse_request_target("/a?", target).ok());
  EXPECT_TRUE(target.query.empty());
  ASSERT_TRUE(parse_request_target("/a?&&flag&", target).ok());
  ASSERT_EQ(target.query.size(), 1u);
  EXPECT_EQ(*target.parameter("flag"), "");
  ASSERT_TRUE(parse_request_target("/a?k=v#frag", target).ok());
  EXPECT_EQ(*target.parameter("k"), "v");
}

TEST(RequestTargetTest, RejectsBadInput) {
  RequestTarget target;
  const char* bad[] = {"",          "api",          "/a%",     "/a%4",      "/a%zz",
                       "/a?x=%G1",  "/a?x=%00",     "/a%00b",  "/a?x=1&x=2"};
  for (const char* text : bad) EXPECT_FALSE(parse_request_target(text, target).ok()) << text;
  std::string many = "/a?";
  for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + "=1&";
  const Status status = parse_request_target(many, target);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("more than"), std::string::npos);
}

// Decoded names and values reach JSON replies and logs: they must be UTF-8.
TEST(RequestTargetTest, RejectsInvalidUtf8AfterDecoding) {
  RequestTarget target;
  for (const char* text : {"/%ff", "/api/v1/snapshot?series=%ff", "/a?%c3=1", "/a?x=%c3%28", "/a?x=%ed%a0%80",
                           "/a?x=%f4%90%80%80", "/a?x=%c0%af", "/a\xff"}) {
    const Status status = parse_request_target(text, target);
    ASSERT_FALSE(status.ok()) << text;
    EXPECT_NE(status.error.find("invalid UTF-8"), std::string::npos) << status.error;
  }
  ASSERT_TRUE(parse_request_target("/a?x=%c3%a9%e2%82%ac%f0%9f%98%80", target).ok());
  EXPECT_EQ(*target.parameter("x"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

// Error messages quote what the client sent escaped and capped.
TEST(RequestTargetTest, ErrorsEscapeClientBytes) {
  RequestTarget target;
  Status status = parse_request_target("/a%\xff\xfe", target);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error.find("'%\\xff\\xfe'"), std::string::npos) << status.error;
  status = parse_request_target("/a?" + std::string(5000, 'k') + "=1&" + std::string(5000, 'k') + "=2", target);
  ASSERT_FALSE(status.ok());
  EXPECT_LT(status.error.size(), 200u) << status.error;
}

}  // namespace
}  // namespace hostpulse
