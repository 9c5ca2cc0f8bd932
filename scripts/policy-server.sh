#!/usr/bin/env bash
# A harness around the real Kubewarden policy-server (../shared/policy-server/policy-server, or
# POLICY_SERVER), standalone on loopback, with the Kubernetes API stand-in (tests/apiserver/)
# as its cluster. Used by policy-server.bats and scripts/bench-policy-server.sh.
#
#   scripts/policy-server.sh up DIR TEMPLATE [SCENARIO]
#       Picks free loopback ports, writes DIR/policies.yml from TEMPLATE (a JSON file of
#       test_data/policy-server/: @MODULE@ -> the annotated module, MODULE, default
#       annotated-policy.wasm; @FLOOR@ -> FLOOR; a settings value "@FILE" -> that file of the
#       template's directory), starts the API stand-in (FIXTURE, default
#       tests/apiserver/cluster.json, with SCENARIO)
#       and policy-server (HOME, download and sigstore dirs in DIR, KUBECONFIG at the stand-in),
#       waits for GET /readiness, and writes DIR/env (ports, pids, ready_ms). On any failure
#       it stops what it started. DIR must be under target/.
#   scripts/policy-server.sh down DIR          stop policy-server and the stand-in (by pid)
#   scripts/policy-server.sh api-stop DIR      stop the API stand-in only
#   scripts/policy-server.sh api-start DIR     start it again, same port and scenario
#   scripts/policy-server.sh review REQUEST [NAMESPACE]
#       print an admission.k8s.io/v1 AdmissionReview wrapping REQUEST (an AdmissionRequest
#       file, or a review: its `request`), moved into NAMESPACE when given
#   scripts/policy-server.sh post DIR ID REVIEW_FILE
#       POST it to /validate/ID; prints "HTTP <code>" then the body on one line
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POLICY_SERVER="${POLICY_SERVER:-$ROOT/../shared/policy-server/policy-server}"

