#include "agent/stream/stream_connection.hpp"
#include "tests/support/platform_schema.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/stream/messages.hpp"
#include "agent/stream/stream_service.hpp"

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using Phase = StreamConnection::Phase;

// The socket side, recorded: what the connection asked to write (one write
// at a time, completed only when the test says so), the close it started and
// how often it armed the close deadline. As the hub's subscriber it hands
// frames straight to the connection: the test thread runs the service's
// strand (io.poll()), as the session's strand would run deliver().
class RecordingSession : public StreamSession,
                         public StreamEndpoint,
                         public std::enable_shared_from_this<RecordingSession> {
 public:
  explicit RecordingSession(StreamService& service) : service_(service), connection(service, *this) {}

  void deliver(const OutboundFrame& frame) override { connection.deliver(frame); }
  void close_for_shutdown() override {
    if (!connection.close_for_shutdown()) aborted = true;
  }
  void abort() override { aborted = true; }

  void write(const OutboundFrame& frame) override {
    EXPECT_FALSE(writing) << "a second write while one is under way";
    EXPECT_FALSE(close.has_value()) << "a write after the close frame";
    writing = true;
    written.push_back(frame);
  }
  void close_decided() override { ++close_deadlines; }
  void send_close(std::uint16_t code, std::string_view reason) override {
    EXPECT_FALSE(close.has_value()) << "a second close frame";
    close = std::pair{code, std::string(reason)};
  }
  void subscribe(SubscribeRequest request) override { service_.subscribe(shared_from_this(), std::move(request)); }
  void unsubscribe(UnsubscribeRequest request) override {
    service_.unsubscribe(shared_from_this(), std::move(request));
  }

  // The write under way is out, as the socket reports it.
  bool complete_write() {
    if (!writing) return false;
    writing = false;
    connection.on_write_done(written.back().bytes->size());
    return true;
  }
  // A client that reads everything.
  void drain() {
    while (complete_write()) {
    }
  }

  [[nodiscard]] json message(std::size_t i) const { return json::parse(*written.at(i).bytes); }
  [[nodiscard]] json last() const { return json::parse(*written.back().bytes); }
  [[nodiscard]] std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const OutboundFrame& frame : written) out.push_back(json::parse(*frame.bytes).value("type", "?"));
    return out;
  }

  void send(std::string_view text, Clock::time_point now) { connection.on_message(text, false, now); }

  StreamService& service_;
  StreamConnection connection;
  std::vector<OutboundFrame> written;
  bool writing = false;
  std::optional<std::pair<std::uint16_t, std::string>> close;
  int close_deadlines = 0;
  bool aborted = false;
};

class StreamConnectionTest : public ::testing::Test {
 protected:
  ~StreamConnectionTest() override {
    // Handlers still posted hold sessions, whose connections use the service.
    run_service();
  }

  // Created on first use, so a test can set the options first.
  StreamService& service() {
    if (!service_) {
      service_ = std::make_unique<StreamService>(io, schema_snapshot, history, hello_info, kStartedTMs, options);
    }
    return *service_;
  }
  std::shared_ptr<RecordingSession> make_session() {
    auto session = std::make_shared<RecordingSession>(service());
    service().attach(session);
    sessions.push_back(session);
    return session;
  }
  // An open connection with hello written, as a reading client has it.
  std::shared_ptr<RecordingSession> open_session() {
    auto session = make_session();
    session->connection.on_open();
    session->drain();
    run_service();
    return session;
  }
  // Runs what was posted to the service's strand (hub requests, broadcasts).
  void run_service() {
    io.restart();
    io.poll();
  }
  void append(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t seq = history.last_seq() + 1;
      const std::vector<double> values(schema.size(), static_cast<double>(seq));
      history.append(static_cast<std::int64_t>(seq) * 1000, values);
    }
  }
  std::size_t hello_bytes() const { return encode_hello(hello_info, schema, kStartedTMs).size(); }
  std::uint64_t closes(std::uint16_t code) {
    const auto& tracked = StreamStats::kTrackedCloseCodes;
    const auto it = std::find(tracked.begin(), tracked.end(), code);
    return service().stats().closes[static_cast<std::size_t>(it - tracked.begin())].load();
  }
  static OutboundFrame frame(FrameKind kind, std::string text) {
    return OutboundFrame{.bytes = std::make_shared<const std::string>(std::move(text)),
                         .binary = false,
                         .kind = kind,
                         .subscription = 0};
  }

  static constexpr std::int64_t kStartedTMs = 1'700'000'000'000;
  boost::asio::io_context io;
  const SchemaSnapshot schema_snapshot = testing_support::platform_schema({0, 1});
  const Schema& schema = *schema_snapshot;
  History history{schema.size(), 1000};
  HelloInfo hello_info{.version = "test", .host = "box", .interval = 1000ms};
  StreamOptions options;
  std::unique_ptr<StreamService> service_;
  std::vector<std::shared_ptr<RecordingSession>> sessions;
  Clock::time_point now = Clock::time_point{} + 1h;
};

