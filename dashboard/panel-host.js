// Mounts the panels, keeps each one bound to the series its bindings resolve
// to in the schema (again after every schema change), and hands them the
// points to draw.
//
// A panel is a plain object (see dashboard/panels/*.js):
//   id, title, subtitle, wide    its card (card: false for none)
//   bindings: {key: binding}     what it shows, by family and labels (schema.js resolveBinding)
//   model(resolved)              optional: what it draws, from the resolved bindings
//   mount(body, ctx) -> {bind(model), draw(view), resize?(), rebuild?()}
// ctx: {document, xRange(), view(), info()}.
import { resolvePanel } from "{{asset:schema.js}}";

export class PanelHost {
  constructor(panels, schema) {
    this.panels = panels;
    this.schema = schema;
    this.resolved = new Map();   // id -> {key: entry | null | [entries]}, as of the last schema change
    this.models = new Map();     // id -> the model the panel was last bound to
    this.instances = new Map();  // id -> mounted instance
    this.offSchema = schema.onChange(() => this.bindAll());
    this.bindAll();
  }

  model(id) {
    return this.models.get(id);
  }

  // Every panel's resolved bindings (what the page must subscribe to).
  allResolved() {
    return [...this.resolved.values()];
  }

  instance(id) {
    return this.instances.get(id);
  }

  // Each panel's card goes into `container`, in list order.
  mount(container, ctx) {
    const document = ctx.document;
    for (const panel of this.panels) {
      let body = null;
      if (panel.card !== false) {
        body = document.createElement("section");
        body.className = panel.wide ? "card wide" : "card";
        body.dataset.panel = panel.id;
        body.setAttribute("aria-labelledby", `${panel.id}-title`);
        const heading = document.createElement("h2");
        heading.id = `${panel.id}-title`;
        heading.append(panel.title);
        if (panel.subtitle) {
          const muted = document.createElement("span");
          muted.className = "muted";
          muted.textContent = panel.subtitle;
          heading.append(" ", muted);
        }
        body.append(heading);
        container.append(body);
      }
      const instance = panel.mount(body, ctx);
      this.instances.set(panel.id, instance);
      instance.bind(this.models.get(panel.id));
    }
  }

  bindAll() {
    const entries = this.schema.entries();
    for (const panel of this.panels) {
      const resolved = resolvePanel(entries, panel);
      const model = panel.model ? panel.model(resolved) : resolved;
      this.resolved.set(panel.id, resolved);
      this.models.set(panel.id, model);
      this.instances.get(panel.id)?.bind(model);
    }
  }

  draw(view) {
    for (const instance of this.instances.values()) instance.draw(view);
  }

  resize() {
    for (const instance of this.instances.values()) instance.resize?.();
  }

  // Canvas colours are not CSS: charts are built again when the theme flips.
  rebuild(view) {
    for (const instance of this.instances.values()) instance.rebuild?.();
    this.draw(view);
  }

  destroy() {
    this.offSchema();
  }
}
