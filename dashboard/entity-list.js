// Panels that list entities (interfaces, disks, mounts, sensors …): one row
// per entity with its newest values, the top few by a ranking, the rest behind
// "show all". Built for big hosts (50 interfaces, 40 mounts): a row is made
// once, when its entity first shows, and a tick only writes the cells whose
// text changed and moves the rows whose rank changed; a collapsed card is not
// drawn at all. The card stays hidden while the agent has none of its families,
// or none of their series has a value yet.
//
// entityPanel({id, title, subtitle, wide, groups}), a group being
//   id                  key prefix of its bindings
//   title               optional heading (a card with two lists: sensors and fans)
//   label               the entity label ("interface"), or null: one row of host-wide series
//   fields: {key: family}      the series of each entity
//   host: {key: family}        optional host-wide series, for `summary(values)` -> text
//   rank: {fields, score?}     optional: rows by score(averages of these fields over
//                              RANK_SPAN_MS), highest first (score: their sum); else label order
//   filter: {field, noun}      optional: rows whose `field` is 1 hidden until toggled
//   sortKey(key)               optional: the order without a rank (default: label order)
//   name(key, values)          optional row name (default: the label value)
//   cells: [{text(values) -> string ("" hides it), tone?(values) -> "bad" | "warn" | "",
//            bar?(values) -> percent}]
import { compareLabelValues } from "{{asset:schema.js}}";

// About what a phone shows without scrolling; the rest is one tap away.
export const TOP_COUNT = 8;
// Rank on the last 10 s, not the last tick: noisy traffic must not swap rows every second.
export const RANK_SPAN_MS = 10_000;
// A rate has no value on its first point and one series can miss a tick: the newest of the last few points stands.
const NEWEST_LOOKBACK = 3;

const bindingKey = (group, part, key) => `${group.id}.${part}.${key}`;

export function groupBindings(group) {
  const bindings = {};
  for (const [key, family] of Object.entries(group.fields)) {
    bindings[bindingKey(group, "f", key)] = group.label ? { family, each: group.label } : { family };
  }
  for (const [key, family] of Object.entries(group.host ?? {})) bindings[bindingKey(group, "h", key)] = { family };
  return bindings;
}

// The group's entities from the resolved bindings: [{key, names: {field: series name}}] in label order.
export function entitiesOf(group, resolved) {
  const byKey = new Map();
  for (const field of Object.keys(group.fields)) {
    const found = resolved[bindingKey(group, "f", field)];
    for (const entry of group.label ? found ?? [] : found ? [found] : []) {
      const key = group.label ? entry.labels[group.label] : "";
      if (!byKey.has(key)) byKey.set(key, { key, names: {} });
      byKey.get(key).names[field] = entry.name;
    }
  }
  const host = {};
  for (const key of Object.keys(group.host ?? {})) host[key] = resolved[bindingKey(group, "h", key)]?.name ?? null;
  const entities = [...byKey.values()];
  // An entity can lack the first field (an AC adapter has no charge): order by label, not by first sight.
  if (group.sortKey) {
    const position = (key) => (group.sortKey(key) < 0 ? Infinity : group.sortKey(key));
    entities.sort((a, b) => position(a.key) - position(b.key));
  } else {
    entities.sort((a, b) => compareLabelValues(a.key, b.key));
  }
  return { entities, host };
}

export function newest(view, name) {
  const column = name == null ? null : view.columns.get(name);
  if (!column) return null;
  for (let i = column.length - 1, stop = Math.max(0, column.length - NEWEST_LOOKBACK); i >= stop; i--) {
    if (column[i] != null) return column[i];
  }
  return null;
}

function average(view, name, from) {
  const column = name == null ? null : view.columns.get(name);
  if (!column) return null;
  let sum = 0;
  let count = 0;
  for (let i = from; i < column.length; i++) {
    if (column[i] != null) {
      sum += column[i];
      count++;
    }
  }
  return count ? sum / count : null;
}

