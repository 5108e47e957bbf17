#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "agent/api/embedded_assets.hpp"
#include "agent/api/http_types.hpp"

namespace hostpulse {

// Whether an Accept-Encoding header lets us answer with gzip: "gzip" or "*"
// listed with a non-zero q (an explicit "gzip;q=0" wins over "*").
[[nodiscard]] bool accepts_gzip(std::string_view accept_encoding);

// Whether an If-None-Match header matches one of the given entity tags
// ("*", or a comma-separated list; weak comparison, as RFC 9110 asks for).
[[nodiscard]] bool etag_matches(std::string_view if_none_match, std::initializer_list<std::string_view> etags);

// Serves the embedded asset at `path` ("/" is "/index.html"), or nullopt when
// there is none. Content-hash paths are cached for a year (immutable); stable
// paths are revalidated (no-cache + ETag, 304 on If-None-Match); gzip when
// the client accepts it, with Vary: Accept-Encoding.
[[nodiscard]] std::optional<HttpResponse> serve_embedded_asset(std::span<const EmbeddedAsset> assets,
                                                               const HttpRequest& request, std::string_view path);

}  // namespace hostpulse
