// The connector form, generated from GET /api/1/schema: the source's fields for the chosen type,
// the mapping editor (one row per rule), the settings every connector has, and the rest as JSON.
// The engine's parser judges what is sent; each error it names is shown beside the field its
// JSON path points at. Values are set with .value and .textContent only.
"use strict";

const editor = {
  schema: null,
  presets: {},
  secrets: [],

  /** Elements whose data-path the form manages; everything else of a connector is "other". */
  managed(type) {
    const t = this.schema.types.find((x) => x.type === type) || { source: [] };
    return t.source.concat(this.schema.connector);
  },

  async load() {
    this.schema = await api.call("GET", "/schema");
    const presets = await api.call("GET", "/presets");
    const types = document.getElementById("f-type");
    types.replaceChildren();
    for (const t of this.schema.types) {
      types.append(Object.assign(el("option", t.label), { value: t.type }));
    }
    const select = document.getElementById("f-preset");
    select.replaceChildren(Object.assign(el("option", "none"), { value: "" }));
    for (const p of presets.presets) {
      this.presets[p.preset] = p;
      select.append(Object.assign(el("option", p.preset), { value: p.preset }));
    }
    const targets = document.getElementById("targets");
    targets.replaceChildren();
    for (const t of this.schema.mapping.targets) {
      targets.append(Object.assign(el("option"), { value: t }));
    }
    this.fill({ type: "csv", source: {}, mapping: [{ target: "username", source: "" }] });
  },

  /** One labelled input for a schema field, with a place for its error. */
  input(field, value) {
    const row = el("div");
    row.className = "field";
    const id = "f-" + field.path.replace(/[^a-z0-9]+/gi, "-");
    const label = el("label", field.label + (field.required ? " *" : ""));
    label.htmlFor = id;
    let input;
    if (field.kind === "choice") {
      input = el("select");
      input.append(Object.assign(el("option", "(default)"), { value: "" }));
      for (const c of field.choices) input.append(Object.assign(el("option", c), { value: c }));
      input.value = value === undefined ? "" : String(value);
    } else if (field.kind === "bool") {
      input = el("input");
      input.type = "checkbox";
      input.checked = value === true;
    } else {
      input = el("input");
      input.type = field.kind === "secret" ? "password" : field.kind === "number" ? "number" : "text";
      if (field.kind === "secret") {
        input.autocomplete = "new-password";
        const state = (this.secrets.find((s) => "source." + s.name === field.path) || {}).state;
        input.placeholder = state === "set" ? "set; leave empty to keep it" : "not set";
      } else if (field.kind === "list") {
        input.value = Array.isArray(value) ? value.join(", ") : value === undefined || value === null ? "" : String(value);
        input.placeholder = "comma-separated";
      } else {
        input.value = value === undefined || value === null ? "" : String(value);
      }
    }
    input.id = id;
    input.dataset.path = field.path;
    input.dataset.kind = field.kind;
    const help = el("span", field.help);
    help.className = "help";
    help.id = id + "-help";
    const error = el("span");
    error.className = "field-error";
    error.id = id + "-error";
    input.setAttribute("aria-describedby", help.id + " " + error.id);
    row.append(label, input, help, error);
    return row;
  },

  /** A mapping rule as a row: target, source, transforms, what happens when nothing matches. */
  ruleRow(rule) {
    const row = el("tr");
    const i = () => [...row.parentNode.children].indexOf(row);
    const cell = (name, input, text) => {
      input.dataset.rulePart = name;
      input.setAttribute("aria-label", text);
      const error = el("span");
      error.className = "field-error";
      const td = el("td");
      td.append(input, error);
      return td;
    };
    const target = Object.assign(el("input"), { value: rule.target || "" });
    target.setAttribute("list", "targets");
    const source = Object.assign(el("input"), {
      value: typeof rule.source === "string" ? rule.source : rule.source ? JSON.stringify(rule.source) : "",
    });
    const names = (rule.transforms || []).every((t) => typeof t === "string");
    const transforms = Object.assign(el("input"), {
      value: names ? (rule.transforms || []).join(", ") : JSON.stringify(rule.transforms),
      placeholder: "e.g. strip_domain, lowercase",
    });
    const noMatch = el("select");
    noMatch.append(Object.assign(el("option", "(default: keep)"), { value: "" }));
    for (const n of this.schema.mapping.no_match) noMatch.append(Object.assign(el("option", n), { value: n }));
    noMatch.value = rule.no_match || "";
    const remove = el("button", "Remove");
    remove.type = "button";
    remove.addEventListener("click", () => row.remove());
    const actions = el("td");
    actions.append(remove);
    row.append(cell("target", target, "Target"), cell("source", source, "Source attribute or JSON"),
      cell("transforms", transforms, "Transforms"), cell("no_match", noMatch, "If nothing matches"), actions);
    row.pathOf = (part) => "mapping[" + i() + "]." + part;
    return row;
  },

  renderSource(type, source) {
    const box = document.getElementById("source-fields");
    box.replaceChildren();
    const t = this.schema.types.find((x) => x.type === type);
    for (const f of t ? t.source : []) {
      box.append(this.input(f, get(source ? { source } : {}, f.path)));
    }
  },

  /** Shows `connector` in the form. */
  fill(connector) {
    this.secrets = connector.secrets || [];
    document.getElementById("f-id").value = connector.id || "";
    document.getElementById("f-type").value = connector.type || "csv";
    document.getElementById("f-preset").value = connector.preset || "";
    this.renderSource(connector.type || "csv", connector.source);
    const rows = document.getElementById("mapping-rows");
    rows.replaceChildren();
    for (const rule of connector.mapping || []) rows.append(this.ruleRow(rule));
    const common = document.getElementById("connector-fields");
    common.replaceChildren();
    // A value the form has no input for (a schedule with full and incremental expressions) stays
    // in "other" and its input stays empty.
    const plain = (v) => v === undefined || v === null || typeof v !== "object" || Array.isArray(v);
    for (const f of this.schema.connector) {
      const v = get(connector, f.path);
      common.append(this.input(f, plain(v) ? v : undefined));
    }
    // What the form does not show stays as JSON, and is sent back as it is.
    const other = JSON.parse(JSON.stringify(connector));
    for (const key of ["id", "type", "preset", "mapping", "secrets"]) delete other[key];
    for (const f of this.managed(connector.type || "csv")) {
      if (plain(get(connector, f.path))) unset(other, f.path);
    }
    document.getElementById("f-other").value = Object.keys(other).length ? JSON.stringify(other, null, 2) : "";
    this.showPreset();
    this.clearErrors();
  },

  showPreset() {
    const p = this.presets[document.getElementById("f-preset").value];
    document.getElementById("preset-rules").textContent = p
      ? "The preset maps " + p.mapping.map((r) => r.target).join(", ") + "; a rule above replaces the preset's rule for its target."
      : "";
  },

  /** The connector the form describes; null (with the error shown) when "other" is not JSON. */
  read() {
    let connector = {};
    const otherText = document.getElementById("f-other").value.trim();
    if (otherText) {
      try {
        connector = JSON.parse(otherText);
      } catch (e) {
        this.place("other", "not valid JSON: " + e.message);
        return null;
      }
    }
    connector.type = document.getElementById("f-type").value;
    const preset = document.getElementById("f-preset").value;
    if (preset) connector.preset = preset;
    connector.source = connector.source || {};
    for (const input of document.querySelectorAll("#source-fields [data-path], #connector-fields [data-path]")) {
      const v = fieldValue(input);
      if (v !== undefined) set(connector, input.dataset.path, v);
    }
    const rules = [];
    for (const row of document.getElementById("mapping-rows").children) {
      const part = (name) => row.querySelector("[data-rule-part=" + name + "]").value.trim();
      const rule = { target: part("target") };
      const source = part("source");
      rule.source = source.startsWith("{") || source.startsWith("[") ? parseOr(source) : source;
      const transforms = part("transforms");
      if (transforms) {
        rule.transforms = transforms.startsWith("[") ? parseOr(transforms)
          : transforms.split(",").map((t) => t.trim()).filter((t) => t);
      }
      if (part("no_match")) rule.no_match = part("no_match");
      rules.push(rule);
    }
    if (rules.length || !preset) connector.mapping = rules;
    return connector;
  },

  clearErrors() {
    for (const e of document.querySelectorAll("#editor .field-error")) e.textContent = "";
    for (const e of document.querySelectorAll("#editor [aria-invalid]")) e.removeAttribute("aria-invalid");
    document.getElementById("edit-errors").replaceChildren();
  },

  /** Puts `message` beside the field at `path` (a connector-relative JSON path), or a parent of it. */
  place(path, message) {
    for (let p = path; p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, "")) {
      const input = this.inputAt(p);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        const span = input.parentNode.querySelector(".field-error");
        span.textContent = (span.textContent ? span.textContent + "; " : "") + message;
        return;
      }
      if (!/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
    }
    document.getElementById("edit-errors").append(el("li", (path ? path + ": " : "") + message));
  },

  inputAt(path) {
    if (path === "other") return document.getElementById("f-other");
    if (path === "id" || path === "type" || path === "preset") return document.getElementById("f-" + path);
    const rule = /^mapping\[(\d+)\]\.(target|source|transforms|no_match)$/.exec(path);
    if (rule) {
      const row = document.getElementById("mapping-rows").children[Number(rule[1])];
      return row ? row.querySelector("[data-rule-part=" + rule[2] + "]") : null;
    }
    return [...document.querySelectorAll("#editor [data-path]")].find((e) => e.dataset.path === path) || null;
  },

  /** The parser's errors, each beside its field (paths are the whole configuration's). */
  showErrors(errors) {
    this.clearErrors();
    for (const e of errors) this.place((e.path || "").replace(/^connectors\[\d+\]\.?/, ""), e.message);
  },
};

function fieldValue(input) {
  const kind = input.dataset.kind;
  if (kind === "bool") return input.checked ? true : undefined;
  const v = input.value.trim();
  if (v === "") return undefined;
  if (kind === "number") return Number(v);
  if (kind === "list") return v.split(",").map((x) => x.trim()).filter((x) => x);
  return v;
}

function parseOr(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

function get(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function set(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  o[keys[keys.length - 1]] = value;
}

function unset(obj, path) {
  const keys = path.split(".");
  const parent = keys.length > 1 ? get(obj, keys.slice(0, -1).join(".")) : obj;
  if (parent && typeof parent === "object") {
    delete parent[keys[keys.length - 1]];
    if (keys.length > 1 && Object.keys(parent).length === 0) unset(obj, keys.slice(0, -1).join("."));
  }
}