// The rows to show, in order: [{entity, values}], and how many the filter hid.
export function rankRows(group, entities, view, { showAll = false, showFiltered = false } = {}) {
  let from = view.t.length;
  while (from > 0 && view.t[from - 1] >= view.toMs - RANK_SPAN_MS) from--;
  const rows = [];
  let filtered = 0;
  for (const entity of entities) {
    const values = {};
    for (const [field, name] of Object.entries(entity.names)) values[field] = newest(view, name);
    if (group.filter && !showFiltered && values[group.filter.field] === 1) {
      filtered++;
      continue;
    }
    let score = 0;
    if (group.rank) {
      const averages = {};
      for (const field of group.rank.fields) averages[field] = average(view, entity.names[field], from);
      score = group.rank.score ? group.rank.score(averages) : group.rank.fields.reduce((sum, f) => sum + (averages[f] ?? 0), 0);
    }
    rows.push({ entity, values, score: Number.isFinite(score) ? score : -Infinity });
  }
  if (group.rank) rows.sort((a, b) => b.score - a.score);  // stable: ties keep label order
  return { rows: showAll ? rows : rows.slice(0, TOP_COUNT), total: rows.length, filtered };
}

function collapsedKey(id) {
  return `hostpulse.collapsed.${id}`;
}

function loadCollapsed(id) {
  try {
    return globalThis.localStorage?.getItem(collapsedKey(id)) === "1";
  } catch {
    return false;  // private mode
  }
}

function saveCollapsed(id, collapsed) {
  try {
    globalThis.localStorage?.setItem(collapsedKey(id), collapsed ? "1" : "0");
  } catch {
    // private mode
  }
}

