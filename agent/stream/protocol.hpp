#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent/pipeline/series_selector.hpp"
#include "agent/stream/frame_encoder.hpp"

namespace hostpulse {

// Version of the stream protocol in docs/protocol.md; sent in "hello".
inline constexpr int kStreamProtocolVersion = 2;

// Limits on what a client may ask for, each with its reason.
inline constexpr std::size_t kMaxSeriesPatterns = 256;     // more is a mistake, not a use
inline constexpr std::size_t kMaxPatternLength = 256;      // longest series names are ~30 chars
inline constexpr std::uint32_t kMaxBatchSamples = 1000;    // ~17 min at 1 Hz in one frame
inline constexpr std::chrono::milliseconds kMaxBatchDelay{60'000};
inline constexpr std::uint32_t kMaxEvery = 3600;           // one sample an hour at 1 Hz
inline constexpr std::size_t kMaxRequestIdLength = 64;
inline constexpr int kMaxJsonDepth = 8;                     // our messages nest 2 deep

struct BatchSettings {
  std::uint32_t max_samples = 1;                // send when this many samples are waiting...
  std::chrono::milliseconds max_delay{0};       // ...or the oldest has waited this long
  bool operator==(const BatchSettings&) const = default;
};

// "id" of a request, echoed verbatim (as JSON) in the reply; empty when absent.
using RequestId = std::string;

struct SubscribeRequest {
  RequestId id;
  // Names, * globs and family+label matchers; the subscription follows
  // series that appear later and match.
  std::vector<SeriesSelector> series;
  StreamFormat format = StreamFormat::json;
  BatchSettings batch;
  std::uint32_t every = 1;                   // decimation: samples whose seq is a multiple of every
  std::optional<std::uint64_t> resume_from;  // send retained points after this seq first
  std::optional<bool> alerts;                // alert events on this connection (default on)
};

struct UnsubscribeRequest {
  RequestId id;
  std::uint32_t subscription = 0;
};

struct HistoryRequest {
  RequestId id;
  std::vector<SeriesSelector> series;
  std::optional<std::uint64_t> since_seq;
  std::optional<std::chrono::milliseconds> last;
};

struct PingRequest {
  RequestId id;
};

// Machine-readable error codes sent in {"type":"error","code":...}.
namespace error_code {
inline constexpr std::string_view bad_json = "bad_json";
inline constexpr std::string_view bad_message = "bad_message";
inline constexpr std::string_view unknown_type = "unknown_type";
inline constexpr std::string_view bad_field = "bad_field";
inline constexpr std::string_view unknown_series = "unknown_series";
inline constexpr std::string_view unknown_subscription = "unknown_subscription";
inline constexpr std::string_view duplicate_subscription = "duplicate_subscription";
inline constexpr std::string_view too_many_subscriptions = "too_many_subscriptions";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view binary_not_accepted = "binary_not_accepted";
// A reply that would not fit the connection's send queue now: read what was sent, then ask again.
inline constexpr std::string_view busy = "busy";
}  // namespace error_code

struct ProtocolError {
  RequestId id;
  std::string_view code;
  std::string message;
};

using ClientMessage = std::variant<SubscribeRequest, UnsubscribeRequest, HistoryRequest, PingRequest, ProtocolError>;

// Parses one text frame from a client. Never throws; anything wrong is a
// ProtocolError naming the field. Unknown fields are errors too, so a typo
// like "max_sample" is reported instead of silently ignored.
ClientMessage parse_client_message(std::string_view text);

}  // namespace hostpulse
