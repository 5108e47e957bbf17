// The alerts card (active alerts, the recent event log) and the critical
// banner, from the stream's alert messages and GET /api/v1/alerts. Not a
// panel: it shows alert state, not series.
import { inUnit, stamp } from "{{asset:format.js}}";

// The log keeps the newest events only: a flapping alert must not grow the page.
const EVENT_LOG_LIMIT = 100;
const SEVERITY_RANK = { critical: 3, warning: 2, nodata: 1, pending: 0 };
const ACTIVE_STATES = ["pending", "warning", "critical", "nodata"];

export class AlertsView {
  // unitOf(seriesName) -> the unit to show an alert's value in.
  constructor(document, unitOf) {
    this.document = document;
    this.unitOf = unitOf;
    this.active = [];
    this.events = [];  // newest last
  }

  setActive(active) {
    this.active = active;
    this.show();
  }

  // One transition from the stream.
  add(event) {
    this.events.push(event);
    if (this.events.length > EVENT_LOG_LIMIT) this.events.splice(0, this.events.length - EVENT_LOG_LIMIT);
    this.active = this.active.filter((a) => !(a.rule === event.rule && a.instance === event.instance));
    if (ACTIVE_STATES.includes(event.to)) {
      this.active.push({ rule: event.rule, instance: event.instance, state: event.to, value: event.value,
        since: event.t, severity: event.severity, description: event.description });
    }
    this.show();
  }

  async loadLog() {
    try {
      const response = await fetch("/api/v1/alerts", { cache: "no-store" });
      if (!response.ok) return;
      const body = await response.json();
      this.events = (body.events ?? []).slice(-EVENT_LOG_LIMIT);
      this.show();
    } catch {
      // the stream delivers new events anyway
    }
  }

  formatValue(alert) {
    return inUnit(alert.value, this.unitOf(alert.instance));
  }

  show() {
    const $ = (id) => this.document.getElementById(id);
    const body = $("alerts-active").tBodies[0];
    const active = [...this.active].sort((a, b) => (SEVERITY_RANK[b.state] ?? 0) - (SEVERITY_RANK[a.state] ?? 0) || a.since - b.since);
    body.replaceChildren(...active.map((alert) => {
      const row = this.document.createElement("tr");
      row.dataset.rule = alert.rule;
      row.dataset.state = alert.state;
      const sev = this.document.createElement("span");
      sev.className = `sev ${alert.state}`;
      sev.textContent = alert.state;
      const cells = [sev, `${alert.rule} · ${alert.instance}${alert.description ? " — " + alert.description : ""}`,
        alert.value == null ? "–" : this.formatValue(alert), stamp(alert.since)];
      for (const content of cells) {
        const cell = this.document.createElement("td");
        cell.append(content);
        row.append(cell);
      }
      return row;
    }));
    $("alerts-none").hidden = active.length > 0;
    $("alert-count").textContent = active.length ? `${active.length} active` : "";
    const critical = active.filter((a) => a.state === "critical");
    const banner = $("critical-banner");
    banner.hidden = critical.length === 0;
    banner.textContent = critical.length
      ? `Critical: ${critical.map((a) => a.description || `${a.rule} on ${a.instance}`).join("; ")}`
      : "";
    $("alert-log").replaceChildren(...this.events.slice(-EVENT_LOG_LIMIT).reverse().map((event) => {
      const item = this.document.createElement("li");
      const time = this.document.createElement("time");
      time.dateTime = new Date(event.t).toISOString();
      time.textContent = stamp(event.t);
      item.append(time, `${event.rule} · ${event.instance}: ${event.from} → ${event.to}` +
        (event.value == null ? "" : ` (${this.formatValue(event)})`));
      return item;
    }));
  }
}
