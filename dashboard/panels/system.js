// The host's uptime in the page header (no card of its own).
import { duration } from "{{asset:format.js}}";

export default {
  id: "system",
  card: false,
  bindings: { uptime: { family: "system.uptime_s" } },
  mount(body, ctx) {
    let resolved = {};
    return {
      bind(model) {
        resolved = model;
      },
      draw(view) {
        const uptime = view.column(resolved.uptime?.name);
        const newest = uptime[uptime.length - 1];
        if (newest != null) ctx.document.getElementById("uptime").textContent = duration(newest);
      },
    };
  },
};
