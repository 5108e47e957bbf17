#include "agent/net/url.hpp"

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

}  // namespace
}  // namespace hostpulse
