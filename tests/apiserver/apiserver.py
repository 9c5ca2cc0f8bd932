#!/usr/bin/env python3
"""A Kubernetes API server stand-in, on loopback, for recording kwctl sessions.

It serves what kwctl's Kubernetes client asks for when a policy calls the host capabilities
`kubernetes/get_resource` (a Namespace), `kubernetes/list_resources_by_namespace` (Pods) and
`kubernetes/can_i` (a SubjectAccessReview), plus the discovery document the client reads
first. Everything else is a 404 Status, and every request is logged (stderr, or --log FILE),
so that a new call of the client shows up.

The cluster comes from a fixture (tests/apiserver/cluster.json); --scenario NAME lays one of its
scenarios over the base cluster. Every answer is built from the fixture only, with fixed uids,
timestamps and resource versions, so that the same run records the same session. The fixture:

    {"cluster": {
       "namespaces": {NAME: {LABEL: VALUE, ...}, ...},
       "pods": [{"metadata": {"name", "namespace", ...}, "spec": {...}}, ...],
       "pageSize": N,      # a list page holds at most N items, whatever `limit` asks
       "grants": [{"users": [...], "groups": [...], "serviceAccounts": ["NS/NAME"],
                   "verbs", "apiGroups", "resources", "resourceNames", "namespaces": [...],
                   "reason": "...", "description": "..."}, ...],  # an absent list allows any value
       "errors": {"namespaces/NAME": STATUS,           # reading that Namespace
                  "namespaces/NS/pods": STATUS,        # listing the Pods of NS (kwctl's
                                                       # cache retries it without end)
                  "subjectaccessreviews/USER": STATUS  # a review about USER
                                             | {"evaluationError": "..."}}},
     "scenarios": {NAME: {"description": "...", KEY: VALUE, ...}}}

where STATUS is {"code", "reason", "message", "details"?}, answered as a Kubernetes Status. In a
scenario, mappings (namespaces, errors) are merged key by key into the base cluster's, and lists
(pods, grants) replace them.

Lists are served in pages (`limit`, `continue`) in etcd's order (namespace, then name); a watch
(kwctl's cache watches what it listed) stays open and sees nothing, since the fixture never
changes.

    python3 tests/apiserver/apiserver.py --fixture tests/apiserver/cluster.json \
        --scenario namespace_default_baseline --port 18443 [--log FILE]

Python 3 standard library only.
"""

import argparse
import base64
import json
import select
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CREATED = "2026-11-01T09:00:00Z"
RESOURCE_VERSION = "4211"
SAR_GROUP = "authorization.k8s.io"


def load_cluster(path, scenario):
    """The base cluster with the scenario laid over it: mappings (namespaces, errors) merged
    key by key, lists (pods, grants) replaced."""
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    cluster = dict(fixture["cluster"])
    if scenario:
        scenarios = fixture.get("scenarios", {})
        if scenario not in scenarios:
            sys.exit(f"apiserver: no scenario {scenario!r} in {path}")
        for key, value in scenarios[scenario].items():
            if key == "description":
                continue
            if isinstance(value, dict):
                cluster[key] = {**cluster.get(key, {}), **value}
            else:
                cluster[key] = value
    return cluster


def fixed_uid(*parts):
    """A uid that depends on the object's identity only."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def namespace_object(name, labels):
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": fixed_uid("namespaces", name),
            "resourceVersion": RESOURCE_VERSION,
            "creationTimestamp": CREATED,
            "labels": {"kubernetes.io/metadata.name": name, **labels},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def pod_object(pod):
    """A fixture pod as the API server stores it: identity and bookkeeping filled in."""
    meta = pod["metadata"]
    return {
        "metadata": {
            "uid": fixed_uid("pods", meta["namespace"], meta["name"]),
            "resourceVersion": RESOURCE_VERSION,
            "creationTimestamp": CREATED,
            **meta,
        },
        "spec": pod.get("spec", {}),
        "status": pod.get("status", {"phase": "Running"}),
    }


def status(code, reason, message, details=None):
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return code, body


def discovery_core():
    resource = lambda name, kind, namespaced, verbs: {  # noqa: E731
        "name": name,
        "singularName": kind.lower(),
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs,
    }
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "v1",
        "resources": [
            resource("namespaces", "Namespace", False, ["get", "list"]),
            resource("pods", "Pod", True, ["get", "list"]),
        ],
    }


def discovery_authorization():
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{SAR_GROUP}/v1",
        "resources": [
            {
                "name": "subjectaccessreviews",
                "singularName": "subjectaccessreview",
                "namespaced": False,
                "kind": "SubjectAccessReview",
                "verbs": ["create"],
            }
        ],
    }


def grant_allows(grant, spec):
    """Whether a grant (an RBAC rule with its subjects) allows the review's request."""
    user = spec.get("user", "")
    groups = spec.get("groups") or []
    service_accounts = [
        "system:serviceaccount:" + sa.replace("/", ":", 1)
        for sa in grant.get("serviceAccounts", [])
    ]
    if not (
        user in grant.get("users", [])
        or user in service_accounts
        or any(g in grant.get("groups", []) for g in groups)
    ):
        return False
    attrs = spec.get("resourceAttributes") or {}

    def within(key, value):
        allowed = grant.get(key)
        return allowed is None or value in allowed

    return (
        within("verbs", attrs.get("verb", ""))
        and within("apiGroups", attrs.get("group", ""))
        and within("resources", attrs.get("resource", ""))
        and within("resourceNames", attrs.get("name", ""))
        and within("namespaces", attrs.get("namespace", ""))
    )


