// The page: reads the two inputs, asks the evaluator (compiled to WebAssembly from the policy's
// own Rust code) for a report, and renders one card per workload. The Advise view asks the
// advise library (the CLI's `advise`) for namespace levels, blockers, fixes and settings.
import init, { evaluate, advise, versions } from "./pkg/playground.js";

const EXAMPLE_MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
spec:
  selector: {matchLabels: {app: shop-web}}
  template:
    metadata: {labels: {app: shop-web}}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/shop/web:2.4.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
spec:
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      securityContext:
        runAsNonRoot: true
        capabilities: {drop: [ALL]}
      containers:
        - name: nginx
          image: nginx:1.27
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {add: [NET_ADMIN]}
`;
const EXAMPLE_SETTINGS = `level: restricted
version: latest
`;

const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function showError(id, message) {
  const box = $(id);
  box.hidden = !message;
  box.textContent = message || "";
}

function card(result) {
  const state = result.allowed ? "allowed" : "denied";
  const verdict = !result.evaluated ? "NOT A WORKLOAD" : result.allowed ? "ALLOWED" : "DENIED";
  const c = element("article", { class: `card ${result.evaluated ? state : ""}`, "data-name": result.name, "data-verdict": verdict });
  c.append(element("h2", {}, element("span", { class: "verdict" }, verdict), `${result.kind} ${result.name}`));
  if (!result.evaluated) {
    c.append(element("p", { class: "note" }, "This kind carries no pod: the policy accepts it untouched."));
  }
  if (result.summary) c.append(element("p", { class: "summary" }, result.summary));
  if (result.violations.length) {
    c.append(element("ul", { class: "violations" }, ...result.violations.map((v) => element("li", {}, v))));
  }
  if (result.warnings.length) {
    c.append(element("ul", { class: "warnings" }, ...result.warnings.map((w) => element("li", {}, `warning: ${w}`))));
  }
  if (result.explanation) c.append(explanation(result.explanation));
  if (result.mutated) {
    c.append(element("p", { class: "note" }, "Mutated: the policy would admit it with these defaults set."));
    const pre = element("pre", { class: "diff" });
    for (const line of result.diff) {
      const cls = line.op === "+" ? "add" : line.op === "-" ? "del" : "";
      pre.append(element("span", cls ? { class: cls } : {}, `${line.op} ${line.text}\n`));
    }
    c.append(pre);
  }
  return c;
}

const SOURCES = {
  container: "container",
  annotation: "pod annotation",
  pod: "pod",
  kubernetesDefault: "Kubernetes default",
  runtimeDefault: "runtime default",
  unknown: "unknown",
};

function ignoredList(ignored) {
  return element("ul", { class: "ignored" }, ...ignored.map((i) =>
    element("li", { "data-path": i.path }, element("code", {}, i.path), ` ${i.note}`)));
}

// Everything below comes from the policy's own Rust code (src/explain.rs); this only lays it out.
function explanation(e) {
  const box = element("details", { class: "explanation", open: "" },
    element("summary", {}, "What each container runs with"));
  if (e.ignored.length) box.append(ignoredList(e.ignored));
  for (const c of e.containers) {
    const section = element("section", { class: "container", "data-container": c.name },
      element("h3", {}, `${c.kind} ${c.name}`, element("span", { class: "image" }, c.image)));
    const rows = c.fields.map((f) => element("tr", { "data-field": f.field, "data-source": f.source },
      element("td", {}, element("code", {}, f.field)),
      element("td", { class: "value" }, f.value),
      element("td", {}, element("span", { class: `source ${f.source}` }, SOURCES[f.source] || f.source)),
      element("td", { class: "note" }, f.note || "")));
    section.append(element("table", { class: "fields" },
      element("thead", {}, element("tr", {}, ...["field", "effective value", "from", ""].map((h) => element("th", {}, h)))),
      element("tbody", {}, ...rows)));
    const caps = element("div", { class: "capabilities" },
      element("p", { class: "note" }, `Capabilities (${c.capabilities.length}): ${c.capabilitiesNote}`));
    const list = element("ul", { class: "caps" });
    for (const k of c.capabilities) {
      const objected = k.objections.length > 0;
      const li = element("li", { class: `cap ${k.origin}${objected ? " objected" : ""}`, "data-cap": k.name },
        element("code", {}, k.name), ` ${k.meaning}`);
      for (const o of k.objections) li.append(element("span", { class: "objection", "data-check": o.check }, `${o.check}: ${o.reason}`));
      list.append(li);
    }
    caps.append(list);
    if (c.droppedDefaults.length) {
      caps.append(element("p", { class: "note dropped" }, `Dropped from the runtime's default set: ${c.droppedDefaults.join(", ")}`));
    }
    section.append(caps);
    if (c.ignored.length) section.append(ignoredList(c.ignored));
    box.append(section);
  }
  return box;
}

