#include "agent/api/access_control.hpp"

#include <atomic>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace hostpulse {
namespace {

using testing_support::TempDir;

constexpr std::string_view kToken = "s3cret-token-0123456789";

RequestCredentials bearer(std::string_view header) {
  RequestCredentials credentials;
  credentials.authorization = header;
  return credentials;
}
RequestCredentials protocols(std::string_view header) {
  RequestCredentials credentials;
  credentials.protocols = header;
  return credentials;
}
RequestCredentials cookie(std::string_view header) {
  RequestCredentials credentials;
  credentials.cookie = header;
  return credentials;
}
RequestCredentials origin(std::string_view origin_header, std::string_view host) {
  RequestCredentials credentials;
  credentials.origin = origin_header;
  credentials.host = host;
  return credentials;
}
std::string session_cookie(const std::string& id) { return std::string(kSessionCookieName) + "=" + id; }

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "bbc"));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("ab", "abc"));
  EXPECT_FALSE(constant_time_equals("", "a"));
  EXPECT_FALSE(constant_time_equals("abc", "ABC"));
  // Embedded NULs and high bytes are compared like any other byte.
  EXPECT_TRUE(constant_time_equals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(constant_time_equals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  EXPECT_FALSE(constant_time_equals("\x80", "\x00"));
}

TEST(ReadTokenFileTest, ReadsTheTrimmedFirstLine) {
  TempDir dir;
  std::string token = "unchanged";
  ASSERT_TRUE(read_token_file(dir.write("token", "  s3cret-token-0123456789  \nsecond line\n"), token).ok());
  EXPECT_EQ(token, kToken);
  ASSERT_TRUE(read_token_file(dir.write("crlf", "abcdefghijklmnop\r\n"), token).ok());
  EXPECT_EQ(token, "abcdefghijklmnop");  // exactly 16 characters
  ASSERT_TRUE(read_token_file(dir.write("no-newline", "!#$%&'*+-.^_`|~0123"), token).ok());
  EXPECT_EQ(token, "!#$%&'*+-.^_`|~0123");
}

// Browsers can present the token only as the subprotocol "bearer.<token>"
// (docs/protocol.md), and `new WebSocket(url, protocols)` throws SyntaxError
// unless each protocol is an RFC 7230 token. A token file the agent accepts
// must therefore hold only token characters; base64 output ('/', '=') does not.
TEST(ReadTokenFileTest, AcceptedTokensAreUsableAsWebSocketSubprotocols) {
  TempDir dir;
  for (const char* text : {"abcdefghijklmnop/", "abcdefghijklmnop==", "abcdefghijklmnop:", "abcdefghijklmnop\"",
                           "abcdefghijklmnop()", "abcdefghijklmnop<>", "abcdefghijklmnop@", "abcdefghijklmnop[]",
                           "abcdefghijklmnop?", "abcdefghijklmnop{}", "abcdefghijklmnop\\"}) {
    std::string token;
    const Status status = read_token_file(dir.write("token", text), token);
    EXPECT_FALSE(status.ok()) << "accepted '" << text << "', which a browser cannot send as bearer.<token>";
  }
}

TEST(ReadTokenFileTest, RefusesShortAndOddTokens) {
  TempDir dir;
  const std::string too_short = "token must be at least 16 characters";
  const std::string bad_characters =
      "token may contain only letters, digits and !#$%&'*+-.^_`|~ (e.g. generate one with: head -c 24 /dev/urandom | "
      "base64 | tr '+/' '-_' | tr -d '=')";
  struct Case { const char* name; std::string contents; const std::string& message; };
  const Case cases[] = {
      {"short", "abcdefghijklmno\n", too_short},
      {"empty", "", too_short},
      {"blank-first-line", "\nabcdefghijklmnopqrstuvwxyz\n", too_short},
      {"space", "abcdefgh ijklmnopq\n", bad_characters},
      {"tab", "abcdefgh\tijklmnopq\n", bad_characters},
      {"comma", "abcdefgh,ijklmnopq\n", bad_characters},
      {"semicolon", "abcdefgh;ijklmnopq\n", bad_characters},
      {"delete", "abcdefgh\x7fijklmnopq\n", bad_characters},
      {"utf8", "abcdefgh\xc3\xa9ijklmnopq\n", bad_characters},
      {"nul", std::string("abcdefgh\0ijklmnopq\n", 19), bad_characters},
  };
  for (const Case& c : cases) {
    const std::string path = dir.write(c.name, c.contents);
    std::string token = "unchanged";
    const Status status = read_token_file(path, token);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_EQ(status.error, "token_file: '" + path + "': " + c.message) << c.name;
    EXPECT_EQ(token, "unchanged") << c.name;
  }
}

TEST(ReadTokenFileTest, MissingFile) {
  std::string token;
  const Status status = read_token_file("/nonexistent/hostpulse-token", token);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error, "token_file: /nonexistent/hostpulse-token: cannot open: No such file or directory");
}

