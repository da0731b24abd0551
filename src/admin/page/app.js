// The admin console. Every value from the API is shown with textContent: nothing an identity
// provider sends (a display name, a group) is ever parsed as HTML.
"use strict";

const api = {
  token: sessionStorage.getItem("usersync-token"),
  csrf: null,
  async call(method, path, body) {
    // usersync serve wants its token (and for a change the CSRF token); inside Jira or
    // Confluence the application's session signs the call and a change carries the
    // applications' XSRF header.
    const headers = { "X-Atlassian-Token": "no-check" };
    if (this.token) {
      headers["Authorization"] = "Bearer " + this.token;
    }
    if (method !== "GET") {
      if (this.csrf) {
        headers["X-Usersync-Csrf"] = this.csrf;
      }
      headers["Content-Type"] = "application/json";
    }
    const res = await fetch("api/1" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw Object.assign(new Error(data.error || ("HTTP " + res.status)), { errors: data.errors });
    }
    return data;
  },
};

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) {
    e.textContent = String(text);
  }
  return e;
}

function say(text, error) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = error ? "error" : "";
}

function show(view) {
  for (const id of ["login", "connectors", "runs", "schedules"]) {
    document.getElementById(id).hidden = id !== view;
  }
  if (view === "connectors") loadConnectors().catch((e) => say(e.message, true));
  if (view === "runs") loadRuns().catch((e) => say(e.message, true));
  if (view === "schedules") loadSchedules().catch((e) => say(e.message, true));
}

async function loadConnectors() {
  const data = await api.call("GET", "/connectors");
  const body = document.getElementById("connector-rows");
  body.replaceChildren();
  for (const c of data.connectors) {
    const row = el("tr");
    row.append(el("td", c.id), el("td", c.type),
      el("td", (c.secrets || []).map((s) => s.name + ": " + s.state).join(", ")));
    const actions = el("td");
    const change = el("button", "Edit");
    change.type = "button";
    change.addEventListener("click", () => {
      editor.fill(c);
      document.getElementById("test-connector").value = c.id;
      document.getElementById("f-id").focus();
    });
    actions.append(change, document.createTextNode(" "));
    // Deleting asks once more on the same button: no dialog, and no deletion by one slip.
    const remove = el("button", "Delete");
    remove.type = "button";
    remove.addEventListener("click", () => {
      if (remove.dataset.armed) {
        api.call("DELETE", "/connectors/" + encodeURIComponent(c.id))
          .then(() => { say("deleted connector " + c.id); return loadConnectors(); })
          .catch((e) => say(e.message, true));
      } else {
        remove.dataset.armed = "1";
        remove.textContent = "Delete " + c.id + "? Click again";
      }
    });
    actions.append(remove, document.createTextNode(" "));
    const check = el("button", "Check");
    check.type = "button";
    check.addEventListener("click", () => checkConnection(c.id).catch((e) => say(e.message, true)));
    actions.append(check, document.createTextNode(" "));
    for (const [label, simulate] of [["Simulate", true], ["Run", false]]) {
      const b = el("button", label);
      b.type = "button";
      b.addEventListener("click", () => startRun(c.id, simulate).catch((e) => say(e.message, true)));
      actions.append(b, document.createTextNode(" "));
    }
    row.append(actions);
    body.append(row);
  }
  const filter = document.getElementById("history-connector");
  const chosen = filter.value;
  filter.replaceChildren(Object.assign(el("option", "all"), { value: "" }));
  for (const c of data.connectors) filter.append(Object.assign(el("option", c.id), { value: c.id }));
  filter.value = chosen;
  say(data.connectors.length + " connector(s)");
}

/** The connection check: each step (authenticate, read a little, what is missing) and how it went. */
async function checkConnection(id) {
  const report = await api.call("POST", "/connectors/" + encodeURIComponent(id) + "/check");
  const list = document.getElementById("check-steps");
  list.replaceChildren();
  for (const s of report.steps) {
    list.append(el("li", (s.ok ? "ok — " : "FAILED — ") + s.step + ": " + s.detail));
  }
  document.getElementById("check-title").textContent = "Connection check of " + id + ": " + (report.ok ? "ok" : "failed");
  document.getElementById("check-box").hidden = false;
}

