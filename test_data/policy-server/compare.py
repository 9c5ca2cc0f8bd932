#!/usr/bin/env python3
"""Compares the real policy-server's answers with `kwctl run`'s on the same request and settings.

    compare.py PS_DIR KUBECONFIG ENTRY REQUEST[@NAMESPACE] ...

PS_DIR is a directory written by `scripts/policy-server.sh up` (env: PS_PORT; policies.yml:
ENTRY's settings). Each REQUEST (an AdmissionRequest file of test_data/, optionally moved into
NAMESPACE) is wrapped in an admission.k8s.io/v1 AdmissionReview and POSTed to
/validate/ENTRY; `kwctl run` (scripts/kwctl-offline.sh, KWCTL_BIN; --allow-context-aware;
KUBECONFIG as given) judges the same request with the same settings and the same annotated
module (MODULE, default annotated-policy.wasm). Prints one line per request; exits 1 when an
answer is not HTTP 200, or `allowed` or `status.message` differ. kwctl runs two at a time.
"""
import json, os, subprocess, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def env(ps_dir):
    values = {}
    with open(os.path.join(ps_dir, "env"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            values[key] = value
    return values


def settings(ps_dir, entry):
    with open(os.path.join(ps_dir, "policies.yml"), encoding="utf-8") as f:
        f.readline()
        return json.load(f)[entry].get("settings", {})


def request(spec):
    path, _, namespace = spec.partition("@")
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        doc = json.load(f)
    req = doc.get("request", doc)
    if namespace:
        req["namespace"] = namespace
        meta = (req.get("object") or {}).get("metadata")
        if isinstance(meta, dict):
            meta["namespace"] = namespace
    return req


def post(port, entry, req):
    body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                       "request": req}).encode()
    http = urllib.request.Request(f"http://127.0.0.1:{port}/validate/{entry}", data=body,
                                  headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(http, timeout=30) as answer:
        return answer.status, json.load(answer)["response"]


def kwctl(ps_dir, kubeconfig, entry, spec, req):
    name = spec.replace("/", "_").replace("@", "_in_")
    path = os.path.join(ps_dir, f"kwctl-{entry}-{name}")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(req, f)
    module = os.environ.get("MODULE", os.path.join(ROOT, "annotated-policy.wasm"))
    run = subprocess.run(
        [os.path.join(ROOT, "scripts/kwctl-offline.sh"), "run", "--allow-context-aware",
         "--request-path", path, "--settings-json", json.dumps(settings(ps_dir, entry)), module],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "KUBECONFIG": kubeconfig, "HOME": os.path.join(ps_dir, "home")})
    if run.returncode != 0:
        raise RuntimeError(f"kwctl failed on {spec}: {run.stderr[-500:]}")
    line = [l for l in run.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def main():
    ps_dir, kubeconfig, entry, *specs = sys.argv[1:]
    port = env(ps_dir)["PS_PORT"]
    reqs = {spec: request(spec) for spec in specs}
    with ThreadPoolExecutor(2) as pool:
        kw = dict(zip(specs, pool.map(lambda s: kwctl(ps_dir, kubeconfig, entry, s, reqs[s]), specs)))
    failed = 0
    for spec in specs:
        code, ps = post(port, entry, reqs[spec])
        mine = (ps.get("allowed"), (ps.get("status") or {}).get("message"))
        theirs = (kw[spec].get("allowed"), (kw[spec].get("status") or {}).get("message"))
        same = code == 200 and mine == theirs
        failed += not same
        print(f"{'same' if same else 'DIFFERENT'}  {entry}  {spec}  HTTP {code}  allowed={mine[0]}")
        if not same:
            print(f"  policy-server: {mine}\n  kwctl:         {theirs}")
    print(f"{entry}: {len(specs) - failed}/{len(specs)} answers equal to kwctl's")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