// The share link: manifests and settings in the URL fragment, which browsers never send.
function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
}

function shareLink() {
  const fragment = `m=${encode($("manifests").value)}&s=${encode($("settings").value)}`;
  history.replaceState(null, "", `#${fragment}`);
  const link = $("share-link");
  link.value = location.href;
  link.hidden = false;
  link.select();
}

function fromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has("m")) return false;
  try {
    $("manifests").value = decode(params.get("m"));
    $("settings").value = params.has("s") ? decode(params.get("s")) : "";
    return true;
  } catch (e) {
    showError("manifests-error", `the link's manifests could not be read: ${e}`);
    return false;
  }
}

function run() {
  let report;
  try {
    report = JSON.parse(evaluate($("manifests").value, $("settings").value));
  } catch (e) {
    showError("settings-error", `internal error: ${e}`);
    return;
  }
  showError("settings-error", report.settingsError);
  showError("settings-notes", (report.settingsNotes || []).join("\n"));
  showError("manifests-error", report.manifestsError);
  const results = $("results");
  results.replaceChildren(...report.results.map(card));
  if (!report.results.length && !report.settingsError && !report.manifestsError) {
    results.append(element("p", { class: "note" }, "No Kubernetes objects found."));
  }
}

// ---- The Advise view ----------------------------------------------------------------------

const EXAMPLE_WORKLOADS = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: monitoring
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      serviceAccountName: node-exporter
      hostNetwork: true
      hostPID: true
      containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
          securityContext: {privileged: true}
          volumeMounts: [{name: root, mountPath: /host, readOnly: true}]
      volumes:
        - name: root
          hostPath: {path: /}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: shop
spec:
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: payments
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: api
      image: registry.example.com/payments/api:3.1
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL]}
`;

function showView(name) {
  for (const view of ["evaluate", "advise"]) {
    const selected = view === name;
    $(`${view}-view`).hidden = !selected;
    $(`tab-${view}`).setAttribute("aria-selected", String(selected));
  }
}

const levelBadge = (level) => element("span", { class: `level ${level}` }, level);

const checkChips = (checks) => element("span", { class: "checks" },
  ...checks.map((c) => element("code", { class: "check" }, c)));

// Selects a line of the workloads text, to show where a workload is.
function selectLine(line) {
  const area = $("advise-manifests");
  const lines = area.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const height = parseFloat(getComputedStyle(area).lineHeight) || 16;
  area.scrollTop = Math.max(0, (line - 3) * height);
}

function namespacesTable(namespaces) {
  const rows = Object.entries(namespaces).map(([name, ns]) => {
    const blockers = !ns.nextLevel
      ? element("span", { class: "note" }, "none: the strictest level")
      : !ns.blockers.length
        ? element("span", { class: "note" }, "none")
        : element("ul", { class: "blockers" }, ...ns.blockers.map((b) =>
          element("li", { "data-kind": b.kind, "data-name": b.name, "data-checks": b.checks.join(" ") },
            element("strong", {}, `${b.kind} ${b.name}`), " ", checkChips(b.checks))));
    return element("tr", { "data-namespace": name, "data-level": ns.level },
      element("td", {}, element("code", {}, name)),
      element("td", {}, levelBadge(ns.level)),
      element("td", { class: "next" }, ns.nextLevel ? levelBadge(ns.nextLevel) : ""),
      element("td", {}, blockers));
  });
  return element("table", { id: "namespaces", class: "advice-table" },
    element("thead", {}, element("tr", {},
      ...["namespace", "passes today", "next level", "workloads that block it"].map((h) => element("th", {}, h)))),
    element("tbody", {}, ...rows));
}

// The `kubectl label` commands the namespace table calls for (as `security-context-policy
// advise` prints them): enforce the level each namespace passes, warn at the next.
function labelCommands(namespaces, version) {
  return Object.entries(namespaces).map(([name, ns]) => {
    let labels = `pod-security.kubernetes.io/enforce=${ns.level} pod-security.kubernetes.io/enforce-version=${version}`;
    if (ns.nextLevel) labels += ` pod-security.kubernetes.io/warn=${ns.nextLevel} pod-security.kubernetes.io/warn-version=${version}`;
    return `kubectl label --overwrite namespace ${name} ${labels}`;
  }).join("\n");
}

