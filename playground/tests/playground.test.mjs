// The playground page in headless Chromium: paste manifests, click, read the verdicts.
// Serves playground/www itself (it must have been built: scripts/build-playground.sh).
// Skips, saying so, when Chromium is not installed. SCREENSHOT=path saves a picture of the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, access } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../www/", import.meta.url));
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const skip = existsSync(chromium) ? false : `Chromium not found at ${chromium} (apt-get install chromium)`;
if (skip) console.log(`skipped: ${skip}`);

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
let server, browser, base;

before(async () => {
  if (skip) return;
  await access(join(root, "pkg", "playground_bg.wasm"));
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^[/\\.]+/, "");
    try {
      const body = await readFile(join(root, path || "index.html"));
      res.writeHead(200, { "content-type": types[extname(path || "index.html")] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
  const { chromium: launcher } = await import("playwright-core");
  browser = await launcher.launch({
    executablePath: chromium,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base);
  await page.waitForSelector("#evaluate:not([disabled])");
  return { page, errors };
}

const COMPLIANT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: good}
spec:
  selector: {matchLabels: {app: good}}
  template:
    metadata: {labels: {app: good}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: app:1
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}`;

const VIOLATING = `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      hostNetwork: true
      containers:
        - name: nginx
          image: nginx:1.27
          securityContext: {privileged: true}`;

async function evaluate(page, manifests, settings) {
  await page.fill("#manifests", manifests);
  await page.fill("#settings", settings);
  await page.click("#evaluate");
}

test("a compliant and a violating Deployment get their verdicts and messages", { skip }, async () => {
  const { page, errors } = await openPage();
  await evaluate(page, `${COMPLIANT}\n---\n${VIOLATING}`, "level: restricted");
  await page.waitForSelector(".card");
  const cards = await page.$$eval(".card", (cs) => cs.map((c) => ({
    name: c.dataset.name, verdict: c.dataset.verdict,
    summary: c.querySelector(".summary")?.textContent ?? "",
    violations: [...c.querySelectorAll(".violations li")].map((li) => li.textContent),
  })));
  assert.equal(cards.length, 2);
  assert.deepEqual([cards[0].name, cards[0].verdict], ["good", "ALLOWED"]);
  assert.deepEqual([cards[1].name, cards[1].verdict], ["bad", "DENIED"]);
  assert.equal(cards[1].summary, 'violates PodSecurity "restricted:latest"');
  assert.ok(cards[1].violations.includes("host namespaces (hostNetwork=true)"), cards[1].violations.join("\n"));
  assert.ok(cards[1].violations.includes('privileged (container "nginx" must not set securityContext.privileged=true)'));
  assert.ok(cards[1].violations.some((v) => v.startsWith('allowPrivilegeEscalation != false (container "nginx"')));
  assert.deepEqual(errors, []);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  await page.close();
});

test("mutation shows the mutated manifest as a diff", { skip }, async () => {
  const { page } = await openPage();
  const unset = VIOLATING.replace("      hostNetwork: true\n", "").replace("          securityContext: {privileged: true}", "");
  await evaluate(page, unset, "level: restricted\nmutate: true");
  await page.waitForSelector(".card pre.diff");
  assert.equal(await page.getAttribute(".card", "data-verdict"), "ALLOWED");
  const added = await page.$$eval("pre.diff .add", (ls) => ls.map((l) => l.textContent));
  assert.ok(added.some((l) => l.includes("runAsNonRoot: true")), added.join(""));
  assert.ok(added.some((l) => l.includes("allowPrivilegeEscalation: false")), added.join(""));
  await page.close();
});

test("a PodSecurityPolicy pasted as the settings decides", { skip }, async () => {
  const { page, errors } = await openPage();
  const psp = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: no-host-network
  annotations:
    seccomp.security.alpha.kubernetes.io/allowedProfileNames: '*'
spec:
  privileged: true
  volumes: ['*']
  allowedCapabilities: ['*']
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}`;
  await evaluate(page, `${COMPLIANT}\n---\n${VIOLATING}`, psp);
  await page.waitForSelector(".card");
  const cards = await page.$$eval(".card", (cs) => cs.map((c) => ({
    verdict: c.dataset.verdict,
    violations: [...c.querySelectorAll(".violations li")].map((li) => li.textContent),
  })));
  assert.deepEqual(cards.map((c) => c.verdict), ["ALLOWED", "DENIED"]);
  assert.deepEqual(cards[1].violations, ["hostNetwork (pod must not set hostNetwork=true)"]);
  assert.deepEqual(errors, []);
  await page.close();
});

test("invalid YAML and invalid settings are shown next to their input", { skip }, async () => {
  const { page } = await openPage();
  await evaluate(page, "kind: [unclosed", "level: restricted");
  await page.waitForSelector("#manifests-error:not([hidden])");
  assert.match(await page.textContent("#manifests-error"), /document 1/);
  await evaluate(page, COMPLIANT, "level: strict");
  await page.waitForSelector("#settings-error:not([hidden])");
  assert.match(await page.textContent("#settings-error"), /unknown level "strict"/);
  assert.equal(await page.isHidden("#manifests-error"), true);
  assert.equal(await page.$$eval(".card", (cs) => cs.length), 0);
  await page.close();
});
