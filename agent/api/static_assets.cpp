#include "agent/api/static_assets.hpp"

#include <charconv>
#include <string>

#include "agent/api/header_values.hpp"
#include "agent/api/rest_api.hpp"

namespace hostpulse {
namespace {

using header_values::for_each_list_item;
using header_values::iequals;
using header_values::quality;
using header_values::trim;

// The representation's tag: the gzip body is a different sequence of bytes,
// so it gets its own strong validator.
std::string gzip_etag(std::string_view etag) {
  if (etag.size() < 2) return {};
  return std::string(etag.substr(0, etag.size() - 1)) + "-gzip\"";
}

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// Security headers for the page itself: scripts, styles and connections only
// from the agent (the stream included: 'self' covers ws:// to the same host).
constexpr std::string_view kPagePolicy =
    "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q;
  std::optional<double> any_q;
  for_each_list_item(accept_encoding, [&](std::string_view item) {
    const std::size_t semicolon = item.find(';');
    const std::string_view coding = trim(item.substr(0, semicolon));
    const double q = semicolon == std::string_view::npos ? 1.0 : quality(item.substr(semicolon + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip_q = q;
    if (coding == "*") any_q = q;
  });
  if (gzip_q) return *gzip_q > 0;
  return any_q && *any_q > 0;
}

bool etag_matches(std::string_view if_none_match, std::initializer_list<std::string_view> etags) {
  bool matched = false;
  for_each_list_item(if_none_match, [&](std::string_view item) {
    if (item == "*") {
      matched = true;
      return;
    }
    if (item.size() > 2 && item.substr(0, 2) == "W/") item.remove_prefix(2);
    for (std::string_view etag : etags) matched = matched || (!etag.empty() && item == etag);
  });
  return matched;
}

std::optional<HttpResponse> serve_embedded_asset(std::span<const EmbeddedAsset> assets, const HttpRequest& request,
                                                 std::string_view path) {
  const std::string_view asset_path = path == "/" ? std::string_view("/index.html") : path;
  const EmbeddedAsset* found = nullptr;
  for (const EmbeddedAsset& asset : assets) {
    if (asset.path == asset_path) found = &asset;
  }
  if (found == nullptr) return std::nullopt;
  const EmbeddedAsset& asset = *found;

  HttpResponse response;
  if (request.method != "GET" && request.method != "HEAD") {
    response = json_error(405, "method " + std::string(request.method) + " not allowed on " + std::string(path));
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  const bool gzip = !asset.gzip_bytes.empty() && accepts_gzip(request.accept_encoding);
  const std::string etag = asset.etag.empty() ? std::string() : gzip ? gzip_etag(asset.etag) : std::string(asset.etag);

  response.content_type = std::string(asset.content_type);
  response.headers.emplace_back("Cache-Control", asset.immutable ? kImmutable : std::string_view("no-cache"));
  if (!etag.empty()) response.headers.emplace_back("ETag", etag);
  if (!asset.gzip_bytes.empty()) response.headers.emplace_back("Vary", "Accept-Encoding");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Scripts are public and meant for other pages too (hostpulse-client.js):
  // a module imported cross-origin is fetched with CORS.
  if (asset.content_type.starts_with("text/javascript")) response.headers.emplace_back("Access-Control-Allow-Origin", "*");
  if (asset.content_type.starts_with("text/html")) {
    response.headers.emplace_back("Content-Security-Policy", kPagePolicy);
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  // Either representation's tag proves the client holds this content.
  if (!asset.etag.empty() && !request.if_none_match.empty() &&
      etag_matches(request.if_none_match, {asset.etag, gzip_etag(asset.etag)})) {
    response.status = 304;
    return response;
  }
  if (gzip) response.headers.emplace_back("Content-Encoding", "gzip");
  response.static_body = gzip ? asset.gzip_bytes : asset.bytes;
  return response;
}

}  // namespace hostpulse