function workloadsTable(workloads, target) {
  const rows = workloads.map((w) => {
    // The file is the document's number: the page has one text.
    const where = w.line
      ? element("button", { type: "button", class: "link where", title: `${w.file}: show it in the workloads` }, `line ${w.line}`)
      : element("span", { class: "where note" }, w.file);
    if (w.line) where.addEventListener("click", () => selectLine(w.line));
    const checks = [...new Set(w.violations.map((v) => v.check))];
    const atTarget = !w.violations.length
      ? element("span", { class: "note" }, "passes")
      : element("details", { class: "findings" },
        element("summary", {}, checkChips(checks)),
        element("ul", {}, ...w.violations.map((v) => element("li", { "data-check": v.check }, v.message))));
    let fix, patchRow;
    if (w.fix) {
      // The patch opens in a row of its own, across the table.
      fix = element("details", { class: "fix", "data-fix": "available" },
        element("summary", {}, `fix available (${w.fix.length} RFC 6902 ${w.fix.length === 1 ? "operation" : "operations"})`));
      patchRow = element("tr", { class: "patch-row", "data-for": `${w.namespace}/${w.name}`, hidden: "" },
        element("td", { colspan: "5" },
          element("p", { class: "note" }, `The fix for ${w.kind} ${w.name}: the defaults the policy's own mutation sets, `
            + `as a JSON patch against the object (kubectl patch --type json); with them it passes ${target} without an exemption.`),
          element("pre", { class: "patch" }, `[\n${w.fix.map((op) => `  ${JSON.stringify(op)}`).join(",\n")}\n]`)));
      fix.addEventListener("toggle", () => { patchRow.hidden = !fix.open; });
    } else if (w.reason) {
      fix = element("span", { class: "reason", "data-fix": "none" }, w.reason);
    } else {
      fix = element("span", { class: "note", "data-fix": "needless" }, "nothing to fix");
    }
    const row = element("tr", { "data-kind": w.kind, "data-name": w.name, "data-namespace": w.namespace, "data-level": w.strictestLevel },
      element("td", { class: "workload" }, element("strong", {}, `${w.kind} ${w.name}`), element("br"),
        element("code", { class: "ns" }, w.namespace), " · ", where),
      element("td", {}, levelBadge(w.strictestLevel)),
      element("td", { class: "at-target" }, atTarget),
      element("td", { class: "exempted" }, w.exemptedBy.length
        ? element("span", { class: "checks" }, ...w.exemptedBy.map((i) =>
          element("code", { class: "exemption", title: `settings.exemptions[${i}]` }, `#${i}`)))
        : element("span", { class: "note" }, "none")),
      element("td", { class: "fix-cell" }, fix));
    return patchRow ? [row, patchRow] : [row];
  }).flat();
  return element("table", { id: "workloads", class: "advice-table" },
    element("thead", {}, element("tr", {},
      ...["workload", "passes today", `at ${target}`, "exemptions", "fix"].map((h) => element("th", {}, h)))),
    element("tbody", {}, ...rows));
}

