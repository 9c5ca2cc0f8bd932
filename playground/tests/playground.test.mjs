// The playground page in headless Chromium: paste manifests, click, read the verdicts.
// Serves playground/www itself (it must have been built: scripts/build-playground.sh).
// Skips, saying so, when Chromium is not installed. SCREENSHOT=path saves a picture of the page
// with the bundled examples explained (docs/playground.png).
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

test("imageUser: the page says the images' USER was not checked instead of guessing", { skip }, async () => {
  const { page, errors } = await openPage();
  await evaluate(page, COMPLIANT, "imageUser: {}");
  await page.waitForSelector("#settings-notes:not([hidden])");
  const note = await page.textContent("#settings-notes");
  assert.match(note, /USER was not checked: the playground cannot reach registries/);
  assert.equal(await page.getAttribute(".card", "data-verdict"), "ALLOWED");
  // Without imageUser there is no note.
  await evaluate(page, COMPLIANT, "level: restricted");
  await page.waitForSelector("#settings-notes[hidden]", { state: "attached" });
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

// What one card explains, as the page shows it.
async function explained(page, name) {
  return page.$eval(`.card[data-name="${name}"]`, (card) => ({
    verdict: card.dataset.verdict,
    ignored: [...card.querySelectorAll(".explanation > ul.ignored li")].map((li) => li.dataset.path + " " + li.textContent),
    containers: [...card.querySelectorAll("section.container")].map((s) => ({
      name: s.dataset.container,
      fields: Object.fromEntries([...s.querySelectorAll("tr[data-field]")].map((tr) =>
        [tr.dataset.field, { value: tr.querySelector(".value").textContent, source: tr.dataset.source }])),
      caps: [...s.querySelectorAll("li.cap")].map((li) => ({
        name: li.dataset.cap,
        text: li.textContent,
        objections: [...li.querySelectorAll(".objection")].map((o) => o.dataset.check),
      })),
      dropped: s.querySelector(".dropped")?.textContent ?? "",
    })),
  }));
}

test("the bundled examples show each container's effective context, capabilities and ignored fields", { skip }, async () => {
  const { page, errors } = await openPage();
  await page.click("#evaluate");
  await page.waitForSelector(".card .explanation");

  const shop = await explained(page, "shop-web");
  assert.equal(shop.verdict, "ALLOWED");
  const web = shop.containers[0];
  assert.equal(web.name, "web");
  assert.deepEqual(web.fields.runAsUser, { value: "10001", source: "pod" });
  assert.deepEqual(web.fields.runAsNonRoot, { value: "true", source: "pod" });
  assert.deepEqual(web.fields.readOnlyRootFilesystem, { value: "true", source: "container" });
  assert.deepEqual(web.fields.runAsGroup.source, "unknown");
  assert.deepEqual(web.fields.seccompProfile, { value: "RuntimeDefault", source: "pod" });
  assert.deepEqual(web.caps.map((c) => c.name), ["NET_BIND_SERVICE"]);
  assert.match(web.caps[0].text, /bind to ports below 1024/);
  assert.deepEqual(web.caps[0].objections, []);
  assert.match(web.dropped, /NET_RAW/);
  assert.deepEqual(shop.ignored, []);

  const nginx = await explained(page, "nginx");
  assert.equal(nginx.verdict, "DENIED");
  // The pod-level capabilities block is pointed out: Kubernetes has no such field there.
  assert.equal(nginx.ignored.length, 1);
  assert.match(nginx.ignored[0], /^spec\.template\.spec\.securityContext\.capabilities /);
  assert.match(nginx.ignored[0], /only on containers/);
  const container = nginx.containers[0];
  assert.deepEqual(container.fields.allowPrivilegeEscalation, { value: "false", source: "container" });
  assert.deepEqual(container.fields.seccompProfile, { value: "Unconfined", source: "kubernetesDefault" });
  // The runtime's default set plus NET_ADMIN, all kept since the container drops nothing.
  const names = container.caps.map((c) => c.name);
  assert.equal(names.length, 15, names.join(" "));
  for (const cap of ["NET_ADMIN", "NET_RAW", "CHOWN", "SETUID"]) assert.ok(names.includes(cap), cap);
  assert.ok(container.caps.every((c) => c.objections.includes("capabilities_restricted")));
  assert.deepEqual(errors, []);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  await page.close();
});

test("the explanation follows the settings: baseline objects only to the added capability", { skip }, async () => {
  const { page } = await openPage();
  await page.fill("#settings", "level: baseline");
  await page.click("#evaluate");
  await page.waitForSelector(".card .explanation");
  const nginx = await explained(page, "nginx");
  const objected = nginx.containers[0].caps.filter((c) => c.objections.length).map((c) => c.name);
  assert.deepEqual(objected, ["NET_ADMIN"]);
  await page.close();
});

test("the share link reproduces the page and sends nothing", { skip }, async () => {
  const { page } = await openPage();
  const manifests = `${VIOLATING}\n---\n${COMPLIANT}`.replace("nginx:1.27", "nginx:1.27 # ünïcode");
  const settings = "level: baseline\nwarn: {level: restricted}";
  await evaluate(page, manifests, settings);
  await page.click("#share");
  const link = await page.inputValue("#share-link");
  const url = new URL(link);
  assert.ok(url.hash.startsWith("#m="), link);
  assert.equal(url.search, "", "nothing in the query, which would be sent to the server");
  assert.ok(!link.includes("nginx"), "the inputs are encoded");
  await page.close();

  const requests = [];
  const { page: again } = await (async () => {
    const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    p.on("request", (r) => requests.push(r.url()));
    await p.goto(link);
    await p.waitForSelector(".card");
    return { page: p };
  })();
  assert.equal(await again.inputValue("#manifests"), manifests);
  assert.equal(await again.inputValue("#settings"), settings);
  const cards = await again.$$eval(".card", (cs) => cs.map((c) => [c.dataset.name, c.dataset.verdict]));
  assert.deepEqual(cards, [["bad", "DENIED"], ["good", "ALLOWED"]]);
  // Only the page's own files were fetched, never with the fragment.
  assert.ok(requests.every((r) => r.startsWith(base) && !r.includes("#")), requests.join("\n"));
  await again.close();
});