TEST_F(StreamConnectionTest, OpenWritesHelloThenTheActiveAlerts) {
  service().set_active_alerts_source([] { return std::string(R"({"type":"alerts","active":[]})"); });
  auto session = make_session();
  EXPECT_EQ(session->connection.phase(), Phase::handshaking);
  EXPECT_TRUE(session->written.empty());
  session->connection.on_open();
  EXPECT_EQ(session->connection.phase(), Phase::open);
  // One write at a time: the alerts wait for hello to be out.
  ASSERT_EQ(session->written.size(), 1u);
  const json hello = session->message(0);
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["protocol"], kStreamProtocolVersion);
  EXPECT_TRUE(hello.contains("families"));
  EXPECT_EQ(session->written[0].kind, FrameKind::control);
  EXPECT_GT(session->connection.queued_bytes(), 0u);
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello", "alerts"}));
  EXPECT_EQ(session->written[1].kind, FrameKind::alert);
  EXPECT_EQ(session->connection.queued_bytes(), 0u);
  EXPECT_EQ(service().stats().frames_sent, 2u);
  EXPECT_EQ(service().stats().bytes_sent, session->written[0].bytes->size() + session->written[1].bytes->size());
}

TEST_F(StreamConnectionTest, SchemaAndAlertFramesBeforeOpenAreDropped) {
  auto session = make_session();
  session->connection.deliver(frame(FrameKind::schema, R"({"type":"schema","version":2})"));
  session->connection.deliver(frame(FrameKind::alert, R"({"type":"alert","state":"firing"})"));
  EXPECT_TRUE(session->written.empty());
  EXPECT_EQ(session->connection.queued_bytes(), 0u);
  session->connection.on_open();
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello"}));
  // After the handshake the same frames go out.
  session->connection.deliver(frame(FrameKind::schema, R"({"type":"schema","version":2})"));
  session->connection.deliver(frame(FrameKind::alert, R"({"type":"alert","state":"firing"})"));
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello", "schema", "alert"}));
}

TEST_F(StreamConnectionTest, PingIsAnsweredWithPong) {
  auto session = open_session();
  session->send(R"({"type":"ping","id":"p1"})", now);
  session->drain();
  const json pong = session->last();
  EXPECT_EQ(pong["type"], "pong");
  EXPECT_EQ(pong["id"], "p1");
  EXPECT_TRUE(pong["t"].is_number_integer()) << pong.dump();
  EXPECT_EQ(service().stats().messages_received, 1u);
}

TEST_F(StreamConnectionTest, SubscribeAndUnsubscribeGoThroughTheHubAndBack) {
  append(3);
  auto session = open_session();
  session->send(R"({"type":"subscribe","id":"s","series":["load.1m"]})", now);
  run_service();
  session->drain();
  const json subscribed = session->last();
  ASSERT_EQ(subscribed["type"], "subscribed") << subscribed.dump();
  EXPECT_EQ(subscribed["id"], "s");
  EXPECT_EQ(subscribed["names"], json::array({"load.1m"}));
  const std::uint32_t sub = subscribed["sub"];

  session->send(R"({"type":"unsubscribe","id":"u","sub":)" + std::to_string(sub) + "}", now);
  run_service();
  session->drain();
  EXPECT_EQ(session->last()["type"], "unsubscribed") << session->last().dump();
  EXPECT_EQ(session->last()["sub"], sub);

  // The hub's errors count toward the connection's like its own.
  session->send(R"({"type":"unsubscribe","id":"again","sub":)" + std::to_string(sub) + "}", now);
  run_service();
  session->drain();
  EXPECT_EQ(session->last()["code"], "unknown_subscription") << session->last().dump();
  EXPECT_EQ(session->connection.errors(), 1u);
  EXPECT_EQ(service().stats().protocol_errors, 1u);
}

