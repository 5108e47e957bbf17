// Sensors: temperatures against their critical threshold (the hottest
// relative to it first) and fan speeds.
import { entityPanel } from "{{asset:entity-list.js}}";
import { celsius, rpm } from "{{asset:format.js}}";

// Without a critical threshold from the chip, the stock rule's fixed ones (temperature_high).
const WARN_C = 85;
const CRIT_C = 95;
// Within this many degrees of the chip's own critical threshold is worth a look.
const NEAR_CRIT_C = 10;

function tone({ temp, crit, max }) {
  if (temp == null) return "";
  if (crit != null) return temp >= crit ? "bad" : temp >= crit - NEAR_CRIT_C || (max != null && temp >= max) ? "warn" : "";
  return temp >= CRIT_C ? "bad" : temp >= WARN_C ? "warn" : "";
}

export default entityPanel({
  id: "sensors",
  title: "Sensors",
  subtitle: "temperature vs critical, fans",
  groups: [{
    id: "temp",
    title: "Temperatures",
    label: "sensor",
    fields: { temp: "sensor.temp_celsius", max: "sensor.temp_max_celsius", crit: "sensor.temp_crit_celsius" },
    // Closest to critical first: 70 °C on a 100 °C chip is less worrying than 60 °C on a 65 °C one.
    rank: { fields: ["temp", "crit"], score: (a) => (a.temp == null ? -Infinity : a.temp / (a.crit ?? CRIT_C)) },
    cells: [
      { text: (v) => celsius(v.temp), bar: (v) => (v.temp == null ? null : (100 * v.temp) / (v.crit ?? CRIT_C)), tone },
      { text: (v) => (v.crit == null ? "" : `crit ${celsius(v.crit)}`) },
    ],
  }, {
    id: "fan",
    title: "Fans",
    label: "fan",
    fields: { rpm: "fan.rpm" },
    cells: [{ text: (v) => rpm(v.rpm), tone: (v) => (v.rpm === 0 ? "warn" : "") }],
  }],
});
