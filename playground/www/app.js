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
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/shop/web:2.4.1
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
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
      containers:
        - name: nginx
          image: nginx:1.27
          securityContext:
            privileged: true
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

function run() {
  let report;
  try {
    report = JSON.parse(evaluate($("manifests").value, $("settings").value));
  } catch (e) {
    showError("settings-error", `internal error: ${e}`);
    return;
  }
  showError("settings-error", report.settingsError);
  showError("manifests-error", report.manifestsError);
  const results = $("results");
  results.replaceChildren(...report.results.map(card));
  if (!report.results.length && !report.settingsError && !report.manifestsError) {
    results.append(element("p", { class: "note" }, "No Kubernetes objects found."));
  }
}

$("manifests").value = EXAMPLE_MANIFESTS;
$("settings").value = EXAMPLE_SETTINGS;
await init();
const button = $("evaluate");
button.textContent = "Evaluate";
button.disabled = false;
button.addEventListener("click", run);