TEST_F(StreamConnectionTest, HistoryIsAnsweredFromTheRing) {
  append(5);
  auto session = open_session();
  session->send(R"({"type":"history","id":"h","series":["load.1m"],"since_seq":2})", now);
  session->drain();
  const json reply = session->last();
  ASSERT_EQ(reply["type"], "history") << reply.dump();
  EXPECT_EQ(reply["id"], "h");
  EXPECT_EQ(reply["seq_first"], 3u);
  EXPECT_EQ(reply["seq_last"], 5u);
  EXPECT_EQ(reply["names"], json::array({"load.1m"}));
  EXPECT_EQ(reply["values"], json::parse("[[3.0,4.0,5.0]]"));
  EXPECT_EQ(session->written.back().kind, FrameKind::catch_up);

  session->send(R"({"type":"history","id":"x","series":["no.such_series"]})", now);
  session->drain();
  EXPECT_EQ(session->last()["type"], "error");
  EXPECT_EQ(session->last()["code"], "unknown_series");
  EXPECT_EQ(session->last()["id"], "x");
}

TEST_F(StreamConnectionTest, HistoryOverTheValueCapIsRefused) {
  options.max_history_values = 10;
  append(20);
  auto session = open_session();
  session->send(R"({"type":"history","id":"all","series":["load.1m"]})", now);
  session->drain();
  EXPECT_EQ(session->last()["code"], "bad_field") << session->last().dump();
  session->send(R"({"type":"history","id":"few","series":["load.1m"],"since_seq":15})", now);
  session->drain();
  EXPECT_EQ(session->last()["type"], "history") << session->last().dump();
}

TEST_F(StreamConnectionTest, HistoryThatDoesNotFitTheQueueIsBusy) {
  // Room for hello and a little more: a reply of 200 points of every CPU
  // series does not fit, and the connection stays open.
  options.max_queue_bytes = hello_bytes() + 2048;
  append(200);
  auto session = open_session();
  session->send(R"({"type":"history","id":"big","series":["cpu.*"]})", now);
  session->drain();
  const json error = session->last();
  EXPECT_EQ(error["code"], "busy") << error.dump();
  EXPECT_EQ(error["id"], "big");
  EXPECT_EQ(session->connection.phase(), Phase::open);
  EXPECT_FALSE(session->close.has_value());
}

TEST_F(StreamConnectionTest, ErrorsAreCountedAndPastMaxErrorsTheConnectionClosesAfterSendingThem) {
  options.max_errors = 3;
  auto session = make_session();
  session->connection.on_open();  // hello is being written: the errors queue behind it
  for (int i = 0; i < 3; ++i) session->send("not json", now);
  EXPECT_EQ(session->connection.phase(), Phase::open) << "max_errors errors are tolerated";
  EXPECT_EQ(session->close_deadlines, 0);
  session->send("not json", now);
  EXPECT_EQ(session->connection.phase(), Phase::closing_after_send);
  EXPECT_EQ(session->close_deadlines, 1);
  EXPECT_FALSE(session->close.has_value()) << "the queued errors go first";
  // Requests after the decision are read and ignored.
  session->send(R"({"type":"ping","id":"late"})", now);
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello", "error", "error", "error", "error"}));
  EXPECT_EQ(session->message(1)["code"], "bad_json");
  ASSERT_TRUE(session->close.has_value());
  EXPECT_EQ(session->close->first, close_code::policy);
  EXPECT_EQ(session->close->second, "too many bad requests");
  EXPECT_EQ(session->connection.phase(), Phase::closing);
  EXPECT_FALSE(session->connection.reading());
  EXPECT_EQ(service().stats().protocol_errors, 4u);
  EXPECT_EQ(service().stats().messages_received, 5u);
  EXPECT_EQ(closes(close_code::policy), 1u);
}