// A token file is read whole but small: /dev/zero, a FIFO or a log file named
// by mistake fails at once with a message naming it.
TEST(ReadTokenFileTest, RefusesWhatIsNotASmallRegularFile) {
  TempDir dir;
  std::string token = "unchanged";
  Status status = read_token_file("/dev/zero", token);
  EXPECT_EQ(status.error, "token_file: /dev/zero: is a character device, not a regular file");
  status = read_token_file(dir.path(), token);
  EXPECT_EQ(status.error, "token_file: " + dir.path() + ": is a directory, not a regular file");
  const std::string big = dir.write("big", "abcdefghijklmnopqrstuvwxyz\n" + std::string(kMaxTokenFileBytes, '#'));
  status = read_token_file(big, token);
  EXPECT_EQ(status.error, "token_file: " + big + ": larger than 4 KiB, refusing to read it");
  EXPECT_EQ(token, "unchanged");
}

TEST(LoopbackTest, Table) {
  struct Case { const char* address; bool loopback; };
  const Case cases[] = {
      {"127.0.0.1", true},  {"127.255.255.254", true}, {"127.1.2.3", true}, {"::1", true},
      {"0.0.0.0", false},   {"::", false},             {"10.0.0.1", false}, {"192.168.1.1", false},
      {"128.0.0.1", false}, {"::2", false},            {"localhost", false},  // names are resolved earlier
      {"", false},          {"127.0.0.1:80", false},   {"garbage", false},
  };
  for (const Case& c : cases) EXPECT_EQ(is_loopback_address(c.address), c.loopback) << c.address;
}

TEST(AccessControlTest, WithoutATokenEverythingIsAuthorized) {
  const AccessControl access("", {});
  EXPECT_FALSE(access.token_required());
  EXPECT_TRUE(access.authorized(RequestCredentials{}));
  EXPECT_TRUE(access.authorized(bearer("Bearer wrong")));
}

TEST(AccessControlTest, BearerHeader) {
  const AccessControl access(std::string(kToken), {});
  EXPECT_TRUE(access.token_required());
  const std::string token(kToken);
  EXPECT_TRUE(access.authorized(bearer("Bearer " + token)));
  EXPECT_TRUE(access.authorized(bearer("bearer " + token)));  // the scheme is case-insensitive
  EXPECT_TRUE(access.authorized(bearer("BEARER " + token)));
  EXPECT_TRUE(access.authorized(bearer("  Bearer   " + token + "  ")));
  EXPECT_FALSE(access.authorized(RequestCredentials{}));
  EXPECT_FALSE(access.authorized(bearer("Bearer")));
  EXPECT_FALSE(access.authorized(bearer("Bearer ")));
  EXPECT_FALSE(access.authorized(bearer(token)));                       // no scheme
  EXPECT_FALSE(access.authorized(bearer("Basic " + token)));
  EXPECT_FALSE(access.authorized(bearer("Bearer" + token)));            // no space
  EXPECT_FALSE(access.authorized(bearer("Bearer " + token + "x")));
  EXPECT_FALSE(access.authorized(bearer("Bearer " + token.substr(1))));
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(access.authorized(bearer("Bearer " + upper)));           // the token is not
}

TEST(AccessControlTest, WebSocketSubprotocol) {
  const AccessControl access(std::string(kToken), {});
  const std::string token(kToken);
  EXPECT_TRUE(access.authorized(protocols("hostpulse.v1, bearer." + token)));
  EXPECT_TRUE(access.authorized(protocols("bearer." + token + ",hostpulse.v1")));
  EXPECT_TRUE(access.authorized(protocols("hostpulse.v1,  bearer." + token + "  ")));
  EXPECT_FALSE(access.authorized(protocols("hostpulse.v1")));
  EXPECT_FALSE(access.authorized(protocols("hostpulse.v1, bearer.")));
  EXPECT_FALSE(access.authorized(protocols("hostpulse.v1, bearer.wrong-token-0123456")));
  EXPECT_FALSE(access.authorized(protocols("hostpulse.v1, Bearer." + token)));  // subprotocols are case-sensitive
  EXPECT_FALSE(access.authorized(protocols("hostpulse.v1, bearer " + token)));
  EXPECT_FALSE(access.authorized(protocols(token)));
}

