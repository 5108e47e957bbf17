// [[alert]] tables: in the main config file and in the *.toml files of
// rules_dir. Every accepted key parses to its exact value; every problem is
// reported as "FILE:LINE: alert 'NAME': ..." (rule-level checks) or
// "FILE:LINE: alert.KEY: ..." (a bad value), and a failed load leaves the
// caller's config untouched.

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../../support/temp_dir.hpp"
#include "agent/config/command_line.hpp"
#include "agent/config/config.hpp"
#include "agent/config/toml_prescan.hpp"

namespace hostpulse {
namespace {

using namespace std::chrono_literals;
using testing_support::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> rule_names(const std::vector<AlertRule>& rules) {
  std::vector<std::string> names;
  for (const AlertRule& rule : rules) names.push_back(rule.name);
  return names;
}

// A minimal valid rule body (no [[alert]] header) to build cases from.
constexpr const char* kLoadRule = "[[alert]]\nname = \"load\"\nseries = \"load.1m\"\nwarn = \"> 5\"\n";

TEST(AlertConfigTest, FullRuleParsesToExactValues) {
  const char* text =
      "interval = \"1s\"\n"                            // 1
      "\n"                                             // 2
      "[[alert]]\n"                                    // 3
      "name = \"core_busy\"\n"                         // 4
      "series = \"cpu.*.busy_pct\"\n"                  // 5
      "reduce = \"max\"\n"                             // 6
      "window = \"30s\"\n"                             // 7
      "warn = \"> 80\"\n"                              // 8
      "warn_clear = \"<= 70\"\n"                       // 9
      "crit = \">= 95.5\"\n"                           // 10
      "crit_clear = \"< 90\"\n"                        // 11
      "for = \"1m\"\n"                                 // 12
      "keep_firing_for = \"15s\"\n"                    // 13
      "nodata_after = \"2m\"\n"                        // 14
      "description = \"{{series}} at {{value}} %\"\n"  // 15
      "severity = \"page\"\n"                          // 16
      "labels = { team = \"ops\", tier = \"1\" }\n"    // 17
      "enabled = false\n";                             // 18
  Config config;
  const Status status = load_config_text(text, "main.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.alerts.size(), 1u);
  const AlertRule& rule = config.alerts[0];
  EXPECT_EQ(rule.name, "core_busy");
  EXPECT_EQ(rule.series, "cpu.*.busy_pct");
  EXPECT_EQ(rule.reduce, Reducer::max);
  EXPECT_EQ(rule.window, 30s);
  ASSERT_TRUE(rule.warn && rule.warn_clear && rule.crit && rule.crit_clear);
  EXPECT_EQ(rule.warn->comparison, Comparison::greater);
  EXPECT_EQ(rule.warn->value, 80.0);
  EXPECT_EQ(rule.warn_clear->comparison, Comparison::less_equal);
  EXPECT_EQ(rule.warn_clear->value, 70.0);
  EXPECT_EQ(rule.crit->comparison, Comparison::greater_equal);
  EXPECT_EQ(rule.crit->value, 95.5);
  EXPECT_EQ(rule.crit_clear->comparison, Comparison::less);
  EXPECT_EQ(rule.crit_clear->value, 90.0);
  EXPECT_EQ(rule.for_duration, 1min);
  EXPECT_EQ(rule.keep_firing_for, 15s);
  ASSERT_TRUE(rule.nodata_after.has_value());
  EXPECT_EQ(*rule.nodata_after, 2min);
  EXPECT_EQ(rule.description, "{{series}} at {{value}} %");
  EXPECT_EQ(rule.severity, "page");
  // TOML tables are unordered: compare the labels as a set.
  auto labels = rule.labels;
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<std::pair<std::string, std::string>>{{"team", "ops"}, {"tier", "1"}}));
  EXPECT_FALSE(rule.enabled);
  EXPECT_EQ(rule.source, "main.toml");
  EXPECT_EQ(rule.line, 3u);
  EXPECT_EQ(config.interval, 1s);
}

TEST(AlertConfigTest, MinimalRuleGetsDefaults) {
  Config config;
  const Status status = load_config_text(kLoadRule, "t.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.alerts.size(), 1u);
  const AlertRule& rule = config.alerts[0];
  EXPECT_EQ(rule.reduce, Reducer::last);
  EXPECT_EQ(rule.window, 0ms);
  EXPECT_EQ(rule.for_duration, 0ms);
  EXPECT_EQ(rule.keep_firing_for, 0ms);
  EXPECT_FALSE(rule.nodata_after.has_value());
  EXPECT_FALSE(rule.warn_clear || rule.crit || rule.crit_clear);
  EXPECT_TRUE(rule.description.empty());
  EXPECT_TRUE(rule.severity.empty());
  EXPECT_TRUE(rule.labels.empty());
  EXPECT_TRUE(rule.enabled);
  EXPECT_EQ(rule.line, 1u);
}

TEST(AlertConfigTest, OtherAcceptedForms) {
  Config config;
  const char* text =
      "[[alert]]\n"
      "name = \"crit_only\"\n"
      "series = \"mem.available_pct\"\n"
      "crit = \"< 5\"\n"
      "crit_clear = \">= 5\"\n"  // touching the trigger without overlapping it
      "for = 1500\n"             // integer milliseconds
      "reduce = \"avg\"\n"
      "window = \"1h\"\n"        // the longest window
      "nodata_after = \"1s\"\n"  // the shortest nodata_after
      "[alert.labels]\n"
      "team = \"ops\"\n"
      "[[alert]]\n"
      "name = \"edge\"\n"
      "series = \"load.1m\"\n"
      "warn = \"> 80\"\n"
      "warn_clear = \"<= 80\"\n"
      "crit = \">=90\"\n"
      "crit_clear = \" < 90 \"\n";
  const Status status = load_config_text(text, "t.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(rule_names(config.alerts), (std::vector<std::string>{"crit_only", "edge"}));
  const AlertRule& a = config.alerts[0];
  EXPECT_FALSE(a.warn.has_value());
  EXPECT_EQ(a.crit->to_string(), "< 5");
  EXPECT_EQ(a.crit_clear->to_string(), ">= 5");
  EXPECT_EQ(a.for_duration, 1500ms);
  EXPECT_EQ(a.reduce, Reducer::avg);
  EXPECT_EQ(a.window, 1h);
  EXPECT_EQ(a.nodata_after, std::optional<std::chrono::milliseconds>(1s));
  EXPECT_EQ(a.labels, (std::vector<std::pair<std::string, std::string>>{{"team", "ops"}}));
  const AlertRule& b = config.alerts[1];
  EXPECT_EQ(b.crit->to_string(), ">= 90");
  EXPECT_EQ(b.crit_clear->to_string(), "< 90");
  EXPECT_EQ(b.line, 12u);
}

// Every validation error names the file, the line and the key (a bad value)
// or the rule (a rule-level check), and leaves the config as it was.
TEST(AlertConfigTest, ErrorsNameFileLineAndKeyOrRule) {
  struct Case {
    const char* what;
    std::string text;
    const char* expected;
  };
  const std::string header = "[[alert]]\nname = \"r\"\nseries = \"load.1m\"\n";  // lines 1-3
  const Case cases[] = {
      {"missing name", "[[alert]]\nseries = \"load.1m\"\nwarn = \"> 5\"\n", "t.toml:1: alert '?': name: required"},
      {"missing name after another rule", std::string(kLoadRule) + "\n[[alert]]\nseries = \"load.5m\"\nwarn = \"> 5\"\n",
       "t.toml:6: alert '?': name: required"},
      {"missing series", "[[alert]]\nname = \"r\"\nwarn = \"> 5\"\n", "t.toml:1: alert 'r': series or family: required"},
      {"neither warn nor crit", header, "t.toml:1: alert 'r': needs warn, crit or both"},
      {"warn_clear without warn", header + "crit = \"> 9\"\nwarn_clear = \"< 4\"\n",
       "t.toml:1: alert 'r': warn_clear given without warn"},
      {"crit_clear without crit", header + "warn = \"> 9\"\ncrit_clear = \"< 4\"\n",
       "t.toml:1: alert 'r': crit_clear given without crit"},
      {"overlapping warn_clear", header + "warn = \"> 80\"\nwarn_clear = \"< 85\"\n",
       "t.toml:1: alert 'r': warn_clear '< 85' overlaps warn '> 80': it must lie on the other side of the threshold"},
      {"inclusive on both sides", header + "warn = \">= 80\"\nwarn_clear = \"<= 80\"\n",
       "t.toml:1: alert 'r': warn_clear '<= 80' overlaps warn '>= 80'"},
      {"overlapping crit_clear", header + "crit = \"< 5\"\ncrit_clear = \"> 4\"\n",
       "t.toml:1: alert 'r': crit_clear '> 4' overlaps crit '< 5'"},
      {"same-direction clear", header + "warn = \"> 80\"\nwarn_clear = \"> 70\"\n",
       "t.toml:1: alert 'r': warn_clear '> 70' overlaps warn '> 80'"},
      {"same-direction clear (below)", header + "crit = \"<= 5\"\ncrit_clear = \"< 3\"\n",
       "t.toml:1: alert 'r': crit_clear '< 3' overlaps crit '<= 5'"},
      {"warn and crit in different directions", header + "warn = \"> 80\"\ncrit = \"< 10\"\n",
       "t.toml:1: alert 'r': warn and crit point in different directions ('> 80', '< 10')"},
      {"bad threshold text", header + "warn = \"80\"\n",
       "t.toml:4: alert.warn: invalid threshold '80': missing comparison"},
      {"threshold without number", header + "warn = \"> 1\"\ncrit = \">\"\n",
       "t.toml:5: alert.crit: invalid threshold '>': missing number"},
      {"threshold not a number", header + "warn = \"> 80\"\nwarn_clear = \"< eighty\"\n",
       "t.toml:5: alert.warn_clear: invalid threshold '< eighty': not a number"},
      {"threshold not a string", header + "crit_clear = 80\n", "t.toml:4: alert.crit_clear: expected a string"},
      {"unknown reducer", header + "warn = \"> 5\"\nreduce = \"median\"\n",
       "t.toml:5: alert.reduce: unknown reducer 'median' (use last, avg, min or max)"},
      {"avg without window", header + "warn = \"> 5\"\nreduce = \"avg\"\n",
       "t.toml:1: alert 'r': reduce = \"avg\" needs a window"},
      {"max without window", header + "warn = \"> 5\"\nreduce = \"max\"\nwindow = 0\n",
       "t.toml:1: alert 'r': reduce = \"max\" needs a window"},
      {"window > 1h", header + "warn = \"> 5\"\nreduce = \"avg\"\nwindow = \"61m\"\n",
       "t.toml:6: alert.window: must be between"},
      {"window not a duration", header + "window = \"soon\"\n", "t.toml:4: alert.window: invalid duration 'soon'"},
      {"for > 24h", header + "warn = \"> 5\"\nfor = \"25h\"\n", "t.toml:5: alert.for: must be between"},
      {"nodata_after < 1s", header + "warn = \"> 5\"\nnodata_after = \"500ms\"\n",
       "t.toml:5: alert.nodata_after: must be between 1s and"},
      {"unknown key", header + "warn = \"> 5\"\nthreshold = \"> 6\"\n", "t.toml:5: alert.threshold: unknown key"},
      {"enabled not a boolean", header + "warn = \"> 5\"\nenabled = \"no\"\n",
       "t.toml:5: alert.enabled: expected true or false"},
      {"labels not a table", header + "warn = \"> 5\"\nlabels = \"ops\"\n", "t.toml:5: alert.labels: expected a table"},
      {"label not a string", header + "warn = \"> 5\"\nlabels = { tier = 1 }\n",
       "t.toml:5: alert.labels.tier: expected a string"},
      {"empty name", "[[alert]]\nname = \"\"\n", "t.toml:2: alert.name: must be 1 to 128 characters"},
      {"name too long", "[[alert]]\nname = \"" + std::string(129, 'n') + "\"\n",
       "t.toml:2: alert.name: must be 1 to 128 characters"},
      {"description too long", header + "description = \"" + std::string(1025, 'd') + "\"\n",
       "t.toml:4: alert.description: longer than 1024 characters"},
      {"duplicate names", std::string(kLoadRule) + "[[alert]]\nname = \"load\"\nseries = \"load.5m\"\ncrit = \"> 9\"\n",
       "t.toml:5: alert 'load': name already used by the rule at t.toml:1"},
      {"alert not an array of tables", "alert = 5\n", "t.toml:1: alert: expected [[alert]] tables"},
      {"alert array of numbers", "alert = [1]\n", "t.toml:1: alert: expected [[alert]] tables"},
      {"crit below warn (upwards)", header + "warn = \"> 90\"\ncrit = \"> 80\"\n",
       "t.toml:1: alert 'r': crit '> 80' is less severe than warn '> 90': crit must be at or above"},
      {"crit above warn (downwards)", header + "warn = \"< 10\"\ncrit = \"<= 20\"\n",
       "t.toml:1: alert 'r': crit '<= 20' is less severe than warn '< 10': crit must be at or below"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = load_config_text(c.text, "t.toml", config);
    ASSERT_FALSE(status.ok()) << c.what;
    EXPECT_TRUE(contains(status.error, c.expected)) << c.what << "\n  expected: " << c.expected
                                                    << "\n  got:      " << status.error;
    EXPECT_TRUE(config.alerts.empty()) << "config changed by a failed load: " << c.what;
  }
}

// A rule selects by family and label globs instead of (or as well as) a
// series name or glob; alert labels (labels = {...}) stay what receivers get.
TEST(AlertConfigTest, FamilyAndMatchLabelsParse) {
  const char* text =
      "[[alert]]\n"                                          // 1
      "name = \"per_core\"\n"                                // 2
      "family = \"cpu.busy_pct\"\n"                          // 3
      "match_labels = { cpu = \"*\" }\n"                     // 4
      "labels = { team = \"ops\" }\n"                        // 5
      "warn = \"> 80\"\n"                                    // 6
      "[[alert]]\n"                                          // 7
      "name = \"whole_family\"\n"                            // 8
      "family = \"cpu.busy_pct\"\n"                          // 9
      "warn = \"> 80\"\n"                                    // 10
      "[[alert]]\n"                                          // 11
      "name = \"both\"\n"                                    // 12
      "series = \"cpu.1*\"\n"                                // 13
      "family = \"cpu.busy_pct\"\n"                          // 14
      "match_labels = { cpu = \"1?\", node = \"n*\" }\n"     // 15
      "warn = \"> 80\"\n";                                   // 16
  Config config;
  const Status status = load_config_text(text, "t.toml", config);
  ASSERT_TRUE(status.ok()) << status.error;
  ASSERT_EQ(config.alerts.size(), 3u);
  const AlertRule& per_core = config.alerts[0];
  EXPECT_TRUE(per_core.series.empty());
  EXPECT_EQ(per_core.family, "cpu.busy_pct");
  EXPECT_EQ(per_core.match_labels, (std::vector<SeriesLabel>{{"cpu", "*"}}));
  EXPECT_EQ(per_core.labels, (std::vector<std::pair<std::string, std::string>>{{"team", "ops"}}));
  EXPECT_EQ(config.alerts[1].family, "cpu.busy_pct");
  EXPECT_TRUE(config.alerts[1].match_labels.empty());
  const AlertRule& both = config.alerts[2];
  EXPECT_EQ(both.series, "cpu.1*");
  EXPECT_EQ(both.family, "cpu.busy_pct");
  std::vector<SeriesLabel> labels = both.match_labels;
  std::sort(labels.begin(), labels.end(), [](const SeriesLabel& a, const SeriesLabel& b) { return a.name < b.name; });
  EXPECT_EQ(labels, (std::vector<SeriesLabel>{{"cpu", "1?"}, {"node", "n*"}}));
  // A changed matcher is a changed rule (a reload restarts its instances).
  AlertRule other = per_core;
  other.match_labels[0].value = "2";
  EXPECT_FALSE(other.same_behaviour(per_core));
  other = per_core;
  other.family = "cpu.idle_pct";
  EXPECT_FALSE(other.same_behaviour(per_core));
}

TEST(AlertConfigTest, BadLabelMatchersNameFileLineAndKey) {
  struct Case {
    const char* what;
    std::string text;
    const char* expected;
  };
  const std::string header = "[[alert]]\nname = \"r\"\nwarn = \"> 5\"\n";  // lines 1-3
  const Case cases[] = {
      {"empty family", header + "family = \"\"\n", "t.toml:4: alert.family: must be 1 to 256 characters"},
      {"family too long", header + "family = \"" + std::string(257, 'f') + "\"\n",
       "t.toml:4: alert.family: must be 1 to 256 characters"},
      {"family not a string", header + "family = 3\n", "t.toml:4: alert.family: expected a string"},
      {"family glob", header + "family = \"cpu.*\"\n", "t.toml:4: alert.family: is a family name, not a glob"},
      {"match_labels without family", header + "series = \"cpu.*\"\nmatch_labels = { cpu = \"*\" }\n",
       "t.toml:5: alert.match_labels: needs family"},
      {"match_labels not a table", header + "family = \"cpu.busy_pct\"\nmatch_labels = \"cpu=1\"\n",
       "t.toml:5: alert.match_labels: expected a table of label globs, e.g. { cpu = \"*\" }"},
      {"match_labels an array", header + "family = \"cpu.busy_pct\"\nmatch_labels = [\"cpu\"]\n",
       "t.toml:5: alert.match_labels: expected a table of label globs"},
      {"match_labels empty", header + "family = \"cpu.busy_pct\"\nmatch_labels = {}\n",
       "t.toml:5: alert.match_labels: expected a table of label globs"},
      {"label glob not a string", header + "family = \"cpu.busy_pct\"\nmatch_labels = { cpu = 3 }\n",
       "t.toml:5: alert.match_labels.cpu: expected a string (a label value or glob such as \"*\")"},
      {"label glob a nested table", header + "family = \"cpu.busy_pct\"\nmatch_labels = { cpu = { is = \"3\" } }\n",
       "t.toml:5: alert.match_labels.cpu: expected a string"},
      {"empty label glob", header + "family = \"cpu.busy_pct\"\nmatch_labels = { cpu = \"\" }\n",
       "t.toml:5: alert.match_labels.cpu: must be 1 to 256 characters"},
      {"empty label name", header + "family = \"cpu.busy_pct\"\nmatch_labels = { \"\" = \"*\" }\n",
       "t.toml:5: alert.match_labels: label names must be 1 to 256 characters"},
      {"neither series nor family", header, "t.toml:1: alert 'r': series or family: required"},
  };
  for (const Case& c : cases) {
    Config config;
    const Status status = load_config_text(c.text, "t.toml", config);
    ASSERT_FALSE(status.ok()) << c.what;
    EXPECT_TRUE(contains(status.error, c.expected)) << c.what << "\n  expected: " << c.expected
                                                    << "\n  got:      " << status.error;
    EXPECT_TRUE(config.alerts.empty()) << "config changed by a failed load: " << c.what;
  }
}

// crit at the same number as warn is allowed (e.g. warn "> 80", crit ">= 80" would
// be odd but consistent); crit beyond warn in either direction is the normal case.
TEST(AlertConfigTest, CritAtOrBeyondWarnIsAccepted) {
  const std::string header = "[[alert]]\nname = \"r\"\nseries = \"load.1m\"\n";
  for (const std::string thresholds : {"warn = \"> 80\"\ncrit = \"> 80\"\n", "warn = \"> 80\"\ncrit = \"> 95\"\n",
                                       "warn = \"< 10\"\ncrit = \"< 5\"\n", "warn = \"<= 10\"\ncrit = \"< 10\"\n"}) {
    Config config;
    const Status status = load_config_text(header + thresholds, "t.toml", config);
    EXPECT_TRUE(status.ok()) << thresholds << ": " << status.error;
    EXPECT_EQ(config.alerts.size(), 1u) << thresholds;
  }
}

// The first problem in file order is the one reported.
TEST(AlertConfigTest, FirstBadRuleIsReported) {
  Config config;
  const Status status = load_config_text(std::string(kLoadRule) +
                                             "[[alert]]\nname = \"b\"\nseries = \"x\"\nwarn = \"> 1\"\nwarn_clear = \"> 0\"\n"
                                             "[[alert]]\nname = \"c\"\nseries = \"x\"\n",
                                         "t.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error, "t.toml:5: alert 'b': warn_clear")) << status.error;
}

// ---------------------------------------------------------------------------
// rules_dir

// "\n" + text, written so that GCC 12's -Wrestrict false positive on
// operator+(const char*, std::string&&) does not break -O3 -Werror builds.
std::string blank_line_then(const std::string& text) {
  std::string result = "\n";
  result += text;
  return result;
}

class RulesDirTest : public ::testing::Test {
 protected:
  // TMP/etc/hostpulse.toml with rules_dir (and extra text); rule files in TMP/etc/rules.d.
  std::string etc() const { return dir_.path() + "/etc"; }
  std::string rules_d() const { return etc() + "/rules.d"; }
  void SetUp() override { std::filesystem::create_directories(rules_d()); }

  std::string write_rules(const std::string& name, const std::string& text) const {
    return dir_.write("etc/rules.d/" + name, text);
  }
  std::string write_config(const std::string& text) const { return dir_.write("etc/hostpulse.toml", text); }

  Status load(const std::string& text, Config& config) const { return load_config_file(write_config(text), config); }

  static std::string rule(const std::string& name, const std::string& series = "load.1m") {
    return "[[alert]]\nname = \"" + name + "\"\nseries = \"" + series + "\"\nwarn = \"> 5\"\n";
  }

  TempDir dir_;
};

TEST_F(RulesDirTest, FilesLoadInNameOrderAfterTheMainFile) {
  write_rules("20-b.toml", rule("b1") + rule("b2"));
  write_rules("10-a.toml", rule("a"));
  write_rules("30-c.toml", "# only a comment\n");
  write_rules("99-z.toml", rule("z"));
  write_rules("notes.txt", "not toml at all [[[");           // not *.toml: ignored
  write_rules("50-disabled.toml.bak", "garbage = [");         // not *.toml: ignored
  Config config;
  const Status status = load("rules_dir = \"rules.d\"\n" + rule("main"), config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(rule_names(config.alerts), (std::vector<std::string>{"main", "a", "b1", "b2", "z"}));
  EXPECT_EQ(config.rules_dir, rules_d());
  // Each rule knows where it came from.
  EXPECT_EQ(config.alerts[0].source, etc() + "/hostpulse.toml");
  EXPECT_EQ(config.alerts[0].line, 2u);
  EXPECT_EQ(config.alerts[1].source, rules_d() + "/10-a.toml");
  EXPECT_EQ(config.alerts[1].line, 1u);
  EXPECT_EQ(config.alerts[3].source, rules_d() + "/20-b.toml");
  EXPECT_EQ(config.alerts[3].line, 5u);
}

TEST_F(RulesDirTest, RelativeRulesDirResolvesAgainstTheConfigFilesFolder) {
  std::filesystem::create_directories(dir_.path() + "/shared");
  dir_.write("shared/x.toml", rule("shared"));
  // The test's working directory is elsewhere: only the config file's folder counts.
  ASSERT_NE(std::filesystem::current_path().string(), etc());
  Config config;
  Status status = load("rules_dir = \"../shared\"\n", config);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(config.rules_dir, dir_.path() + "/shared");
  EXPECT_EQ(rule_names(config.alerts), (std::vector<std::string>{"shared"}));

  // "./rules.d" and an absolute path work too.
  write_rules("a.toml", rule("a"));
  Config second;
  status = load("rules_dir = \"./rules.d\"\n", second);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(second.rules_dir, rules_d());
  EXPECT_EQ(rule_names(second.alerts), (std::vector<std::string>{"a"}));
  Config third;
  status = load("rules_dir = \"" + dir_.path() + "/shared\"\n", third);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(rule_names(third.alerts), (std::vector<std::string>{"shared"}));
}

// A *.toml entry that is not a regular file is an error, not skipped: rules
// that silently stop loading would be worse than a reload that says why.
TEST_F(RulesDirTest, EntriesThatAreNotRegularFilesAreErrors) {
  write_rules("10-a.toml", rule("a"));
  const std::string directory = rules_d() + "/40-dir.toml";
  std::filesystem::create_directories(directory);
  std::vector<AlertRule> rules;
  Status status = load_rules_dir(rules_d(), rules);
  EXPECT_EQ(status.error, directory + ": is a directory, not a regular file");
  EXPECT_TRUE(rules.empty());
  std::filesystem::remove(directory);

  const std::string fifo = rules_d() + "/50-fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  status = load_rules_dir(rules_d(), rules);  // returns at once: no writer is waited for
  EXPECT_EQ(status.error, fifo + ": is a FIFO, not a regular file");
  std::filesystem::remove(fifo);

  // A link to a regular file is fine.
  std::filesystem::create_symlink(rules_d() + "/10-a.toml", rules_d() + "/60-link.toml");
  status = load_rules_dir(rules_d(), rules);
  EXPECT_FALSE(status.ok());  // the same rule name twice: the link was read
  EXPECT_TRUE(contains(status.error, "60-link.toml:1: alert 'a': name already used")) << status.error;
}

TEST_F(RulesDirTest, TooManyFilesOrBytesAreErrors) {
  for (std::size_t i = 0; i <= kMaxRulesFiles; ++i) write_rules("r" + std::to_string(i) + ".toml", "");
  std::vector<AlertRule> rules;
  Status status = load_rules_dir(rules_d(), rules);
  EXPECT_EQ(status.error, "more than " + std::to_string(kMaxRulesFiles) + " rule files in '" + rules_d() + "'");
  std::filesystem::remove_all(rules_d());
  std::filesystem::create_directories(rules_d());

  // Each file under the per-file limit, together over the folder's.
  const std::string comment = "#" + std::string(kMaxConfigFileBytes - 2, 'x') + "\n";
  const std::size_t files = kMaxRulesDirBytes / kMaxConfigFileBytes + 1;
  for (std::size_t i = 0; i < files; ++i) write_rules("big" + std::to_string(i) + ".toml", comment);
  status = load_rules_dir(rules_d(), rules);
  EXPECT_EQ(status.error, rules_d() + "/big" + std::to_string(files - 1) + ".toml: the rule files in '" + rules_d() +
                              "' together exceed 4 MiB");
}

// What the pre-scan refuses in a rules file names that file, through the
// same path as every other rules error (and so a reload rejects it).
TEST_F(RulesDirTest, NestingTooDeepInARulesFileNamesItsFileAndLine) {
  write_rules("10-a.toml", rule("a"));
  write_rules("20-deep.toml", rule("b") + "x = " + std::string(10'000, '['));
  Config config;
  const Status status = load("rules_dir = \"rules.d\"\n", config);
  EXPECT_EQ(status.error, rules_d() + "/20-deep.toml:5: nesting too deep (more than " +
                              std::to_string(kMaxTomlNestingDepth) + " levels of arrays/inline tables)");
  EXPECT_TRUE(config.alerts.empty());
}

TEST_F(RulesDirTest, LoadRulesDirDirectly) {
  write_rules("b.toml", rule("b"));
  write_rules("a.toml", rule("a"));
  std::vector<AlertRule> rules;
  const Status status = load_rules_dir(rules_d(), rules);
  ASSERT_TRUE(status.ok()) << status.error;
  EXPECT_EQ(rule_names(rules), (std::vector<std::string>{"a", "b"}));
  std::vector<AlertRule> none;
  EXPECT_TRUE(load_rules_dir(dir_.path(), none).ok());  // no *.toml at all: no rules, no error
  EXPECT_TRUE(none.empty());
}

TEST_F(RulesDirTest, MissingRulesDirIsAnError) {
  Config config;
  const Status status = load("rules_dir = \"missing.d\"\n" + rule("main"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error, "rules_dir")) << status.error;
  EXPECT_TRUE(contains(status.error, etc() + "/missing.d")) << status.error;
  EXPECT_TRUE(config.alerts.empty());
  EXPECT_TRUE(config.rules_dir.empty());
}

TEST_F(RulesDirTest, MissingRulesDirNamesTheConfigFileAndLine) {
  Config config;
  const Status status = load("\n\nrules_dir = \"missing.d\"\n", config);
  ASSERT_FALSE(status.ok());
  // Like every other config error: "FILE:LINE: KEY: ...".
  EXPECT_TRUE(contains(status.error, etc() + "/hostpulse.toml:3: rules_dir: ")) << status.error;
  EXPECT_TRUE(contains(status.error, etc() + "/missing.d")) << status.error;

  // A file is not a rules folder either.
  Config second;
  const Status file_status = load("rules_dir = \"hostpulse.toml\"\n", second);
  ASSERT_FALSE(file_status.ok());
  EXPECT_TRUE(contains(file_status.error, etc() + "/hostpulse.toml:1: rules_dir: ")) << file_status.error;
  EXPECT_TRUE(second.alerts.empty());
}

TEST_F(RulesDirTest, RuleErrorsNameTheRulesFile) {
  struct Case {
    const char* what;
    std::string text;
    std::string expected;  // after "TMP/etc/rules.d/r.toml"
  };
  const Case cases[] = {
      {"non-alert key", "# rules\n\nlisten = \"0.0.0.0:80\"\n", ":3: listen: unknown key (known keys: alert)"},
      {"a table", rule("a") + "[http]\nmax_connections = 5\n", ":5: http: unknown key"},
      {"TOML syntax error", "[[alert]]\nname = \"a\n", ":2: TOML syntax error"},
      {"TOML syntax error later", rule("a") + "\n[[alert]\n", ":6: TOML syntax error"},
      {"rule-level", blank_line_then(rule("a")) + "crit = \"< 1\"\n", ":2: alert 'a': warn and crit point in different directions"},
      {"bad value", rule("a") + "for = \"forever\"\n", ":5: alert.for: invalid duration 'forever'"},
      {"unknown key", rule("a") + "sevrity = \"page\"\n", ":5: alert.sevrity: unknown key"},
      {"duplicate in the same file", rule("a") + rule("a"), ":5: alert 'a': name already used by the rule at " +
                                                              rules_d() + "/r.toml:1"},
  };
  for (const Case& c : cases) {
    write_rules("r.toml", c.text);
    Config config;
    const Status status = load("rules_dir = \"rules.d\"\n", config);
    ASSERT_FALSE(status.ok()) << c.what;
    const std::string expected = rules_d() + "/r.toml" + c.expected;
    EXPECT_TRUE(contains(status.error, expected)) << c.what << "\n  expected: " << expected
                                                  << "\n  got:      " << status.error;
    EXPECT_TRUE(config.alerts.empty()) << c.what;
  }
}

TEST_F(RulesDirTest, DuplicateNamesAcrossFiles) {
  // Main file and a rules file.
  write_rules("a.toml", blank_line_then(rule("cpu_busy", "cpu.busy_pct")));
  Config config;
  Status status = load("listen = \"127.0.0.1:1\"\nrules_dir = \"rules.d\"\n\n" + rule("cpu_busy"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error, rules_d() + "/a.toml:2: alert 'cpu_busy': name already used by the rule at " +
                                         etc() + "/hostpulse.toml:4"))
      << status.error;
  EXPECT_EQ(config.listen.port, 9870) << "config changed by a failed load";
  EXPECT_TRUE(config.alerts.empty());

  // Two rules files: the later file is the one reported.
  std::filesystem::remove(rules_d() + "/a.toml");
  write_rules("b.toml", rule("x"));
  write_rules("c.toml", rule("y") + rule("x"));
  status = load("rules_dir = \"rules.d\"\n", config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error, rules_d() + "/c.toml:5: alert 'x': name already used by the rule at " + rules_d() +
                                         "/b.toml:1"))
      << status.error;
}

// ---------------------------------------------------------------------------
// hostpulse --check-config

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "hostpulse");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// The stock rules in packaging/rules.d/stock.toml, in file order.
const std::vector<std::string> kStockRuleNames{
    "cpu_busy", "memory_available_low", "swap_heavy_use", "load_per_cpu_high", "iowait_high", "filesystem_full",
    "filesystem_inodes_full", "memory_pressure", "memory_pressure_full", "io_pressure", "io_pressure_full",
    "interface_rx_errors", "interface_tx_errors", "temperature_high"};

TEST(AlertCheckConfigTest, ShippedConfigHasTheStockAlertRules) {
  const std::string path = std::string(HOSTPULSE_SOURCE_DIR) + "/packaging/hostpulse.toml";
  const CommandLine result = parse({"--config", path, "--check-config"});
  ASSERT_TRUE(result.exit_code.has_value());
  EXPECT_EQ(*result.exit_code, kExitOk) << result.err;
  EXPECT_TRUE(contains(result.out, "configuration OK (" + path + ")")) << result.out;
  EXPECT_TRUE(contains(result.out, ", " + std::to_string(kStockRuleNames.size()) + " alert rules\n")) << result.out;
  EXPECT_EQ(rule_names(result.config.alerts), kStockRuleNames);
  // Every stock rule is enabled and uses a series hostpulse has.
  for (const AlertRule& rule : result.config.alerts) {
    EXPECT_TRUE(rule.enabled) << rule.name;
    EXPECT_EQ(rule.source, std::string(HOSTPULSE_SOURCE_DIR) + "/packaging/rules.d/stock.toml") << rule.name;
  }
}

SeriesInfo series_of(std::string name, std::string family, std::vector<SeriesLabel> labels = {}) {
  SeriesInfo info;
  info.name = std::move(name);
  info.family = std::move(family);
  info.labels = std::move(labels);
  return info;
}

// Series as the agent names them: the classic ones, and the whole-host
// sources' per entity and host-wide (docs/api.md#series). A rule that names a
// family or series the agent does not have would load and never fire.
std::vector<SeriesInfo> agent_series() {
  return {
      series_of("cpu.busy_pct", "cpu.busy_pct"),
      series_of("cpu.iowait_pct", "cpu.iowait_pct"),
      series_of("mem.available_pct", "mem.available_pct"),
      series_of("swap.used_pct", "swap.used_pct"),
      series_of("load.5m_per_cpu", "load.5m_per_cpu"),
      series_of("fs./.used_pct", "fs.used_pct", {{.name = "mount", .value = "/"}}),
      series_of("fs./home.inodes_used_pct", "fs.inodes_used_pct", {{.name = "mount", .value = "/home"}}),
      series_of("pressure.memory.some_avg60_pct", "pressure.some_avg60_pct", {{.name = "resource", .value = "memory"}}),
      series_of("pressure.memory.full_avg60_pct", "pressure.full_avg60_pct", {{.name = "resource", .value = "memory"}}),
      series_of("pressure.io.some_avg60_pct", "pressure.some_avg60_pct", {{.name = "resource", .value = "io"}}),
      series_of("pressure.io.full_avg60_pct", "pressure.full_avg60_pct", {{.name = "resource", .value = "io"}}),
      series_of("net.eth0.rx_errors_per_s", "net.rx_errors_per_s", {{.name = "interface", .value = "eth0"}}),
      series_of("net.eth0.tx_errors_per_s", "net.tx_errors_per_s", {{.name = "interface", .value = "eth0"}}),
      series_of("sensor.coretemp/Package%20id%200.temp_celsius", "sensor.temp_celsius",
                {{.name = "sensor", .value = "coretemp/Package id 0"}}),
      // Not to be selected by the per-entity rules: the host-wide totals and a neighbouring family.
      series_of("net.rx_bytes_per_s", "net.rx_bytes_per_s"),
      series_of("pressure.cpu.some_avg60_pct", "pressure.some_avg60_pct", {{.name = "resource", .value = "cpu"}}),
      series_of("sensor.coretemp/Package%20id%200.temp_crit_celsius", "sensor.temp_crit_celsius",
                {{.name = "sensor", .value = "coretemp/Package id 0"}}),
  };
}

TEST(AlertCheckConfigTest, EveryStockRuleSelectsTheSeriesItIsFor) {
  std::vector<AlertRule> rules;
  const Status status = load_rules_dir(std::string(HOSTPULSE_SOURCE_DIR) + "/packaging/rules.d", rules);
  ASSERT_TRUE(status.ok()) << status.error;
  const std::vector<SeriesInfo> known = agent_series();
  const auto selected = [&](const std::string& rule_name) {
    std::vector<std::string> names;
    for (const AlertRule& rule : rules) {
      if (rule.name != rule_name) continue;
      for (const SeriesInfo& info : known) {
        if (rule.selects(info)) names.push_back(info.name);
      }
    }
    return names;
  };
  for (const AlertRule& rule : rules) EXPECT_FALSE(selected(rule.name).empty()) << rule.name << " selects no series the agent has";
  using Names = std::vector<std::string>;
  EXPECT_EQ(selected("filesystem_full"), Names{"fs./.used_pct"});
  EXPECT_EQ(selected("filesystem_inodes_full"), Names{"fs./home.inodes_used_pct"});
  EXPECT_EQ(selected("memory_pressure"), Names{"pressure.memory.some_avg60_pct"});
  EXPECT_EQ(selected("memory_pressure_full"), Names{"pressure.memory.full_avg60_pct"});
  EXPECT_EQ(selected("io_pressure"), Names{"pressure.io.some_avg60_pct"});
  EXPECT_EQ(selected("io_pressure_full"), Names{"pressure.io.full_avg60_pct"});
  EXPECT_EQ(selected("interface_rx_errors"), Names{"net.eth0.rx_errors_per_s"});
  EXPECT_EQ(selected("interface_tx_errors"), Names{"net.eth0.tx_errors_per_s"});
  EXPECT_EQ(selected("temperature_high"), Names{"sensor.coretemp/Package%20id%200.temp_celsius"});
}

TEST(AlertCheckConfigTest, BadRulesFileFailsWithFileAndLine) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/rules.d");
  dir.write("rules.d/bad.toml", "[[alert]]\nname = \"x\"\nseries = \"load.1m\"\nwarn = \"> 5\"\nwarn_clear = \"< 6\"\n");
  const std::string config = dir.write("hostpulse.toml", "rules_dir = \"rules.d\"\n");
  const CommandLine result = parse({"--config", config, "--check-config"});
  ASSERT_TRUE(result.exit_code.has_value());
  EXPECT_EQ(*result.exit_code, kExitConfigError);
  EXPECT_EQ(result.err, "hostpulse: " + dir.path() + "/rules.d/bad.toml:1: alert 'x': warn_clear '< 6' overlaps warn '> 5': "
                                                     "it must lie on the other side of the threshold\n");
  EXPECT_TRUE(result.out.empty());
}

}  // namespace
}  // namespace hostpulse
