#include "agent/config/toml_prescan.hpp"

#include <string>

#include <gtest/gtest.h>

namespace hostpulse {
namespace {

std::string repeat(std::string_view unit, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += unit;
  return out;
}

// kMaxTomlNestingDepth levels of arrays, and one more.
const std::string kDeepestArray = "a = " + repeat("[", kMaxTomlNestingDepth) + repeat("]", kMaxTomlNestingDepth) + "\n";
const std::string kTooDeepArray =
    "a = " + repeat("[", kMaxTomlNestingDepth + 1) + repeat("]", kMaxTomlNestingDepth + 1) + "\n";

TEST(TomlPrescanTest, AcceptsOrdinaryConfigs) {
  for (const std::string& text : {
           std::string(""),
           std::string("listen = \"127.0.0.1:9870\"\n[http]\nmax_connections = 10\n"),
           std::string("[[alert]]\nname = \"cpu\"\nlabels = { team = \"ops\", tier = \"db\" }\n"),
           std::string("allowed_origins = [\"https://a.example\", \"https://b.example\"]\n"),
           std::string("a = [\n  [1, 2],\n  [3, 4],\n]\n"),
           std::string("a.b.c = 1.5\n[x.y]\nz = 2024-01-01T00:00:00.5Z\n"),
           kDeepestArray,
       }) {
    const Status status = prescan_toml(text, "t.toml");
    EXPECT_TRUE(status.ok()) << text << "\n" << status.error;
  }
}

TEST(TomlPrescanTest, RefusesDeepArraysAndInlineTablesNamingFileAndLine) {
  const std::string expected =
      "t.toml:3: nesting too deep (more than " + std::to_string(kMaxTomlNestingDepth) + " levels of arrays/inline tables)";
  for (const std::string& deep : {
           kTooDeepArray,
           "a = " + repeat("{b = ", kMaxTomlNestingDepth + 1) + "1" + repeat("}", kMaxTomlNestingDepth + 1) + "\n",
           "a = " + repeat("[{b = ", 17) + "1" + repeat("}]", 17) + "\n",
           // What crashed toml11: 10,000 levels.
           "a = " + repeat("[", 10'000) + "\n",
           "a = " + repeat("{b = ", 5'000) + "\n",
       }) {
    const Status status = prescan_toml("# two lines\n\n" + deep, "t.toml");
    ASSERT_FALSE(status.ok()) << deep.substr(0, 80);
    EXPECT_EQ(status.error, expected);
  }
  // Arrays continued on further lines still count; the line named is the one
  // where the limit is passed.
  const Status status = prescan_toml("a = [\n" + repeat("[\n", kMaxTomlNestingDepth), "t.toml");
  EXPECT_EQ(status.error.rfind("t.toml:" + std::to_string(kMaxTomlNestingDepth + 1) + ": nesting too deep", 0), 0u)
      << status.error;
}

TEST(TomlPrescanTest, BracketsInStringsAndCommentsAreNotNesting) {
  const std::string many = repeat("[{", 1000);
  for (const std::string& text : {
           "a = \"" + many + "\"\n",
           "a = '" + many + "'\n",
           "a = \"\"\"\n" + many + "\n" + many + "\n\"\"\"\n",
           "a = '''\n" + many + "\n'''\n",
           "# " + many + "\n",
           "a = 1 # " + many + "\n",
           // Escaped quotes do not end a basic string; a literal string has no escapes.
           "a = \"\\\"" + many + "\"\n",
           "a = '\\' \n# " + many + "\n",
           "a = \"\"\"\\\"\"\"" + many + "\"\"\"\n",
           // Up to two quotes before the closing three are content.
           "a = \"\"\"x\"\"\"\"\"\nb = 1 # " + many + "\n",
           "a = '''x'''''\nb = 1 # " + many + "\n",
           // Quoted keys, also in headers.
           "\"" + many + "\" = 1\n[\"" + many + "\"]\n[['" + many + "']]\n",
       }) {
    const Status status = prescan_toml(text, "t.toml");
    EXPECT_TRUE(status.ok()) << text.substr(0, 80) << "\n" << status.error;
  }
}

TEST(TomlPrescanTest, TableHeadersAreNotNesting) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "[t" + std::to_string(i) + "]\nx = 1\n[[a]]\ny = 2\n  [[a.b]]\n";
  EXPECT_TRUE(prescan_toml(text, "t.toml").ok());
  // A header does not hide what follows it on its line, nor what a line
  // starting with '[' inside an array holds.
  EXPECT_FALSE(prescan_toml("[[" + repeat("[", kMaxTomlNestingDepth + 1) + "\n", "t.toml").ok());
  EXPECT_FALSE(prescan_toml("a = [\n" + repeat("[", kMaxTomlNestingDepth) + "\n", "t.toml").ok());
}

TEST(TomlPrescanTest, StringsEndWhereTomlEndsThem) {
  // A single-line string ends at the end of its line even without a quote:
  // what follows is counted.
  EXPECT_FALSE(prescan_toml("a = \"open\n" + kTooDeepArray, "t.toml").ok());
  EXPECT_FALSE(prescan_toml("a = 'open\n" + kTooDeepArray, "t.toml").ok());
  // A backslash at the end of a single-line basic string does not swallow the newline.
  EXPECT_FALSE(prescan_toml("a = \"x\\\n" + kTooDeepArray, "t.toml").ok());
  // After a closed multi-line string, brackets count again; lines inside it count as lines.
  const Status status = prescan_toml("a = \"\"\"\n\\\n[\n\"\"\"\n" + kTooDeepArray, "t.toml");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error.rfind("t.toml:5: nesting too deep", 0), 0u) << status.error;
}

TEST(TomlPrescanTest, RefusesLongDottedKeys) {
  const std::string expected = "t.toml:1: key with more than " + std::to_string(kMaxTomlKeyParts) + " dotted parts";
  const std::string ok_key = "a" + repeat(".a", kMaxTomlKeyParts - 1);
  const std::string long_key = "a" + repeat(".a", kMaxTomlKeyParts);
  EXPECT_TRUE(prescan_toml(ok_key + " = 1\n[" + ok_key + "]\nx = {" + ok_key + " = 1}\n", "t.toml").ok());
  for (const std::string& text : {long_key + " = 1\n", "[" + long_key + "]\n", "[[" + long_key + "]]\n",
                                  "x = {b = 1, " + long_key + " = 1}\n", "a" + repeat(" . a", 20'000) + " = 1\n"}) {
    const Status status = prescan_toml(text, "t.toml");
    ASSERT_FALSE(status.ok()) << text.substr(0, 80);
    EXPECT_EQ(status.error, expected);
  }
  // Dots in values and quoted keys are not key parts.
  const std::string dots = repeat(".", 1000);
  EXPECT_TRUE(prescan_toml("a = \"" + dots + "\"\n\"" + dots + "\" = 1\nb = [1.5, 2.5]\nc = 1.5e3\n", "t.toml").ok());
}

TEST(TomlPrescanTest, RefusesTooManyValuesOnOneLine) {
  const std::string expected = "t.toml:2: more than " + std::to_string(kMaxTomlValuesPerLine) +
                               " values on one line (put the items of a long array on lines of their own)";
  const auto items = [](std::size_t count, std::string_view item) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) out += (i == 0 ? "" : ",") + std::string(item);
    return out;
  };
  EXPECT_TRUE(prescan_toml("\na = [" + items(kMaxTomlValuesPerLine, "1") + "]\n", "t.toml").ok());
  for (const std::string& text : {"\na = [" + items(kMaxTomlValuesPerLine + 1, "1") + "]\n",
                                  "\na = {" + items(kMaxTomlValuesPerLine + 1, "k = 1") + "}\n",
                                  "\na = [" + items(500'000, "1") + "]\n"}) {
    const Status status = prescan_toml(text, "t.toml");
    ASSERT_FALSE(status.ok()) << text.substr(0, 80);
    EXPECT_EQ(status.error, expected);
  }
  // One item per line has no such limit; commas in strings and comments are text.
  std::string long_array = "a = [\n";
  for (int i = 0; i < 10'000; ++i) long_array += "  \"x,y,z\", # a, b, c\n";
  long_array += "]\nb = \"" + repeat(",", 1000) + "\"\n";
  EXPECT_TRUE(prescan_toml(long_array, "t.toml").ok());
}

TEST(TomlPrescanTest, RefusesInvalidUtf8NamingTheLine) {
  struct Case {
    std::string text;
    std::string reason;
  };
  const Case cases[] = {
      // The fuzzer's kind of input: a literal string of bytes that are never UTF-8.
      {"a='\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "byte 0xff is never valid in UTF-8"},
      {"a = '\xfe'", "byte 0xfe is never valid in UTF-8"},
      {"a = \"\x80\"", "byte 0x80 cannot start a character"},
      {"# \xc3\n", "byte 0xc3 is not followed by a continuation byte"},
      {"a = '\xe2\x82'", "byte 0xe2 is not followed by enough continuation bytes"},
      {"a = '\xe2\x82", "sequence cut off at the end of the text"},
      // Overlong forms of '/' and of U+0800, U+10000.
      {"a = '\xc0\xaf'", "overlong encoding (byte 0xc0)"},
      {"a = '\xc1\xbf'", "overlong encoding (byte 0xc1)"},
      {"a = '\xe0\x80\xaf'", "overlong encoding (bytes 0xe0 0x80)"},
      {"a = '\xf0\x80\x80\xaf'", "overlong encoding (bytes 0xf0 0x80)"},
      // UTF-16 surrogates U+D800 and U+DFFF.
      {"a = '\xed\xa0\x80'", "surrogate code point (bytes 0xed 0xa0)"},
      {"a = '\xed\xbf\xbf'", "surrogate code point (bytes 0xed 0xbf)"},
      // U+110000 and beyond.
      {"a = '\xf4\x90\x80\x80'", "code point past U+10FFFF (bytes 0xf4 0x90)"},
      {"a = '\xf5\x80\x80\x80'", "byte 0xf5 is never valid in UTF-8"},
  };
  for (const Case& c : cases) {
    const Status status = prescan_toml("x = 1\n\n" + c.text, "t.toml");
    ASSERT_FALSE(status.ok()) << c.reason;
    EXPECT_EQ(status.error, "t.toml:3: invalid UTF-8: " + c.reason);
  }
  // Valid UTF-8 up to the edges: U+007F, U+0080, U+07FF, U+0800, U+D7FF,
  // U+E000, U+FFFF, U+10000, U+10FFFF.
  EXPECT_TRUE(prescan_toml("a = '\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
                           "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf' # caf\xc3\xa9\n",
                           "t.toml")
                  .ok());
}

}  // namespace
}  // namespace hostpulse
