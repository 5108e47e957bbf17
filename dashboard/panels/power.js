// Power supplies: battery charge and whether it is discharging, AC adapters online or not.
import { entityPanel } from "{{asset:entity-list.js}}";
import { percent } from "{{asset:format.js}}";

// A discharging battery below this is about to take the host down.
const LOW_CHARGE_PCT = 15;

export default entityPanel({
  id: "power",
  title: "Power",
  subtitle: "batteries and AC",
  groups: [{
    id: "supply",
    label: "supply",
    fields: { charge: "power.charge_pct", discharging: "power.discharging", online: "power.online" },
    cells: [
      { text: (v) => (v.charge == null ? "" : percent(v.charge)), bar: (v) => v.charge,
        tone: (v) => (v.discharging === 1 && v.charge < LOW_CHARGE_PCT ? "bad" : "") },
      { text: (v) => (v.discharging == null ? "" : v.discharging ? "discharging" : "charging or full"),
        tone: (v) => (v.discharging === 1 ? "warn" : "") },
      { text: (v) => (v.online == null ? "" : v.online ? "AC online" : "AC offline"), tone: (v) => (v.online === 0 ? "warn" : "") },
    ],
  }],
});