export function entityPanel({ id, title, subtitle, wide, groups }) {
  return {
    id, title, subtitle, wide,
    bindings: Object.assign({}, ...groups.map(groupBindings)),
    model: (resolved) => groups.map((group) => entitiesOf(group, resolved)),
    mount(body, ctx) {
      const document = ctx.document;
      const make = (tag, className, text) => {
        const element = document.createElement(tag);
        if (className) element.className = className;
        if (text) element.textContent = text;
        return element;
      };
      // Writes only what differs: the DOM is touched per tick only where a value changed.
      const setText = (element, text) => {
        if (element.textContent !== text) element.textContent = text;
      };
      const setHidden = (element, hidden) => {
        if (element.hidden !== hidden) element.hidden = hidden;
      };
      let collapsed = loadCollapsed(id);
      let lastView = null;
      let hasFamilies = false;
      const toggle = make("button", "collapse");
      toggle.type = "button";
      body.firstElementChild.append(toggle);
      const content = make("div", "entity-groups");
      body.append(content);
      const showCollapsed = () => {
        toggle.textContent = collapsed ? "show" : "hide";
        toggle.setAttribute("aria-expanded", String(!collapsed));
        content.hidden = collapsed;
      };
      toggle.addEventListener("click", () => {
        collapsed = !collapsed;
        saveCollapsed(id, collapsed);
        showCollapsed();
        if (!collapsed && lastView) instance.draw(lastView);
      });
      showCollapsed();

      const parts = groups.map((group) => {
        const part = { group, entities: [], host: {}, rows: new Map(), showAll: false, showFiltered: false };
        part.element = make("div", "entity-group");
        if (group.title) part.element.append(make("h3", "", group.title));
        if (group.summary) part.element.append(part.summary = make("p", "entity-summary muted"));
        part.list = make("ol", "entities");
        part.list.setAttribute("aria-label", group.title ?? title);
        part.element.append(part.list);
        const buttons = make("div", "entity-buttons");
        part.more = make("button", "more");
        part.more.type = "button";
        part.more.addEventListener("click", () => {
          part.showAll = !part.showAll;
          if (lastView) drawPart(part, lastView);
        });
        buttons.append(part.more);
        if (group.filter) {
          part.filterButton = make("button", "more");
          part.filterButton.type = "button";
          part.filterButton.addEventListener("click", () => {
            part.showFiltered = !part.showFiltered;
            if (lastView) drawPart(part, lastView);
          });
          buttons.append(part.filterButton);
        }
        part.element.append(buttons);
        content.append(part.element);
        return part;
      });

      function makeRow(part, entity) {
        const item = make("li", "entity");
        const name = make("span", "entity-name");
        item.append(name);
        const cells = part.group.cells.map(() => {
          const cell = make("span", "entity-cell");
          cell.hidden = true;
          item.append(cell);
          return { element: cell, bar: null, width: null, tone: "" };
        });
        return { item, name, cells, entity };
      }

      function drawRow(part, row, values) {
        const label = part.group.name ? part.group.name(row.entity.key, values) : row.entity.key || title;
        setText(row.name, label);
        if (row.name.title !== row.entity.key) row.name.title = row.entity.key;
        part.group.cells.forEach((spec, i) => {
          const cell = row.cells[i];
          const text = spec.text(values);
          const shown = text !== "" && text != null;
          setHidden(cell.element, !shown);
          if (!shown) return;
          if (spec.bar) {
            if (!cell.bar) {
              const track = make("i", "bar");
              cell.bar = make("b");
              track.append(cell.bar);
              cell.element.append(track, cell.text = make("span"));
            }
            const percent = spec.bar(values);
            const width = percent == null ? "0%" : `${Math.round(Math.min(100, Math.max(0, percent)))}%`;
            if (cell.width !== width) cell.bar.style.width = cell.width = width;
            setText(cell.text, text);
          } else {
            setText(cell.element, text);
          }
          const tone = spec.tone ? spec.tone(values) || "" : "";
          if (cell.tone !== tone) {
            cell.element.className = tone ? `entity-cell ${tone}` : "entity-cell";
            cell.tone = tone;
          }
        });
      }

      function drawPart(part, view) {
        const { group } = part;
        if (part.summary) {
          const host = {};
          for (const [key, name] of Object.entries(part.host)) host[key] = newest(view, name);
          setText(part.summary, group.summary(host));
        }
        const { rows, total, filtered } = rankRows(group, part.entities, view, { showAll: part.showAll, showFiltered: part.showFiltered });
        const list = part.list;
        rows.forEach(({ entity, values }, i) => {
          let row = part.rows.get(entity.key);
          if (!row) part.rows.set(entity.key, row = makeRow(part, entity));
          drawRow(part, row, values);
          // Moves only a row that is out of place; a steady ranking moves nothing.
          if (list.children[i] !== row.item) list.insertBefore(row.item, list.children[i] ?? null);
        });
        while (list.children.length > rows.length) list.lastElementChild.remove();
        setHidden(part.more, total <= TOP_COUNT);
        if (!part.more.hidden) setText(part.more, part.showAll ? `show top ${TOP_COUNT}` : `show all ${total}`);
        if (part.filterButton) {
          setHidden(part.filterButton, !part.showFiltered && filtered === 0);
          setText(part.filterButton, part.showFiltered ? `hide ${group.filter.noun}` : `show ${filtered} ${group.filter.noun}`);
        }
      }

      const instance = {
        parts,
        bind(model) {
          let present = false;
          model.forEach(({ entities, host }, i) => {
            const part = parts[i];
            const keys = new Set(entities.map((e) => e.key));
            // An entity gone from the schema loses its row; one that stays keeps it.
            for (const [key, row] of part.rows) {
              if (!keys.has(key)) {
                row.item.remove();
                part.rows.delete(key);
              }
            }
            for (const entity of entities) {
              const row = part.rows.get(entity.key);
              if (row) row.entity = entity;
            }
            part.entities = entities;
            part.host = host;
            setHidden(part.element, entities.length === 0);
            present ||= entities.length > 0;
          });
          hasFamilies = present;
          if (!present) setHidden(body, true);
          if (present && lastView) instance.draw(lastView);
        },
        draw(view) {
          lastView = view;
          if (!hasFamilies) return;
          // A source the host lacks (no cgroup limits, no PSI) can still
          // declare host-wide series that never get a value: the card shows
          // once something in it has one. The first entity usually does, so
          // this stops early.
          const live = parts.some((part) =>
            part.entities.some((entity) => Object.values(entity.names).some((name) => newest(view, name) != null)));
          setHidden(body, !live);
          if (collapsed || !live) return;
          for (const part of parts) if (part.entities.length) drawPart(part, view);
        },
      };
      return instance;
    },
  };
}