TEST(AccessControlTest, SubprotocolOffer) {
  EXPECT_TRUE(AccessControl::offers_stream_subprotocol("hostpulse.v1"));
  EXPECT_TRUE(AccessControl::offers_stream_subprotocol("hostpulse.v1, bearer.abc"));
  EXPECT_TRUE(AccessControl::offers_stream_subprotocol("bearer.abc,hostpulse.v1"));
  EXPECT_TRUE(AccessControl::offers_stream_subprotocol(" chat ,  hostpulse.v1 "));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol(""));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol("hostpulse.v2"));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol("hostpulse.v10"));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol("xhostpulse.v1"));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol("Hostpulse.V1"));
  EXPECT_FALSE(AccessControl::offers_stream_subprotocol("bearer.hostpulse.v1"));
}

TEST(AccessControlTest, LoginCookieAuthorizesUntilLogout) {
  AccessControl access(std::string(kToken), {});
  EXPECT_EQ(access.login("wrong-token-0123456789"), std::nullopt);
  EXPECT_EQ(access.login(""), std::nullopt);
  const std::optional<std::string> session = access.login(kToken);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->size(), 64u);
  EXPECT_EQ(session->find_first_not_of("0123456789abcdef"), std::string::npos) << *session;

  EXPECT_TRUE(access.authorized(cookie(session_cookie(*session))));
  EXPECT_TRUE(access.authorized(cookie("theme=dark; " + session_cookie(*session) + "; lang=en")));
  EXPECT_TRUE(access.authorized(cookie("theme=dark;" + session_cookie(*session))));
  EXPECT_FALSE(access.authorized(cookie("")));
  EXPECT_FALSE(access.authorized(cookie(session_cookie(""))));
  EXPECT_FALSE(access.authorized(cookie(session_cookie(session->substr(1)))));
  EXPECT_FALSE(access.authorized(cookie("other_session=" + *session)));
  EXPECT_FALSE(access.authorized(cookie("x" + session_cookie(*session))));
  EXPECT_FALSE(access.authorized(cookie(*session)));

  // A second login is a second session; logging out one leaves the other.
  const std::optional<std::string> second = access.login(std::string("  ") + std::string(kToken) + "\n");
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, *session);
  access.logout("theme=dark; " + session_cookie(*session));
  EXPECT_FALSE(access.authorized(cookie(session_cookie(*session))));
  EXPECT_TRUE(access.authorized(cookie(session_cookie(*second))));
  access.logout("");  // nothing to log out: harmless
  access.logout(session_cookie("unknown"));
  EXPECT_TRUE(access.authorized(cookie(session_cookie(*second))));
}

TEST(AccessControlTest, NoSessionsWithoutAToken) {
  AccessControl access("", {});
  EXPECT_EQ(access.login(""), std::nullopt);
  EXPECT_EQ(access.login("anything-at-all-here"), std::nullopt);
}

TEST(AccessControlTest, SessionsAreCappedOldestFirst) {
  AccessControl access(std::string(kToken), {});
  std::vector<std::string> sessions;
  const std::size_t logins = AccessControl::kMaxSessions + 3;
  for (std::size_t i = 0; i < logins; ++i) {
    const auto session = access.login(kToken);
    ASSERT_TRUE(session.has_value()) << i;
    sessions.push_back(*session);
  }
  EXPECT_EQ(std::set<std::string>(sessions.begin(), sessions.end()).size(), logins);  // all distinct
  // The three oldest were dropped; the newest kMaxSessions all still work.
  for (std::size_t i = 0; i < logins; ++i) {
    EXPECT_EQ(access.authorized(cookie(session_cookie(sessions[i]))), i >= 3) << "login " << i;
  }
}

TEST(AccessControlTest, OriginDefaultsToTheSameHost) {
  const AccessControl access(std::string(kToken), {});
  EXPECT_TRUE(access.origin_allowed(RequestCredentials{}));  // not a browser
  EXPECT_TRUE(access.origin_allowed(origin("", "example.com")));
  EXPECT_TRUE(access.origin_allowed(origin("http://127.0.0.1:9870", "127.0.0.1:9870")));
  EXPECT_TRUE(access.origin_allowed(origin("https://ops.example.com", "ops.example.com")));
  EXPECT_TRUE(access.origin_allowed(origin("http://[::1]:9870", "[::1]:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://evil.example", "127.0.0.1:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://127.0.0.1:9871", "127.0.0.1:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://127.0.0.1", "127.0.0.1:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://127.0.0.1:9870", "")));  // no Host to compare with
  EXPECT_FALSE(access.origin_allowed(origin("null", "127.0.0.1:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://127.0.0.1:9870.evil.example", "127.0.0.1:9870")));
}