class Cluster:
    def __init__(self, state):
        self.namespaces = state.get("namespaces", {})
        self.pods = [pod_object(p) for p in state.get("pods", [])]
        # etcd's order: by namespace, then name.
        self.pods.sort(key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
        self.grants = state.get("grants", [])
        self.errors = state.get("errors", {})
        self.page_size = state.get("pageSize")

    def injected(self, key):
        error = self.errors.get(key)
        if error is None or "code" not in error:
            return None
        return status(error["code"], error["reason"], error["message"], error.get("details"))

    def get_namespace(self, name):
        return self.injected(f"namespaces/{name}") or (
            (200, namespace_object(name, self.namespaces[name]))
            if name in self.namespaces
            else status(404, "NotFound", f'namespaces "{name}" not found',
                        {"name": name, "kind": "namespaces"})
        )

    def list_pods(self, namespace, query):
        error = self.injected(f"namespaces/{namespace}/pods")
        if error:
            return error
        pods = [p for p in self.pods if p["metadata"]["namespace"] == namespace]
        start = 0
        if query.get("continue"):
            try:
                start = int(base64.urlsafe_b64decode(query["continue"][0]).decode())
            except ValueError:
                return status(410, "Expired", "The provided continue parameter is too old")
        limit = int(query["limit"][0]) if query.get("limit") else 0
        if self.page_size and limit:
            limit = min(limit, self.page_size)
        end = start + limit if limit else len(pods)
        meta = {"resourceVersion": RESOURCE_VERSION}
        if end < len(pods):
            meta["continue"] = base64.urlsafe_b64encode(str(end).encode()).decode()
            meta["remainingItemCount"] = len(pods) - end
        return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                     "items": pods[start:end]}

    def review(self, body):
        spec = body.get("spec") or {}
        user = spec.get("user", "")
        error = self.errors.get(f"subjectaccessreviews/{user}")
        if error and "code" in error:
            return self.injected(f"subjectaccessreviews/{user}")
        if error and "evaluationError" in error:
            review_status = {"allowed": False, "evaluationError": error["evaluationError"]}
        else:
            grant = next((g for g in self.grants if grant_allows(g, spec)), None)
            review_status = {"allowed": grant is not None}
            if grant and "reason" in grant:
                review_status["reason"] = grant["reason"]
        return 201, {
            "kind": "SubjectAccessReview",
            "apiVersion": f"{SAR_GROUP}/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": review_status,
        }


def make_handler(cluster, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            parts = [p for p in url.path.split("/") if p]
            query = parse_qs(url.query)
            if query.get("watch") == ["true"]:
                log.write(f"{self.command} {self.path} -> watch\n")
                log.flush()
                self.watch(query)
                return
            code, reply = self.route(self.command, parts, query, body)
            log.write(f"{self.command} {self.path} {body.decode(errors='replace')} -> {code}\n")
            log.flush()
            data = json.dumps(reply, separators=(",", ":")).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def watch(self, query):
            """A watch that sees no change: the stream stays open, empty, until the client
            leaves or its timeout passes (the fixture never changes)."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            timeout = float(query.get("timeoutSeconds", ["290"])[0])
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if not readable:
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

        def route(self, method, parts, query, body):
            if method == "GET" and parts == ["api", "v1"]:
                return 200, discovery_core()
            if method == "GET" and parts == ["apis", SAR_GROUP, "v1"]:
                return 200, discovery_authorization()
            if method == "GET" and len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
                return cluster.get_namespace(parts[3])
            if (method == "GET" and len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"]
                    and parts[4] == "pods"):
                return cluster.list_pods(parts[3], query)
            if method == "POST" and parts == ["apis", SAR_GROUP, "v1", "subjectaccessreviews"]:
                try:
                    return cluster.review(json.loads(body))
                except ValueError as e:
                    return status(400, "BadRequest", f"cannot read the review: {e}")
            return status(404, "NotFound", "the server could not find the requested resource")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--scenario")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log")
    args = parser.parse_args()
    cluster = Cluster(load_cluster(args.fixture, args.scenario))
    log = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(cluster, log))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
