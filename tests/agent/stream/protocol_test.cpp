#include "agent/stream/protocol.hpp"

#include <string>
#include <variant>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;

template <typename T>
T parsed_as(std::string_view text) {
  const ClientMessage message = parse_client_message(text);
  if (const auto* error = std::get_if<ProtocolError>(&message)) {
    ADD_FAILURE() << text << " -> error " << error->code << ": " << error->message;
    return T{};
  }
  if (!std::holds_alternative<T>(message)) {
    ADD_FAILURE() << text << " -> another message type (index " << message.index() << ")";
    return T{};
  }
  return std::get<T>(message);
}

ProtocolError error_of(std::string_view text) {
  const ClientMessage message = parse_client_message(text);
  if (const auto* error = std::get_if<ProtocolError>(&message)) return *error;
  ADD_FAILURE() << text << " -> accepted (index " << message.index() << ")";
  return ProtocolError{};
}

std::string nested(int depth, std::string_view open, std::string_view close, std::string_view inner) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += open;
  text += inner;
  for (int i = 0; i < depth; ++i) text += close;
  return text;
}

TEST(ProtocolTest, SubscribeDefaults) {
  const auto request = parsed_as<SubscribeRequest>(R"({"type":"subscribe"})");
  EXPECT_EQ(request.id, "");
  EXPECT_EQ(request.series, selectors_from_patterns(std::vector<std::string>{"*"}));
  EXPECT_EQ(request.format, StreamFormat::json);
  EXPECT_EQ(request.batch.max_samples, 1u);
  EXPECT_EQ(request.batch.max_delay, 0ms);
  EXPECT_EQ(request.every, 1u);
  EXPECT_FALSE(request.resume_from.has_value());
  EXPECT_FALSE(request.alerts.has_value());
}

TEST(ProtocolTest, SubscribeAlertsFlag) {
  EXPECT_EQ(parsed_as<SubscribeRequest>(R"({"type":"subscribe","alerts":false})").alerts, std::optional<bool>(false));
  EXPECT_EQ(parsed_as<SubscribeRequest>(R"({"type":"subscribe","alerts":true})").alerts, std::optional<bool>(true));
}

TEST(ProtocolTest, SubscribeWithEveryField) {
  const auto request = parsed_as<SubscribeRequest>(
      R"({"type":"subscribe","id":"cpu-chart","series":["cpu.*","mem.used_bytes"],"format":"msgpack",
          "batch":{"max_samples":10,"max_delay_ms":2000},"every":5,"resume_from":1200})");
  EXPECT_EQ(request.id, R"("cpu-chart")");
  EXPECT_EQ(request.series, selectors_from_patterns(std::vector<std::string>{"cpu.*", "mem.used_bytes"}));
  EXPECT_EQ(request.format, StreamFormat::msgpack);
  EXPECT_EQ(request.batch.max_samples, 10u);
  EXPECT_EQ(request.batch.max_delay, 2000ms);
  EXPECT_EQ(request.every, 5u);
  ASSERT_TRUE(request.resume_from.has_value());
  EXPECT_EQ(*request.resume_from, 1200u);
}

TEST(ProtocolTest, SubscribeLimitsAreInclusive) {
  auto request = parsed_as<SubscribeRequest>(
      R"({"type":"subscribe","batch":{"max_samples":1000,"max_delay_ms":60000},"every":3600,"resume_from":18446744073709551615})");
  EXPECT_EQ(request.batch.max_samples, kMaxBatchSamples);
  EXPECT_EQ(request.batch.max_delay, kMaxBatchDelay);
  EXPECT_EQ(request.every, kMaxEvery);
  EXPECT_EQ(request.resume_from, std::optional<std::uint64_t>(UINT64_MAX));
  request = parsed_as<SubscribeRequest>(R"({"type":"subscribe","batch":{"max_samples":1,"max_delay_ms":0},"every":1,"resume_from":0})");
  EXPECT_EQ(request.batch.max_samples, 1u);
  EXPECT_EQ(request.resume_from, std::optional<std::uint64_t>(0));
  // Only one batch field given: the other keeps its default.
  request = parsed_as<SubscribeRequest>(R"({"type":"subscribe","batch":{"max_delay_ms":250}})");
  EXPECT_EQ(request.batch.max_samples, 1u);
  EXPECT_EQ(request.batch.max_delay, 250ms);
  request = parsed_as<SubscribeRequest>(R"({"type":"subscribe","batch":{}})");
  EXPECT_EQ(request.batch, BatchSettings{});
}

