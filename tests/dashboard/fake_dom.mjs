// Just enough of a DOM for the list panels (dashboard/entity-list.js) under
// node, counting what a tick costs: elements created and writes (text,
// attributes, classes, style, children added, moved or removed). A write that
// sets the value already there still counts: the panels must not make it.

export class FakeDocument {
  constructor() {
    this.created = 0;
    this.writes = 0;
  }

  createElement(tag) {
    this.created++;
    return new FakeElement(this, tag);
  }
}

class FakeText {
  constructor(text) {
    this.text = String(text);
    this.parent = null;
  }
  get textContent() {
    return this.text;
  }
}

function styleOf(element) {
  const values = {};
  return new Proxy(values, {
    set(target, key, value) {
      element.document.writes++;
      target[key] = value;
      return true;
    },
  });
}

export class FakeElement {
  constructor(document, tag) {
    this.document = document;
    this.tagName = tag.toUpperCase();
    this.childNodes = [];
    this.parent = null;
    this.attributes = {};
    this.dataset = {};
    this.listeners = {};
    this.style = styleOf(this);
    this.props = { className: "", hidden: false, id: "", title: "", type: "" };
  }

  write() {
    this.document.writes++;
  }

  get children() {
    return this.childNodes.filter((node) => node instanceof FakeElement);
  }
  get firstElementChild() {
    return this.children[0] ?? null;
  }
  get lastElementChild() {
    return this.children.at(-1) ?? null;
  }
  get parentElement() {
    return this.parent;
  }

  get textContent() {
    return this.childNodes.map((node) => node.textContent).join("");
  }
  set textContent(text) {
    this.write();
    for (const node of this.childNodes) node.parent = null;
    this.childNodes = text === "" ? [] : [new FakeText(text)];
  }

  detach(node) {
    if (node.parent) {
      const siblings = node.parent.childNodes;
      siblings.splice(siblings.indexOf(node), 1);
    }
    node.parent = this;
    return node;
  }
  append(...nodes) {
    for (const node of nodes) {
      this.write();
      this.childNodes.push(this.detach(typeof node === "string" ? new FakeText(node) : node));
    }
  }
  insertBefore(node, before) {
    this.write();
    this.detach(node);
    const at = before ? this.childNodes.indexOf(before) : -1;
    if (at < 0) this.childNodes.push(node);
    else this.childNodes.splice(at, 0, node);
    return node;
  }
  remove() {
    if (!this.parent) return;
    this.write();
    const siblings = this.parent.childNodes;
    siblings.splice(siblings.indexOf(this), 1);
    this.parent = null;
  }
  replaceChildren(...nodes) {
    for (const node of this.childNodes) node.parent = null;
    this.childNodes = [];
    this.append(...nodes);
  }

  setAttribute(name, value) {
    this.write();
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return this.attributes[name] ?? null;
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }
  click() {
    for (const listener of this.listeners.click ?? []) listener({ target: this });
  }

  // Every element below this one (depth first), for the test's queries.
  *descendants() {
    for (const node of this.children) {
      yield node;
      yield* node.descendants();
    }
  }
  byClass(className) {
    return [...this.descendants()].filter((node) => node.className.split(" ").includes(className));
  }
  // Shown on the page: neither it nor an ancestor hidden.
  get visible() {
    for (let node = this; node; node = node.parent) if (node.hidden) return false;
    return true;
  }
}

for (const name of ["className", "hidden", "id", "title", "type"]) {
  Object.defineProperty(FakeElement.prototype, name, {
    get() {
      return this.props[name];
    },
    set(value) {
      this.write();
      this.props[name] = value;
    },
  });
}
