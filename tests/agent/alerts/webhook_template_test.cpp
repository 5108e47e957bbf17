// Webhook templates: {{field}} substitution only, escaped for where the
// value lands; unknown fields and unclosed braces are errors.

#include "agent/alerts/webhook_template.hpp"

#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hostpulse {
namespace {

AlertEvent critical_event() {
  AlertEvent e;
  e.rule = "disk_full";
  e.instance = "fs./srv.used_pct";
  e.from = AlertState::warning;
  e.to = AlertState::critical;
  e.value = 97.456;
  e.threshold = "> 95";
  e.t_ms = 1'795'320'093'042;
  e.severity = "page";
  e.description = "/srv is \"97.46 %\" full\nact now";
  return e;
}

std::string render(std::string_view text, const TemplateFields& fields, TemplateEscaping escaping) {
  WebhookTemplate parsed;
  const Status status = parse_webhook_template(text, parsed);
  EXPECT_TRUE(status.ok()) << status.error;
  return render_webhook_template(parsed, fields, escaping);
}

TEST(WebhookTemplateTest, FieldsOfANotification) {
  const TemplateFields fields = template_fields(critical_event(), "db-1", "txn-7");
  const auto field = [&](std::string_view name) {
    for (std::size_t i = 0; i < kTemplateFieldNames.size(); ++i) {
      if (kTemplateFieldNames[i] == name) return fields[i];
    }
    ADD_FAILURE() << "no field " << name;
    return std::string();
  };
  EXPECT_EQ(field("rule"), "disk_full");
  EXPECT_EQ(field("instance"), "fs./srv.used_pct");
  EXPECT_EQ(field("host"), "db-1");
  EXPECT_EQ(field("from"), "warning");
  EXPECT_EQ(field("to"), "critical");
  EXPECT_EQ(field("status"), "firing");
  EXPECT_EQ(field("severity"), "page");
  EXPECT_EQ(field("value"), "97.46");
  EXPECT_EQ(field("threshold"), "> 95");
  EXPECT_EQ(field("title"), "[FIRING] disk_full on fs./srv.used_pct (critical)");
  EXPECT_EQ(field("t"), "1795320093042");
  EXPECT_EQ(field("time"), "2026-11-22T04:01:33.042Z");
  EXPECT_EQ(field("txn_id"), "txn-7");
  EXPECT_EQ(field("priority"), "5");
  EXPECT_EQ(field("gotify_priority"), "8");

  AlertEvent resolved = critical_event();
  resolved.from = AlertState::critical;
  resolved.to = AlertState::ok;
  resolved.summary = "/srv is fine again";
  resolved.incident_ms = 61'000;
  const TemplateFields after = template_fields(resolved, "db-1", "txn-8");
  EXPECT_EQ(after[5], "resolved");
  EXPECT_EQ(after[11], "/srv is fine again") << "the rule's summary is the title";
  EXPECT_EQ(after[14], "61000");
  EXPECT_EQ(after[17], "2");

  AlertEvent nodata = critical_event();
  nodata.to = AlertState::nodata;
  nodata.value = std::numeric_limits<double>::quiet_NaN();
  const TemplateFields missing = template_fields(nodata, "h", "t");
  EXPECT_EQ(missing[5], "nodata");
  EXPECT_EQ(missing[7], "no data");
}

TEST(WebhookTemplateTest, EscapesForWhereTheValueLands) {
  const TemplateFields fields = template_fields(critical_event(), "db-1", "t");
  const std::string json_body = render(R"({"text":"{{description}} on {{ host }}"})", fields, TemplateEscaping::json);
  EXPECT_EQ(json_body, R"({"text":"/srv is \"97.46 %\" full\nact now on db-1"})");
  EXPECT_EQ(nlohmann::json::parse(json_body)["text"], "/srv is \"97.46 %\" full\nact now on db-1");
  EXPECT_EQ(render("{{description}}", fields, TemplateEscaping::text), "/srv is \"97.46 %\" full\nact now");
  EXPECT_EQ(render("{{description}}", fields, TemplateEscaping::header), "/srv is \"97.46 %\" full act now")
      << "a header value stays one line";
  EXPECT_EQ(render("/x/{{instance}}", fields, TemplateEscaping::url), "/x/fs.%2Fsrv.used_pct");
  EXPECT_EQ(json_string_contents(std::string_view("a\x01\\b", 4)), "a\\u0001\\\\b");
}

TEST(WebhookTemplateTest, LiteralsStayAsWritten) {
  const TemplateFields fields = template_fields(critical_event(), "h", "t");
  EXPECT_EQ(render("", fields, TemplateEscaping::text), "");
  EXPECT_EQ(render("no fields at all {", fields, TemplateEscaping::text), "no fields at all {");
  EXPECT_EQ(render("} {single} {{rule}}{{rule}}", fields, TemplateEscaping::text), "} {single} disk_fulldisk_full");
}

TEST(WebhookTemplateTest, UnknownFieldsAndUnclosedBracesAreErrors) {
  struct Case {
    std::string_view text;
    std::string_view error;
  };
  const Case cases[] = {
      {"{{sevrity}}", "unknown field 'sevrity' at byte 0 (fields: rule, instance, host,"},
      {"x {{rule}} {{rule", "'{{' at byte 11 is not closed with '}}'"},
      {"{{", "'{{' at byte 0 is not closed"},
      {"{{}}", "unknown field '' at byte 0"},
      // Nothing is ever evaluated: anything but a field name is just an unknown field.
      {"{{ $(reboot) }}", "unknown field '$(reboot)' at byte 0"},
      {"{{rule | upper}}", "unknown field 'rule | upper'"},
      {"{{#each alerts}}", "unknown field '#each alerts'"},
  };
  for (const Case& c : cases) {
    WebhookTemplate parsed;
    const Status status = parse_webhook_template(c.text, parsed);
    ASSERT_FALSE(status.ok()) << c.text;
    EXPECT_NE(status.error.find(c.error), std::string::npos) << c.text << "\n  got: " << status.error;
  }
}

}  // namespace
}  // namespace hostpulse