TEST_F(StreamConnectionTest, MessagesPastTheRateAreRefusedUntilTokensRefill) {
  options.max_messages_per_second = 2;  // bursts of 4
  auto session = open_session();
  for (int i = 0; i < 5; ++i) session->send(R"({"type":"ping"})", now);
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello", "pong", "pong", "pong", "pong", "error"}));
  EXPECT_EQ(session->last()["code"], "rate_limited");
  // Half a second refills one token.
  now += 500ms;
  session->send(R"({"type":"ping"})", now);
  session->send(R"({"type":"ping"})", now);
  session->drain();
  EXPECT_EQ(session->message(6)["type"], "pong");
  EXPECT_EQ(session->message(7)["code"], "rate_limited");
  EXPECT_EQ(session->connection.errors(), 2u);
}

TEST_F(StreamConnectionTest, BinaryRequestsAreRefused) {
  auto session = open_session();
  session->connection.on_message(R"({"type":"ping"})", true, now);
  session->drain();
  EXPECT_EQ(session->last()["code"], "binary_not_accepted");
}

TEST_F(StreamConnectionTest, QueueOverflowClosesWith1013DroppingWhatWaits) {
  options.max_queue_bytes = hello_bytes() + 4096;
  auto session = open_session();
  session->connection.deliver(frame(FrameKind::control, R"({"type":"first"})"));
  ASSERT_TRUE(session->writing);
  // Frames never dropped pile up behind the one being written.
  const std::string filler = R"({"type":"filler","pad":")" + std::string(1000, 'x') + R"("})";
  for (int i = 0; i < 20 && session->close_deadlines == 0; ++i) {
    session->connection.deliver(frame(FrameKind::catch_up, filler));
  }
  EXPECT_EQ(session->connection.phase(), Phase::closing_after_send);
  EXPECT_EQ(session->close_deadlines, 1);
  EXPECT_FALSE(session->close.has_value()) << "the frame being written finishes first";
  session->drain();
  EXPECT_EQ(session->types(), (std::vector<std::string>{"hello", "first"}));
  ASSERT_TRUE(session->close.has_value());
  EXPECT_EQ(session->close->first, close_code::overloaded);
  EXPECT_EQ(closes(close_code::overloaded), 1u);
  EXPECT_GE(service().stats().frames_dropped, 1u);
}

TEST_F(StreamConnectionTest, AlertsCanBeTurnedOffForOneConnection) {
  auto quiet = open_session();
  auto loud = open_session();
  quiet->send(R"({"type":"subscribe","series":["load.1m"],"alerts":false})", now);
  run_service();
  EXPECT_FALSE(quiet->connection.alerts_enabled());
  service().publish_alert(R"({"type":"alert","state":"firing"})");
  run_service();
  quiet->drain();
  loud->drain();
  EXPECT_EQ(quiet->types(), (std::vector<std::string>{"hello", "subscribed"}));
  EXPECT_EQ(loud->types(), (std::vector<std::string>{"hello", "alert"}));
}

TEST_F(StreamConnectionTest, ShutdownFlushesThenClosesWith1001) {
  auto handshaking = make_session();
  auto open = open_session();
  open->connection.deliver(frame(FrameKind::control, R"({"type":"last"})"));
  service().shutdown();
  run_service();
  EXPECT_TRUE(handshaking->aborted) << "nothing to flush before the handshake: dropped";
  EXPECT_FALSE(handshaking->close.has_value());
  EXPECT_FALSE(open->aborted);
  EXPECT_FALSE(open->close.has_value());
  open->drain();
  EXPECT_EQ(open->types(), (std::vector<std::string>{"hello", "last"}));
  ASSERT_TRUE(open->close.has_value());
  EXPECT_EQ(open->close->first, close_code::going_away);
  EXPECT_EQ(closes(close_code::going_away), 1u);
}