TEST(ProtocolTest, SeriesAsStringAndAtTheLimits) {
  EXPECT_EQ(parsed_as<SubscribeRequest>(R"({"type":"subscribe","series":"load.1m"})").series,
            selectors_from_patterns(std::vector<std::string>{"load.1m"}));
  // 256 entries of 256 characters each are accepted.
  std::string text = R"({"type":"subscribe","series":[)";
  const std::string longest(kMaxPatternLength, 'a');
  for (std::size_t i = 0; i < kMaxSeriesPatterns; ++i) text += (i ? ",\"" : "\"") + longest + "\"";
  text += "]}";
  const auto request = parsed_as<SubscribeRequest>(text);
  EXPECT_EQ(request.series.size(), kMaxSeriesPatterns);
  EXPECT_EQ(request.series.back().pattern, longest);
  // Brackets inside strings do not count towards the depth limit.
  EXPECT_EQ(parsed_as<SubscribeRequest>(R"({"type":"subscribe","series":["[[[[[[[[[[{{{{{{{{{{\"[["]})").series,
            selectors_from_patterns(std::vector<std::string>{"[[[[[[[[[[{{{{{{{{{{\"[["}));
}

TEST(ProtocolTest, RequestIdIsEchoedAsRawJson) {
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":42})").id, "42");
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":-7})").id, "-7");
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":"a\"b"})").id, R"("a\"b")");
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":""})").id, R"("")");
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping"})").id, "");
  const std::string longest(kMaxRequestIdLength, 'i');
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":")" + longest + "\"}").id, "\"" + longest + "\"");
  // Errors echo the id too, so a client can match them to its request.
  const ProtocolError error = error_of(R"({"type":"subscribe","id":"req-1","every":0})");
  EXPECT_EQ(error.id, R"("req-1")");
  EXPECT_EQ(error_of(R"({"id":9,"type":"nope"})").id, "9");
}

TEST(ProtocolTest, Unsubscribe) {
  const auto request = parsed_as<UnsubscribeRequest>(R"({"type":"unsubscribe","id":1,"sub":3})");
  EXPECT_EQ(request.id, "1");
  EXPECT_EQ(request.subscription, 3u);
  EXPECT_EQ(parsed_as<UnsubscribeRequest>(R"({"type":"unsubscribe","sub":4294967295})").subscription, 4294967295u);
}

TEST(ProtocolTest, SubscribeByFamilyAndLabels) {
  const auto request = parsed_as<SubscribeRequest>(
      R"({"type":"subscribe","series":["load.1m",{"family":"cpu.busy_pct","labels":{"cpu":"1*"}}]})");
  ASSERT_EQ(request.series.size(), 2u);
  EXPECT_EQ(request.series[0].pattern, "load.1m");
  EXPECT_EQ(request.series[1].family, "cpu.busy_pct");
  EXPECT_EQ(request.series[1].labels, (std::vector<SeriesLabel>{{"cpu", "1*"}}));
  const auto single = parsed_as<SubscribeRequest>(R"({"type":"subscribe","series":{"family":"mem.*"}})");
  ASSERT_EQ(single.series.size(), 1u);
  EXPECT_EQ(single.series[0].family, "mem.*");
}

TEST(ProtocolTest, History) {
  auto request = parsed_as<HistoryRequest>(R"({"type":"history","id":"h","series":["load.*"],"last":"5m"})");
  EXPECT_EQ(request.id, R"("h")");
  EXPECT_EQ(request.series, selectors_from_patterns(std::vector<std::string>{"load.*"}));
  EXPECT_EQ(request.last, std::optional<std::chrono::milliseconds>(300'000ms));
  EXPECT_FALSE(request.since_seq.has_value());
  request = parsed_as<HistoryRequest>(R"({"type":"history","series":"load.1m","since_seq":17})");
  EXPECT_EQ(request.since_seq, std::optional<std::uint64_t>(17));
  EXPECT_FALSE(request.last.has_value());
  request = parsed_as<HistoryRequest>(R"({"type":"history","series":"load.1m"})");
  EXPECT_FALSE(request.since_seq.has_value());
  EXPECT_FALSE(request.last.has_value());
}

TEST(ProtocolTest, Ping) {
  EXPECT_EQ(parsed_as<PingRequest>(R"({"type":"ping","id":"p1"})").id, R"("p1")");
  // Key order does not matter.
  EXPECT_EQ(parsed_as<PingRequest>(R"({"id":"p2","type":"ping"})").id, R"("p2")");
}

TEST(ProtocolTest, DepthLimit) {
  // The object itself is level 1: 8 levels pass the pre-check.
  const std::string deepest = R"({"type":"subscribe","series":)" + nested(kMaxJsonDepth - 1, "[", "]", "") + "}";
  const ProtocolError at_limit = error_of(deepest);
  EXPECT_EQ(at_limit.code, error_code::bad_field) << at_limit.message;  // parsed, then refused as a bad series
  const std::string too_deep = R"({"type":"subscribe","series":)" + nested(kMaxJsonDepth, "[", "]", "") + "}";
  const ProtocolError error = error_of(too_deep);
  EXPECT_EQ(error.code, error_code::bad_json);
  EXPECT_EQ(error.message, "message nested deeper than 8 levels");
  // A hostile prefix never reaches the parser.
  const ProtocolError hostile = error_of(std::string(100'000, '['));
  EXPECT_EQ(hostile.code, error_code::bad_json);
  EXPECT_EQ(hostile.message, "message nested deeper than 8 levels");
  EXPECT_EQ(error_of(nested(9, "{\"a\":", "}", "1")).code, error_code::bad_json);
}

TEST(ProtocolTest, ErrorsNameTheProblem) {
  struct Case { const char* text; std::string_view code; const char* message; };
  const Case cases[] = {
      {"", error_code::bad_json, "message is not valid JSON"},
      {"{", error_code::bad_json, "message is not valid JSON"},
      {"{\"type\":\"ping\"} x", error_code::bad_json, "message is not valid JSON"},
      {"{\"type\":\"ping\",\"id\":\"\xff\"}", error_code::bad_json, "message is not valid JSON"},
      {"[]", error_code::bad_message, "message must be a JSON object with a \"type\""},
      {"\"ping\"", error_code::bad_message, "message must be a JSON object"},
      {"{}", error_code::bad_message, "missing \"type\" (subscribe, unsubscribe, history or ping)"},
      {R"({"type":3})", error_code::bad_message, "missing \"type\""},
      {R"({"type":"Subscribe"})", error_code::unknown_type, "unknown message type 'Subscribe' (subscribe, unsubscribe, history or ping)"},
      {R"({"type":"ping","id":1.5})", error_code::bad_field, "id: must be a string of at most 64 characters or an integer"},
      {R"({"type":"ping","id":null})", error_code::bad_field, "id: must be a string"},
      {R"({"type":"ping","id":["a"]})", error_code::bad_field, "id: must be a string"},
      {R"({"type":"ping","extra":1})", error_code::bad_field, "unknown field 'extra' (allowed: type, id)"},
      {R"({"type":"subscribe","max_sample":5})", error_code::bad_field,
       "unknown field 'max_sample' (allowed: type, id, series, format, batch, every, resume_from, alerts)"},
      {R"({"type":"subscribe","alerts":"yes"})", error_code::bad_field, "alerts: expected true or false"},
      {R"({"type":"subscribe","alerts":1})", error_code::bad_field, "alerts: expected true or false"},
      {R"({"type":"subscribe","series":[]})", error_code::bad_field, "series: must not be empty"},
      {R"({"type":"subscribe","series":[""]})", error_code::bad_field, "series: names must be 1 to 256 characters"},
      {R"({"type":"subscribe","series":""})", error_code::bad_field, "series: names must be 1 to 256 characters"},
      {R"({"type":"subscribe","series":[1]})", error_code::bad_field, "series: entries must be names, globs or"},
      {R"({"type":"subscribe","series":{"a":1}})", error_code::bad_field, "series: unknown field 'a' in a matcher"},
      {R"({"type":"subscribe","series":[{"labels":{"cpu":"1"}}]})", error_code::bad_field, "series: a matcher needs a non-empty family"},
      {R"({"type":"subscribe","series":[{"family":"cpu.busy_pct","labels":["cpu"]}]})", error_code::bad_field,
       "series: labels must be an object"},
      {R"({"type":"subscribe","series":[{"family":"cpu.busy_pct","labels":{"cpu":3}}]})", error_code::bad_field,
       "series: label 'cpu' must be a string"},
      {R"({"type":"subscribe","series":7})", error_code::bad_field, "series: expected an array of names, globs or matchers"},
      {R"({"type":"subscribe","series":7})", error_code::bad_field, "series: expected an array"},
      {R"({"type":"subscribe","format":"xml"})", error_code::bad_field, "format: must be \"json\" or \"msgpack\""},
      {R"({"type":"subscribe","format":1})", error_code::bad_field, "format: must be"},
      {R"({"type":"subscribe","batch":5})", error_code::bad_field, "batch: expected an object {max_samples, max_delay_ms}"},
      {R"({"type":"subscribe","batch":{"max_sample":5}})", error_code::bad_field,
       "batch: unknown field 'max_sample' (allowed: max_samples, max_delay_ms)"},
      {R"({"type":"subscribe","batch":{"max_samples":0}})", error_code::bad_field,
       "batch.max_samples: must be between 1 and 1000 (got 0)"},
      {R"({"type":"subscribe","batch":{"max_samples":1001}})", error_code::bad_field,
       "batch.max_samples: must be between 1 and 1000 (got 1001)"},
      {R"({"type":"subscribe","batch":{"max_samples":-1}})", error_code::bad_field,
       "batch.max_samples: expected a non-negative integer"},
      {R"({"type":"subscribe","batch":{"max_samples":2.5}})", error_code::bad_field,
       "batch.max_samples: expected a non-negative integer"},
      {R"({"type":"subscribe","batch":{"max_samples":"5"}})", error_code::bad_field,
       "batch.max_samples: expected a non-negative integer"},
      {R"({"type":"subscribe","batch":{"max_delay_ms":60001}})", error_code::bad_field,
       "batch.max_delay_ms: must be between 0 and 60000 (got 60001)"},
      {R"({"type":"subscribe","every":0})", error_code::bad_field, "every: must be between 1 and 3600 (got 0)"},
      {R"({"type":"subscribe","every":3601})", error_code::bad_field, "every: must be between 1 and 3600 (got 3601)"},
      {R"({"type":"subscribe","every":true})", error_code::bad_field, "every: expected a non-negative integer"},
      {R"({"type":"subscribe","resume_from":-1})", error_code::bad_field, "resume_from: expected a non-negative integer"},
      {R"({"type":"subscribe","resume_from":1e3})", error_code::bad_field, "resume_from: expected a non-negative integer"},
      {R"({"type":"subscribe","resume_from":null})", error_code::bad_field, "resume_from: expected a non-negative integer"},
      {R"({"type":"unsubscribe"})", error_code::bad_field, "sub: required (the id from \"subscribed\")"},
      {R"({"type":"unsubscribe","sub":0})", error_code::bad_field, "sub: must be between 1 and 4294967295 (got 0)"},
      {R"({"type":"unsubscribe","sub":4294967296})", error_code::bad_field, "sub: must be between 1 and 4294967295 (got 4294967296)"},
      {R"({"type":"unsubscribe","sub":"1"})", error_code::bad_field, "sub: expected a non-negative integer"},
      {R"({"type":"unsubscribe","sub":1,"series":"x"})", error_code::bad_field, "unknown field 'series' (allowed: type, id, sub)"},
      {R"({"type":"history"})", error_code::bad_field, "series: required (names or globs, e.g. [\"cpu.*\"])"},
      {R"({"type":"history","series":"a","since_seq":1,"last":"5m"})", error_code::bad_field, "give since_seq or last, not both"},
      {R"({"type":"history","series":"a","since_seq":-3})", error_code::bad_field, "since_seq: expected a non-negative integer"},
      {R"({"type":"history","series":"a","last":300})", error_code::bad_field, "last: expected a duration string like \"5m\""},
      {R"({"type":"history","series":"a","last":"soon"})", error_code::bad_field, "last: invalid duration"},
      {R"({"type":"history","series":"a","last":"0s"})", error_code::bad_field, "last: must be longer than 0s"},
      {R"({"type":"history","series":"a","every":2})", error_code::bad_field,
       "unknown field 'every' (allowed: type, id, series, since_seq, last)"},
  };
  for (const Case& c : cases) {
    const ProtocolError error = error_of(c.text);
    EXPECT_EQ(error.code, c.code) << c.text << " -> " << error.message;
    EXPECT_EQ(error.message.rfind(c.message, 0), 0u) << c.text << "\n  got: " << error.message;
  }
}

TEST(ProtocolTest, SizeLimitsOnSeriesAndId) {
  std::string too_many = R"({"type":"subscribe","series":[)";
  for (std::size_t i = 0; i <= kMaxSeriesPatterns; ++i) too_many += i ? ",\"a\"" : "\"a\"";
  too_many += "]}";
  ProtocolError error = error_of(too_many);
  EXPECT_EQ(error.code, error_code::bad_field);
  EXPECT_EQ(error.message, "series: more than 256 entries");

  error = error_of(R"({"type":"subscribe","series":[")" + std::string(kMaxPatternLength + 1, 'a') + "\"]}");
  EXPECT_EQ(error.code, error_code::bad_field);
  EXPECT_EQ(error.message, "series: names must be 1 to 256 characters");

  error = error_of(R"({"type":"ping","id":")" + std::string(kMaxRequestIdLength + 1, 'i') + "\"}");
  EXPECT_EQ(error.code, error_code::bad_field);
  EXPECT_EQ(error.id, "");  // an id we refuse is not echoed
  EXPECT_EQ(error.message, "id: must be a string of at most 64 characters or an integer");
}

TEST(ProtocolTest, UnknownTypeNameIsCutShort) {
  const std::string name(1000, 't');
  const ProtocolError error = error_of(R"({"type":")" + name + "\"}");
  EXPECT_EQ(error.code, error_code::unknown_type);
  EXPECT_EQ(error.message, "unknown message type '" + std::string(64, 't') + "' (subscribe, unsubscribe, history or ping)");
}

TEST(ProtocolTest, ErrorsComeBeforeLaterFieldsAreRead) {
  // The first unknown field is reported even when a later field is also wrong.
  const ProtocolError error = error_of(R"({"type":"subscribe","every":0,"bogus":1})");
  EXPECT_EQ(error.code, error_code::bad_field);
  EXPECT_EQ(error.message.rfind("unknown field 'bogus'", 0), 0u) << error.message;
}

}  // namespace
}  // namespace hostpulse
