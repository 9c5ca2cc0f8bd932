// The page: reads the two inputs, asks the evaluator (compiled to WebAssembly from the policy's
// own Rust code) for a report, and renders one card per workload.
import init, { evaluate } from "./pkg/playground.js";

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

$("manifests").value = EXAMPLE_MANIFESTS;
$("settings").value = EXAMPLE_SETTINGS;
const shared = fromFragment();
await init();
const button = $("evaluate");
button.textContent = "Evaluate";
button.disabled = false;
button.addEventListener("click", run);
$("share").disabled = false;
$("share").addEventListener("click", shareLink);
if (shared) run();