TEST_F(StreamConnectionTest, RefusedConnectionClosesWithoutHello) {
  auto session = make_session();
  session->connection.refuse(close_code::unauthorized, "unauthorized: send a bearer token");
  EXPECT_TRUE(session->written.empty());
  ASSERT_TRUE(session->close.has_value());
  EXPECT_EQ(session->close->first, close_code::unauthorized);
  EXPECT_EQ(session->close_deadlines, 1);
  EXPECT_EQ(closes(close_code::unauthorized), 1u);
}

TEST_F(StreamConnectionTest, NothingIsQueuedOrAnsweredAfterTheClose) {
  options.max_errors = 0;
  auto session = open_session();
  session->send("not json", now);  // the first error is past a max_errors of 0
  session->drain();
  ASSERT_EQ(session->connection.phase(), Phase::closing);
  const std::size_t written = session->written.size();
  session->connection.deliver(frame(FrameKind::control, R"({"type":"late"})"));
  session->connection.deliver(frame(FrameKind::alert, R"({"type":"alert"})"));
  session->send(R"({"type":"ping"})", now);
  EXPECT_EQ(session->written.size(), written);
  EXPECT_EQ(session->connection.queued_bytes(), 0u);
  // A shutdown after the close decides nothing new.
  EXPECT_TRUE(session->connection.close_for_shutdown());
  EXPECT_EQ(session->close_deadlines, 1);
  // The peer answers our close: counted once, with our code.
  EXPECT_TRUE(session->connection.on_end(close_code::policy));
  EXPECT_FALSE(session->connection.on_end(close_code::abnormal)) << "the caller detaches once";
  EXPECT_EQ(session->connection.phase(), Phase::closed);
  EXPECT_EQ(closes(close_code::policy), 1u);
  EXPECT_EQ(closes(close_code::abnormal), 0u);
}

TEST_F(StreamConnectionTest, ACloseThatMissesItsDeadlineIsCountedWithItsCode) {
  auto session = make_session();
  session->connection.on_open();  // hello never completes: the peer stopped reading
  ASSERT_TRUE(session->connection.close_for_shutdown());
  EXPECT_EQ(session->connection.phase(), Phase::closing_after_send);
  session->connection.on_close_deadline();
  EXPECT_EQ(session->connection.phase(), Phase::closing);
  // The endpoint then drops the socket; the failed write ends the connection.
  EXPECT_TRUE(session->connection.on_end(close_code::abnormal));
  EXPECT_EQ(closes(close_code::going_away), 1u);
  EXPECT_EQ(closes(close_code::abnormal), 0u);
  EXPECT_FALSE(session->close.has_value());
}

TEST_F(StreamConnectionTest, APeerThatDropsIsCountedAs1006) {
  auto session = open_session();
  EXPECT_TRUE(session->connection.on_end(close_code::abnormal));
  EXPECT_EQ(closes(close_code::abnormal), 1u);
  EXPECT_FALSE(session->connection.reading());
}

TEST_F(StreamConnectionTest, TheTransportsOwnCloseIsCountedOnce) {
  auto session = open_session();
  session->connection.on_transport_close(close_code::too_big);
  EXPECT_FALSE(session->connection.reading());
  session->connection.deliver(frame(FrameKind::control, R"({"type":"late"})"));
  EXPECT_EQ(session->written.size(), 1u);
  EXPECT_TRUE(session->connection.on_end(close_code::abnormal));
  EXPECT_EQ(closes(close_code::too_big), 1u);
  EXPECT_EQ(closes(close_code::abnormal), 0u);
}

TEST_F(StreamConnectionTest, QueueBytesAreReportedAndGivenBack) {
  auto session = make_session();
  session->connection.on_open();
  EXPECT_EQ(service().stats().queue_bytes, session->written[0].bytes->size());
  EXPECT_GE(service().stats().queue_bytes_max, session->written[0].bytes->size());
  sessions.clear();
  session.reset();
  run_service();
  EXPECT_EQ(service().stats().queue_bytes, 0u) << "a destroyed connection gives its bytes back";
}

}  // namespace
}  // namespace hostpulse