async function save() {
  const id = document.getElementById("f-id").value.trim();
  editor.clearErrors();
  if (!id) {
    editor.place("id", "give the connector an id");
    return;
  }
  const body = editor.read();
  if (!body) {
    say("not saved", true);
    return;
  }
  const res = await fetch("api/1/connectors/" + encodeURIComponent(id), {
    method: "PUT",
    headers: Object.assign({ "Content-Type": "application/json", "X-Atlassian-Token": "no-check" },
      api.token ? { Authorization: "Bearer " + api.token } : {}, api.csrf ? { "X-Usersync-Csrf": api.csrf } : {}),
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    // Each error beside the field it is about.
    editor.showErrors(data.errors || [{ path: "", message: data.error || ("HTTP " + res.status) }]);
    say("not saved: " + (data.errors ? data.errors.length + " error(s)" : data.error || res.status), true);
    return;
  }
  say("saved connector " + id);
  editor.fill(data);
  document.getElementById("test-connector").value = id;
  await loadConnectors();
}

async function testMapping() {
  const connector = document.getElementById("test-connector").value.trim();
  const user = document.getElementById("test-user").value.trim();
  const data = await api.call("POST", "/connectors/" + encodeURIComponent(connector) + "/mapping-test", { user });
  document.getElementById("test-result").textContent = data.result;
  const body = document.getElementById("test-rows");
  body.replaceChildren();
  for (const r of data.trace.rules) {
    const row = el("tr");
    row.append(el("td", r.target), el("td", r.read === null ? "(empty)" : r.read),
      el("td", (r.steps || []).map((s) => s[0] + " → " + (s[1] === null ? "(empty)" : s[1])).join("; ")),
      el("td", r.outcome));
    body.append(row);
  }
}

async function startRun(connector, simulate, user) {
  const request = { connector, simulate };
  if (user) Object.assign(request, { mode: "single_user", user });
  const started = await api.call("POST", "/runs", request);
  show("runs");
  const box = document.getElementById("progress-box");
  box.hidden = false;
  const cancel = document.getElementById("cancel-run");
  cancel.hidden = false;
  cancel.onclick = () => api.call("POST", "/runs/" + started.run_id + "/cancel")
    .then(() => say("run " + started.run_id + " is stopping after the user in progress"))
    .catch((e) => say(e.message, true));
  for (;;) {
    const p = await api.call("GET", "/runs/" + started.run_id + "/progress");
    const pct = p.total ? Math.round((100 * p.done) / p.total) : 0;
    document.getElementById("progress").value = p.phase === "finished" ? 100 : pct;
    document.getElementById("progress-text").textContent = p.phase + " " + p.done + "/" + p.total;
    if (p.phase === "finished") break;
    await new Promise((r) => setTimeout(r, 300));
  }
  cancel.hidden = true;
  // The run's record is written as it finishes: read the history until it shows the outcome.
  for (let i = 0; i < 20; i++) {
    const runs = await loadRuns();
    const mine = runs.find((r) => r.id === started.run_id);
    if (!mine || mine.status !== "RUNNING") break;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The history page shown: filtered by connector and status, older than `before` (none: the newest). */
const runPages = { before: null, next: null };

async function loadRuns() {
  const params = new URLSearchParams({ limit: "50" });
  const connector = document.getElementById("history-connector").value;
  const status = document.getElementById("history-status").value;
  if (connector) params.set("connector", connector);
  if (status) params.set("status", status);
  if (runPages.before) params.set("before", String(runPages.before));
  const data = await api.call("GET", "/runs?" + params.toString());
  runPages.next = data.next_before;
  document.getElementById("history-older").hidden = !data.next_before;
  document.getElementById("history-newest").hidden = !runPages.before;
  const body = document.getElementById("run-rows");
  body.replaceChildren();
  for (const r of data.runs) {
    const row = el("tr");
    const counts = Object.entries(r.counts).filter(([, n]) => n > 0).map(([k, n]) => k + " " + n).join(", ");
    const open = el("button", "Run " + r.id);
    open.type = "button";
    open.addEventListener("click", () => showRun(r.id).catch((e) => say(e.message, true)));
    const idCell = el("td");
    idCell.append(open);
    row.append(idCell, el("td", r.connector), el("td", r.mode + (r.simulate ? " (simulated)" : "")),
      el("td", r.status), el("td", r.started_at), el("td", counts));
    body.append(row);
  }
  return data.runs;
}

let shownRun = null;

/** One operation as a person reads it: what changes, from what to what. */
function describe(op) {
  const v = (x) => (x === null || x === undefined ? "(empty)" : String(x));
  switch (op.op) {
    case "create": return "create " + op.username + " (" + v(op.display_name) + ", " + v(op.email) + ")";
    case "set": return op.target + ": " + v(op.before) + " → " + v(op.after);
    case "rename": return "rename " + v(op.from) + " → " + v(op.to);
    case "disable": return "disable (" + op.reason + ")";
    case "reactivate": return "reactivate (" + op.reason + ")";
    case "delete": return "delete (" + op.reason + ")";
    case "anonymise": return "anonymise (" + op.reason + ")";
    case "link": return "link to the existing user (by " + op.by + ")";
    case "handover": return "handed over from connector " + op.from + " to " + op.to;
    case "add_group": return "add to " + op.group;
    case "remove_group": return (op.strip ? "strip " : "remove from ") + op.group;
    default: return op.op;
  }
}

async function showRun(id) {
  shownRun = id;
  const data = await api.call("GET", "/runs/" + id);
  document.getElementById("run-details").hidden = false;
  const held = data.run.status === "HELD" && !data.run.approved_by && !data.run.simulate;
  document.getElementById("approve").hidden = !held;
  document.getElementById("discard").hidden = !held;
  document.getElementById("held-box").hidden = !held;
  if (held) {
    // Exactly what approving would do, user by user.
    const all = await api.call("GET", "/runs/" + id + "/results?outcome=held&limit=1000");
    const list = document.getElementById("held-list");
    list.replaceChildren();
    for (const u of all.results) {
      list.append(el("li", u.username + ": " + u.held.map(describe).join("; ")));
    }
  }
  document.getElementById("run-title").textContent = "Run " + id + " (" + data.run.connector + ")";
  document.getElementById("run-summary").textContent = data.run.status + (data.run.simulate ? ", simulated" : "")
    + (data.run.error ? ": " + data.run.error : "") + (data.run.hold_reason ? ": " + data.run.hold_reason : "");
  await loadResults();
}

/** A page of the shown run's results; `more` adds the next page to those shown. */
async function loadResults(more) {
  const outcome = document.getElementById("outcome").value;
  const q = document.getElementById("search").value;
  const body = document.getElementById("result-rows");
  const offset = more ? body.children.length : 0;
  const params = new URLSearchParams({ limit: "100", offset: String(offset) });
  if (outcome) params.set("outcome", outcome);
  if (q) params.set("q", q);
  const data = await api.call("GET", "/runs/" + shownRun + "/results?" + params.toString());
  if (!more) body.replaceChildren();
  for (const u of data.results) {
    const row = el("tr");
    const changes = el("td");
    for (const op of u.ops) {
      changes.append(el("div", describe(op) + (op.error ? " — failed: " + op.error : "")));
    }
    row.append(el("td", u.username), el("td", u.outcomes.join(", ")), changes,
      el("td", u.held.map(describe).join("; ")), el("td", u.reason || u.error || ""));
    body.append(row);
  }
  const shown = body.children.length;
  document.getElementById("result-count").textContent = shown + " of " + data.total + " user(s)";
  document.getElementById("result-more").hidden = shown >= data.total;
}

async function approve() {
  const report = await api.call("POST", "/runs/" + shownRun + "/approve");
  say("approved: run " + report.run_id + " " + report.status);
  await loadRuns();
  await showRun(report.run_id);
}

async function discard() {
  const answer = await api.call("POST", "/runs/" + shownRun + "/discard");
  say("run " + answer.discarded + " discarded (run " + answer.run_id + "); nothing it held back was applied");
  await loadRuns();
  await showRun(answer.discarded);
}

async function download() {
  saveFile("usersync-run-" + shownRun + ".json", await api.call("GET", "/runs/" + shownRun + "/download"));
}

/** Hands `data` to the browser as a JSON file download. */
function saveFile(name, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Replaces the rows of the table body `id`: a row per item, its cells' texts from `cells(item)`. */
function fillRows(id, items, cells) {
  const body = document.getElementById(id);
  body.replaceChildren();
  for (const item of items) {
    const row = el("tr");
    row.append(...cells(item).map((text) => el("td", text)));
    body.append(row);
  }
}

async function loadSchedules() {
  const data = await api.call("GET", "/schedules");
  fillRows("schedule-rows", data.schedules, (s) => [s.connector, s.kind, s.cron, s.time_zone]);
  document.getElementById("zone-name").textContent = data.time_zone;
  document.getElementById("zone").value = data.time_zone;
  fillRows("next-rows", data.next, (f) => [f.local, f.at, f.connector, f.kind]);
}

/** Replaces the whole configuration; shows the parser's errors. Secrets it leaves out are kept. */
async function importConfig(doc, errorAt) {
  const list = document.getElementById("import-errors");
  list.replaceChildren();
  document.getElementById("zone-error").textContent = "";
  try {
    await api.call("PUT", "/config", doc);
  } catch (e) {
    for (const x of e.errors || [{ path: "", message: e.message }]) {
      if (errorAt && x.path === errorAt.path) {
        errorAt.span.textContent = x.message;
      } else {
        list.append(el("li", (x.path ? x.path + ": " : "") + x.message));
      }
    }
    say("not saved", true);
    return false;
  }
  say("configuration saved");
  await loadSchedules();
  return true;
}

async function saveZone() {
  const doc = await api.call("GET", "/config");
  doc.operations = Object.assign(doc.operations || {}, { time_zone: document.getElementById("zone").value.trim() });
  await importConfig(doc, { path: "operations.time_zone", span: document.getElementById("zone-error") });
}

async function exportConfig() {
  const data = await api.call("GET", "/config");
  saveFile("usersync-config.json", data);
}

async function importFile(file) {
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch (e) {
    document.getElementById("import-errors").replaceChildren(el("li", file.name + " is not JSON: " + e.message));
    return;
  }
  await importConfig(doc, null);
}

async function signIn(token) {
  api.token = token;
  const session = await api.call("GET", "/session");
  api.csrf = session.csrf;
  if (token) {
    sessionStorage.setItem("usersync-token", token);
  }
  await editor.load();
  show("connectors");
}

/** Signs in with the admin password (a session token for this tab) or the access token. */
async function signInWith(password, token) {
  if (password) {
    const res = await fetch("api/1/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password }) });
    const data = await res.json().catch(() => ({}));
    document.getElementById("password").value = "";
    if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
    token = data.token;
  }
  await signIn(token);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => show(b.dataset.view));
  }
  document.getElementById("f-type").addEventListener("change", (ev) => editor.renderSource(ev.target.value, {}));
  document.getElementById("f-preset").addEventListener("change", () => editor.showPreset());
  document.getElementById("add-rule").addEventListener("click", () => {
    document.getElementById("mapping-rows").append(editor.ruleRow({}));
  });
  document.getElementById("new-connector").addEventListener("click", () => {
    editor.fill({ type: "csv", source: {}, mapping: [{ target: "username", source: "" }] });
  });
  document.getElementById("editor").addEventListener("submit", (ev) => {
    ev.preventDefault();
    save().catch((e) => say(e.message, true));
  });
  document.getElementById("tester").addEventListener("submit", (ev) => {
    ev.preventDefault();
    testMapping().catch((e) => say(e.message, true));
  });
  document.getElementById("simulate-user").addEventListener("click", () => {
    const connector = document.getElementById("test-connector").value.trim();
    const user = document.getElementById("test-user").value.trim();
    startRun(connector, true, user).catch((e) => say(e.message, true));
  });
  document.getElementById("approve").addEventListener("click", () => approve().catch((e) => say(e.message, true)));
  document.getElementById("zone-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveZone().catch((e) => say(e.message, true));
  });
  document.getElementById("export").addEventListener("click", () => exportConfig().catch((e) => say(e.message, true)));
  document.getElementById("import").addEventListener("change", (ev) => {
    if (ev.target.files.length) importFile(ev.target.files[0]).catch((e) => say(e.message, true));
    ev.target.value = "";
  });
  document.getElementById("discard").addEventListener("click", () => discard().catch((e) => say(e.message, true)));
  document.getElementById("download").addEventListener("click", () => download().catch((e) => say(e.message, true)));
  document.getElementById("result-more").addEventListener("click", () => loadResults(true).catch((e) => say(e.message, true)));
  document.getElementById("history-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    runPages.before = null;
    loadRuns().catch((e) => say(e.message, true));
  });
  document.getElementById("history-older").addEventListener("click", () => {
    runPages.before = runPages.next;
    loadRuns().catch((e) => say(e.message, true));
  });
  document.getElementById("history-newest").addEventListener("click", () => {
    runPages.before = null;
    loadRuns().catch((e) => say(e.message, true));
  });
  document.getElementById("result-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadResults().catch((e) => say(e.message, true));
  });
  document.getElementById("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    signInWith(document.getElementById("password").value, document.getElementById("token").value)
      .catch((e) => say(e.message, true));
  });
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    history.replaceState(null, "", location.pathname);
  }
  const token = fromLink || api.token;
  // Inside the application the session is enough; standalone, the token is.
  signIn(token).catch(() => (token ? signIn(null) : Promise.reject()).catch(() => show("login")));
});