// The advised settings, as YAML or JSON (both from the library), with a copy button.
function settingsBox(report) {
  const text = element("pre", { id: "advised-settings", class: "settings-text", tabindex: "0" }, report.settingsYaml);
  const formats = element("span", { class: "formats", role: "radiogroup", "aria-label": "Format" });
  for (const [format, value] of [["YAML", report.settingsYaml], ["JSON", report.settingsJson]]) {
    const b = element("button", { type: "button", class: "secondary small", role: "radio",
      "aria-checked": String(format === "YAML"), "data-format": format }, format);
    b.addEventListener("click", () => {
      text.textContent = value;
      for (const other of formats.children) other.setAttribute("aria-checked", String(other === b));
    });
    formats.append(b);
  }
  const copy = element("button", { type: "button", id: "copy-settings", class: "small" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text.textContent);
      copy.textContent = "Copied";
    } catch {
      // No clipboard access (an insecure origin): select the text for the user to copy.
      getSelection().selectAllChildren(text);
      copy.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { copy.textContent = "Copy"; }, 2000);
  });
  return element("div", { class: "settings-box" },
    element("div", { class: "toolbar" }, formats, copy), text);
}

function runAdvise() {
  const level = $("advise-level").value;
  const version = $("advise-version").value;
  let report;
  try {
    report = JSON.parse(advise($("advise-manifests").value, level, version, $("advise-constraints").checked));
  } catch (e) {
    showError("advise-error", `internal error: ${e}`);
    return;
  }
  showError("advise-error", report.error);
  showError("advise-manifests-error", report.manifestsError);
  const out = $("advice");
  out.replaceChildren();
  if (report.error) return;
  const namespaces = Object.keys(report.namespaces).length;
  const n = report.workloads.length;
  out.append(element("p", { class: "summary", id: "advice-summary" },
    `${n} ${n === 1 ? "workload" : "workloads"} in ${namespaces} ${namespaces === 1 ? "namespace" : "namespaces"}, `
    + `from ${report.objects} ${report.objects === 1 ? "object" : "objects"}; target ${level}:${version}. `
    + "Pods, ReplicaSets and Jobs whose controller is among them count as it; kinds that carry no pod are left out."));
  if (!n) {
    out.append(element("p", { class: "note" }, "No workloads found."));
    return;
  }
  out.append(
    element("h2", {}, "Namespaces"),
    element("p", { class: "note" }, "The strictest Pod Security level each namespace's workloads pass today, with no exemption, and the workloads that fail the next level."),
    element("div", { class: "table-wrap" }, namespacesTable(report.namespaces)),
    element("details", { class: "labels" },
      element("summary", {}, "Label the namespaces (enforce the level each passes, warn at the next)"),
      element("pre", { id: "label-commands", class: "settings-text" }, labelCommands(report.namespaces, version))),
    element("h2", {}, "Workloads"),
    element("p", { class: "note" }, `What each breaks at ${level}, the advised exemptions that admit it, and whether the policy's own defaults would fix it instead.`),
    element("div", { class: "table-wrap" }, workloadsTable(report.workloads, level)),
    element("h2", {}, "Advised settings"),
    element("p", { class: "note" }, `Settings at ${level}:${version} that admit every workload above with the fewest, narrowest exemptions: a ClusterAdmissionPolicy's spec.settings.`),
    settingsBox(report));
}

$("manifests").value = EXAMPLE_MANIFESTS;
$("settings").value = EXAMPLE_SETTINGS;
$("advise-manifests").value = EXAMPLE_WORKLOADS;
$("tab-evaluate").addEventListener("click", () => showView("evaluate"));
$("tab-advise").addEventListener("click", () => showView("advise"));
const shared = fromFragment();
await init();
const button = $("evaluate");
button.textContent = "Evaluate";
button.disabled = false;
button.addEventListener("click", run);
$("share").disabled = false;
$("share").addEventListener("click", shareLink);
$("advise-version").replaceChildren(...JSON.parse(versions()).map((v) => element("option", { value: v }, v)));
const adviseButton = $("advise");
adviseButton.textContent = "Advise";
adviseButton.disabled = false;
adviseButton.addEventListener("click", runAdvise);
// Once there is advice, it follows the target.
for (const id of ["advise-level", "advise-version", "advise-constraints"]) {
  $(id).addEventListener("change", () => { if ($("advice").childElementCount) runAdvise(); });
}
if (shared) run();