TEST(AccessControlTest, AllowedOriginsList) {
  const AccessControl access("", {"https://ops.example.com", "http://localhost:3000"});
  EXPECT_TRUE(access.origin_allowed(origin("https://ops.example.com", "agent:9870")));
  EXPECT_TRUE(access.origin_allowed(origin("http://localhost:3000", "agent:9870")));
  EXPECT_TRUE(access.origin_allowed(origin("", "agent:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://ops.example.com", "agent:9870")));  // scheme matters
  EXPECT_FALSE(access.origin_allowed(origin("https://ops.example.com:443", "agent:9870")));
  // The agent's own origin stays allowed with a list (its dashboard must work).
  EXPECT_TRUE(access.origin_allowed(origin("http://agent:9870", "agent:9870")));
  EXPECT_FALSE(access.origin_allowed(origin("http://other:9870", "agent:9870")));

  const AccessControl any("", {"*"});
  EXPECT_TRUE(any.origin_allowed(origin("http://anything.example", "agent:9870")));
  EXPECT_TRUE(any.origin_allowed(origin("null", "")));
}

RequestCredentials host(std::string_view host_header) {
  RequestCredentials credentials;
  credentials.host = host_header;
  return credentials;
}

TEST(AccessControlTest, HostNamesAreParsedStrictly) {
  EXPECT_EQ(host_name_of("Example.COM:9870"), std::optional<std::string>("example.com"));
  EXPECT_EQ(host_name_of("example.com."), std::optional<std::string>("example.com"));
  EXPECT_EQ(host_name_of("[::1]:9870"), std::optional<std::string>("::1"));
  EXPECT_EQ(host_name_of("[::1]"), std::optional<std::string>("::1"));
  EXPECT_EQ(host_name_of("127.0.0.1"), std::optional<std::string>("127.0.0.1"));
  for (const char* bad : {"", ":9870", "a:b", "[::1", "[::1]x", "[nope]:1", "a b", "a/b", "a@b", "\xff", "ex:1:2", "a..b", ".a", "a..", "."}) {
    EXPECT_EQ(host_name_of(bad), std::nullopt) << bad;
  }
  // Found by the access_control fuzz target: Boost reads "[::\0...1.]" as "::".
  EXPECT_EQ(host_name_of(std::string("[::") + '\0' + "1]:9870"), std::nullopt);
  EXPECT_EQ(host_name_of("[fe80::1%eth0]"), std::nullopt);
}

// DNS rebinding: evil.example made to resolve to 127.0.0.1 arrives with its
// own name as Host (and a matching Origin, so the Origin check alone passes).
TEST(AccessControlTest, HostCheckStopsDnsRebinding) {
  const AccessControl access("", {});
  for (const char* allowed : {"127.0.0.1:9870", "127.0.0.1", "[::1]:9870", "localhost:9870", "LOCALHOST",
                              "app.localhost:9870", "192.0.2.10:9870", "[2001:db8::1]", ""}) {
    EXPECT_TRUE(access.host_allowed(host(allowed))) << allowed;
  }
  for (const char* refused : {"evil.example:9870", "evil.example", "localhost.evil.example", "127.0.0.1.evil.example",
                              "notlocalhost", "bad host", "[::1"}) {
    EXPECT_FALSE(access.host_allowed(host(refused))) << refused;
  }
  const AccessControl listed("", {}, {"metrics.example.com", "GW.example.com:443"});
  EXPECT_TRUE(listed.host_allowed(host("metrics.example.com:9870")));
  EXPECT_TRUE(listed.host_allowed(host("gw.example.com")));
  EXPECT_FALSE(listed.host_allowed(host("example.com")));
  const AccessControl any("", {}, {"*"});
  EXPECT_TRUE(any.host_allowed(host("evil.example")));
}

TEST(AccessControlTest, ConcurrentLoginsAndChecksAreSafe) {
  AccessControl access(std::string(kToken), {});
  const auto first = access.login(kToken);
  ASSERT_TRUE(first.has_value());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto session = access.login(kToken);
        if (!session || !access.authorized(cookie(session_cookie(*session)))) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(access.authorized(cookie(session_cookie(*first))));  // 801 < kMaxSessions
}

}  // namespace
}  // namespace hostpulse
