#include "agent/api/static_assets.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "agent/api/rest_api.hpp"
#include "tests/support/platform_schema.hpp"

namespace hostpulse {
namespace {

std::optional<std::string> header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

TEST(AcceptsGzip, ReadsCodingsAndQualities) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br, zstd"));  // Chromium
  EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, *;q=0.1"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000, *"));  // an explicit refusal wins over *
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=nope"));
  EXPECT_FALSE(accepts_gzip("gzip;q=2"));
  EXPECT_FALSE(accepts_gzip("gzipped"));
}

TEST(EtagMatches, ListsWeakTagsAndStar) {
  EXPECT_TRUE(etag_matches("\"abc\"", {"\"abc\""}));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", {"\"abc\""}));
  EXPECT_TRUE(etag_matches("W/\"abc\"", {"\"abc\""}));
  EXPECT_TRUE(etag_matches("*", {"\"abc\""}));
  EXPECT_TRUE(etag_matches("\"abc-gzip\"", {"\"abc\"", "\"abc-gzip\""}));
  EXPECT_FALSE(etag_matches("\"abd\"", {"\"abc\""}));
  EXPECT_FALSE(etag_matches("abc", {"\"abc\""}));
  EXPECT_FALSE(etag_matches("", {"\"abc\""}));
  EXPECT_FALSE(etag_matches("\"\"", {""}));
}

// Assets as the build generates them: a page at its stable path only, a
// script at its stable path and its content-hash path, both with gzip bytes.
struct StaticAssetsFixture : ::testing::Test {
  static constexpr std::string_view kPage = "<html>page</html>";
  static constexpr std::string_view kPageGzip = "GZ-page";
  static constexpr std::string_view kScript = "console.log(1)";
  static constexpr std::string_view kScriptGzip = "GZ-script";
  static constexpr EmbeddedAsset kAssets[] = {
      {"/index.html", "text/html; charset=utf-8", kPage, kPageGzip, "\"p1\"", false},
      {"/app.js", "text/javascript; charset=utf-8", kScript, kScriptGzip, "\"s1\"", false},
      {"/assets/app.s1.js", "text/javascript; charset=utf-8", kScript, kScriptGzip, "\"s1\"", true},
      {"/plain.txt", "text/plain; charset=utf-8", "plain"},  // no gzip, no ETag
  };

  const std::vector<std::uint32_t> cpus{0};
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema(cpus);
  const Schema& schema = *schema_snapshot;
  History history{schema_snapshot->size(), 4};
  RestApi api{RestApiSources{[this] { return schema_snapshot; }, history, AgentIdentity{"9.9.9", "box", "Linux 6.1", 1000},
                             std::chrono::milliseconds(500), [] { return SamplerStats{}; }, {}, kAssets}};

  HttpResponse get(std::string_view target, std::string_view accept_encoding = {}, std::string_view if_none_match = {},
                   std::string_view method = "GET") const {
    return api.handle(HttpRequest{method, target, {}, {}, accept_encoding, if_none_match});
  }
};

TEST_F(StaticAssetsFixture, StablePathIsRevalidatedWithAnEtag) {
  const HttpResponse r = get("/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), kPage);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(r, "ETag"), "\"p1\"");
  EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header(r, "Content-Encoding"), std::nullopt);
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  ASSERT_TRUE(header(r, "Content-Security-Policy").has_value());
  EXPECT_NE(header(r, "Content-Security-Policy")->find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(get("/index.html").payload(), kPage);
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), std::nullopt);
  // Scripts get no page policy, and other origins may import them.
  EXPECT_EQ(header(get("/app.js"), "Content-Security-Policy"), std::nullopt);
  EXPECT_EQ(header(get("/app.js"), "Access-Control-Allow-Origin"), "*");
}

TEST_F(StaticAssetsFixture, FingerprintedPathIsImmutable) {
  const HttpResponse r = get("/assets/app.s1.js");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), kScript);
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(r, "ETag"), "\"s1\"");
  EXPECT_EQ(header(get("/app.js"), "Cache-Control"), "no-cache");
}

TEST_F(StaticAssetsFixture, GzipWhenAcceptedIdentityOtherwise) {
  HttpResponse r = get("/app.js", "gzip, deflate, br");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), kScriptGzip);
  EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header(r, "ETag"), "\"s1-gzip\"");  // another representation, another tag
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");

  r = get("/app.js", "gzip;q=0, br");
  EXPECT_EQ(r.payload(), kScript);
  EXPECT_EQ(header(r, "Content-Encoding"), std::nullopt);
  EXPECT_EQ(header(r, "ETag"), "\"s1\"");

  // No compressed form: identity, and no Vary.
  r = get("/plain.txt", "gzip");
  EXPECT_EQ(r.payload(), "plain");
  EXPECT_EQ(header(r, "Content-Encoding"), std::nullopt);
  EXPECT_EQ(header(r, "Vary"), std::nullopt);
  EXPECT_EQ(header(r, "ETag"), std::nullopt);
}

TEST_F(StaticAssetsFixture, IfNoneMatchAnswers304) {
  HttpResponse r = get("/app.js", {}, "\"s1\"");
  EXPECT_EQ(r.status, 304u);
  EXPECT_TRUE(r.payload().empty());
  EXPECT_EQ(header(r, "ETag"), "\"s1\"");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(r, "Content-Encoding"), std::nullopt);

  // The gzip tag revalidates too, with either encoding asked for now.
  r = get("/app.js", "gzip", "W/\"s1-gzip\"");
  EXPECT_EQ(r.status, 304u);
  EXPECT_EQ(header(r, "ETag"), "\"s1-gzip\"");
  EXPECT_EQ(get("/", {}, "\"x\", \"p1\"").status, 304u);

  // A stale tag gets the content.
  r = get("/app.js", {}, "\"s0\"");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.payload(), kScript);
  // No ETag on the asset: never 304.
  EXPECT_EQ(get("/plain.txt", {}, "*").status, 200u);
}

TEST_F(StaticAssetsFixture, HeadHasTheHeadersOfGet) {
  const HttpResponse get_response = get("/app.js", "gzip");
  const HttpResponse head = get("/app.js", "gzip", {}, "HEAD");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.headers, get_response.headers);
  // The server sends no body for HEAD but needs the length of GET's.
  EXPECT_EQ(head.payload().size(), kScriptGzip.size());
  EXPECT_EQ(get("/app.js", {}, "\"s1\"", "HEAD").status, 304u);
}

TEST_F(StaticAssetsFixture, UnknownPathsAndMethods) {
  HttpResponse r = get("/nope.js");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(get("/assets/app.s2.js").status, 404u);
  EXPECT_EQ(get("/assets/").status, 404u);
  r = get("/app.js", {}, {}, "POST");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD");
  EXPECT_EQ(get("/", {}, {}, "DELETE").status, 405u);
}

}  // namespace
}  // namespace hostpulse