die() { echo "policy-server.sh: $*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

load_env() {
    [ -f "$1/env" ] || die "no $1/env: not started"
    # shellcheck disable=SC1091
    . "$1/env"
}

set_env() { # DIR KEY VALUE: replace or add KEY=VALUE in DIR/env
    local file="$1/env"
    touch "$file"
    grep -v "^$2=" "$file" >"$file.tmp" || true
    echo "$2=$3" >>"$file.tmp"
    mv "$file.tmp" "$file"
}

start_api() { # DIR: start the stand-in on API_PORT with SCENARIO (from DIR/env)
    local dir=$1
    load_env "$dir"
    local args=(--fixture "${FIXTURE:-$ROOT/tests/apiserver/cluster.json}" --port "$API_PORT" --log "$dir/apiserver.log")
    [ -z "${SCENARIO:-}" ] || args+=(--scenario "$SCENARIO")
    python3 "$ROOT/tests/apiserver/apiserver.py" "${args[@]}" </dev/null >>"$dir/apiserver.out" 2>&1 3>&- 4>&- &
    set_env "$dir" API_PID "$!"
    for _ in $(seq 200); do
        port_open "$API_PORT" && return 0
        kill -0 "$!" 2>/dev/null || break
        sleep 0.025
    done
    die "the API stand-in does not answer on 127.0.0.1:$API_PORT (see $dir/apiserver.out)"
}

stop_pid() {
    [ -n "${1:-}" ] || return 0
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.02
    done
    kill -9 "$1" 2>/dev/null || true
}

cmd_up() {
    local dir=$1 template=$2 scenario=${3:-}
    [ -x "$POLICY_SERVER" ] || die "no policy-server at $POLICY_SERVER"
    case "$(realpath -m "$dir")" in
        "$ROOT"/target/*) ;;
        *) die "DIR must be under $ROOT/target/" ;;
    esac
    rm -rf "$dir"
    mkdir -p "$dir/home" "$dir/downloads" "$dir/sigstore"
    dir="$(cd "$dir" && pwd)"
    local module floor
    module="$(realpath "${MODULE:-$ROOT/annotated-policy.wasm}")"
    floor="$(realpath -m "${FLOOR:-$ROOT/target/floor-policy.annotated.wasm}")"
    [ -f "$module" ] || die "no annotated module $module (make annotated-policy.wasm)"
    python3 - "$template" "$module" "$floor" "$dir/policies.yml" <<'PY'
import json, os, sys
template, module, floor, out = sys.argv[1:]
with open(template, encoding="utf-8") as f:
    text = f.read().replace("@MODULE@", module).replace("@FLOOR@", floor)
policies = {k: v for k, v in json.loads(text).items() if not k.startswith("//")}
for entry in policies.values():
    s = entry.get("settings")
    if isinstance(s, str) and s.startswith("@"):
        with open(os.path.join(os.path.dirname(template), s[1:]), encoding="utf-8") as f:
            entry["settings"] = json.load(f)
with open(out, "w", encoding="utf-8") as f:
    f.write("# written by scripts/policy-server.sh from %s (JSON is YAML)\n" % template)
    json.dump(policies, f, indent=2)
    f.write("\n")
PY
    local api_port ps_port ready_port
    api_port=$(free_port); ps_port=$(free_port); ready_port=$(free_port)
    while [ "$ps_port" = "$api_port" ]; do ps_port=$(free_port); done
    while [ "$ready_port" = "$api_port" ] || [ "$ready_port" = "$ps_port" ]; do ready_port=$(free_port); done
    cat >"$dir/env" <<ENV
API_PORT=$api_port
PS_PORT=$ps_port
READY_PORT=$ready_port
SCENARIO=$scenario
FIXTURE=$(realpath "${FIXTURE:-$ROOT/tests/apiserver/cluster.json}")
ENV
    cat >"$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: stand-in
    cluster: {server: "http://127.0.0.1:$api_port"}
contexts:
  - name: stand-in
    context: {cluster: stand-in, user: policy-server}
current-context: stand-in
users:
  - name: policy-server
    user: {token: policy-server}
KC
    HARNESS_DIR=$dir
    trap 'cmd_down "$HARNESS_DIR"' ERR
    start_api "$dir"
    local t0 t1
    t0=$(date +%s%N)
    (
        cd "$dir"
        unset RUST_BACKTRACE RUST_LIB_BACKTRACE
        exec env HOME="$dir/home" KUBECONFIG="$dir/kubeconfig" \
            "$POLICY_SERVER" --policies "$dir/policies.yml" --addr 127.0.0.1 --port "$ps_port" \
            --readiness-probe-port "$ready_port" --policies-download-dir "$dir/downloads" \
            --sigstore-cache-dir "$dir/sigstore" \
            --sigstore-trust-config "$ROOT/tests/kwctl/offline-trust-config.json" --log-level "${PS_LOG_LEVEL:-warn}" \
            ${PS_WORKERS:+--workers "$PS_WORKERS"} --log-no-color
    ) </dev/null >"$dir/policy-server.log" 2>&1 3>&- 4>&- &
    local pid=$!
    set_env "$dir" PS_PID "$pid"
    for _ in $(seq 1200); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$ready_port/readiness" 2>/dev/null; then
            t1=$(date +%s%N)
            set_env "$dir" READY_MS $(( (t1 - t0) / 1000000 ))
            trap - ERR
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/policy-server.log" >&2; cmd_down "$dir"; die "policy-server exited before it was ready"; }
        sleep 0.025
    done
    tail -20 "$dir/policy-server.log" >&2
    cmd_down "$dir"
    die "policy-server not ready after 30 s (see $dir/policy-server.log)"
}

cmd_down() {
    local dir=$1
    [ -f "$dir/env" ] || return 0
    ( . "$dir/env"; stop_pid "${PS_PID:-}"; stop_pid "${API_PID:-}" )
    set_env "$dir" PS_PID ""
    set_env "$dir" API_PID ""
}

cmd_api_stop() {
    load_env "$1"
    stop_pid "${API_PID:-}"
    set_env "$1" API_PID ""
}

cmd_review() {
    python3 - "$1" "${2:-}" <<'PY'
import json, sys
path, namespace = sys.argv[1:]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
request = doc.get("request", doc)
if namespace:
    request["namespace"] = namespace
    obj = request.get("object") or {}
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"]["namespace"] = namespace
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}))
PY
}

cmd_post() {
    local dir=$1 id=$2 review=$3
    load_env "$dir"
    local out code
    out=$(mktemp "$dir/post.XXXXXX")
    code=$(curl -sS -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --max-time 20 --data-binary "@$review" "http://127.0.0.1:$PS_PORT/validate/$id") || code=000
    echo "HTTP $code"
    tr -d '\n' <"$out"; echo
    rm -f "$out"
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    api-stop) shift; cmd_api_stop "$@" ;;
    api-start) shift; start_api "$@" ;;
    review) shift; cmd_review "$@" ;;
    post) shift; cmd_post "$@" ;;
    *) sed -n '2,30p' "$0" >&2; exit 2 ;;
esac
