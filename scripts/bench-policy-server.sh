#!/usr/bin/env bash
# Figures, not pass/fail: the module under the real Kubewarden policy-server
# (../shared/policy-server/policy-server, or POLICY_SERVER), standalone on loopback
# (scripts/policy-server.sh), under bounded load from Debian's `hey`.
#
# 1. One server, one run, with test_data/policy-server/bench.json's entries, every one granted
#    its host capabilities: the floor (target/floor-policy.wasm, annotated with
#    test_data/policy-server/floor-metadata.yml), the project at level restricted, with every
#    constraint, and with namespaceLabels against the API stand-in (tests/apiserver/). ROUNDS
#    rounds (default 3), the entries interleaved within each round, each of REQUESTS requests
#    (default 1000) from CONCURRENCY workers (default 4), after a warm-up. Per entry: median
#    requests per second (requests / hey's wall time), ms per request (mean of hey's per-request
#    latencies) and its ratio to the floor's, with the spread (min-max) over the rounds.
# 2. The project alone (level restricted) and the floor alone, each in its own server: time to
#    ready (GET /readiness), RSS once ready, peak RSS (VmHWM) and steady RSS after a load round.
#
# Every request is test_data/deployment_restricted_compliant.json, in namespace default (which
# the stand-in's base cluster leaves unlabelled), admitted by every entry; the script checks
# that every answer is HTTP 200 and allowed. Scratch files, hey's outputs and the servers' logs
# are in target/bench-policy-server/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-1000}
CONCURRENCY=${CONCURRENCY:-4}
HARNESS=scripts/policy-server.sh
work=target/bench-policy-server
ENTRIES=(floor restricted every-constraint namespace-labels)

die() { echo "bench-policy-server: $*" >&2; exit 1; }

export POLICY_SERVER="${POLICY_SERVER:-$ROOT/../shared/policy-server/policy-server}"
[ -x "$POLICY_SERVER" ] || die "no policy-server at $POLICY_SERVER"
if [ -z "${KWCTL_BIN:-}" ]; then
    KWCTL_BIN="$ROOT/../shared/kwctl/kwctl"
fi
export KWCTL_BIN
[ -x "$KWCTL_BIN" ] || die "needs kwctl (KWCTL_BIN) to annotate the floor"
if ! command -v hey >/dev/null 2>&1; then
    echo "bench-policy-server: installing Debian's hey" >&2
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends hey >/dev/null
fi
[ -f annotated-policy.wasm ] || make --no-print-directory annotated-policy.wasm >&2
[ -f target/floor-policy.wasm ] || scripts/build-wasm.sh floor-policy target/floor-policy.wasm >&2
scripts/kwctl-offline.sh annotate -m test_data/policy-server/floor-metadata.yml \
    -o target/floor-policy.annotated.wasm target/floor-policy.wasm
export MODULE="$ROOT/annotated-policy.wasm" FLOOR="$ROOT/target/floor-policy.annotated.wasm"

rm -rf "$work"
mkdir -p "$work/hey"
servers=()
cleanup() {
    for s in "${servers[@]}"; do "$HARNESS" down "$s" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$HARNESS" review test_data/deployment_restricted_compliant.json default >"$work/review.json"

# Only some entries of bench.json, as a template of their own (same directory, for "@FILE").
subset() {
    python3 - "$1" "${@:2}" <<'PY'
import json, sys
out, *keep = sys.argv[1:]
with open("test_data/policy-server/bench.json", encoding="utf-8") as f:
    entries = json.load(f)
with open(out, "w", encoding="utf-8") as f:
    json.dump({k: v for k, v in entries.items() if k in keep}, f, indent=1)
PY
}

load() { # DIR ENTRY N OUT: hey's per-request CSV in OUT, the wall time (ns) in OUT.wall
    . "$1/env"
    local t0 t1 ok
    t0=$(date +%s%N)
    hey -n "$3" -c "$CONCURRENCY" -m POST -T application/json -D "$work/review.json" -o csv \
        "http://127.0.0.1:$PS_PORT/validate/$2" >"$4"
    t1=$(date +%s%N)
    echo $((t1 - t0)) >"$4.wall"
    ok=$(awk -F, 'NR > 1 && $7 == 200' "$4" | wc -l)
    [ "$ok" -eq "$3" ] || die "$((${3} - ok)) of $3 answers to $2 were not HTTP 200 (see $4)"
}

check_allowed() { # DIR ENTRY
    local out
    out=$("$HARNESS" post "$1" "$2" "$work/review.json")
    grep -q '^HTTP 200$' <<<"$out" && grep -q '"allowed":true' <<<"$out" ||
        die "entry $2 does not admit the bench's request: $out"
}

rss() { # PID FIELD (VmRSS, VmHWM) in MiB
    awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# 1. Every entry in one server.
all="$work/all"
servers+=("$all")
"$HARNESS" up "$all" test_data/policy-server/bench.json >&2
echo "bench-policy-server: one server, entries ${ENTRIES[*]}, ready in $(. "$all/env"; echo "$READY_MS") ms" >&2
for entry in "${ENTRIES[@]}"; do
    check_allowed "$all" "$entry"
    load "$all" "$entry" $((REQUESTS / 5)) "$work/hey/warmup-$entry.csv"
done
for round in $(seq "$ROUNDS"); do
    for entry in "${ENTRIES[@]}"; do
        load "$all" "$entry" "$REQUESTS" "$work/hey/$entry-$round.csv"
    done
    echo "bench-policy-server: round $round of $ROUNDS done" >&2
done
"$HARNESS" down "$all"

# 2. The project alone and the floor alone.
for alone in restricted floor; do
    subset "$work/alone-$alone.json" "$alone"
    dir="$work/alone-$alone"
    servers+=("$dir")
    "$HARNESS" up "$dir" "$work/alone-$alone.json" >&2
    . "$dir/env"
    ready_rss=$(rss "$PS_PID" VmRSS)
    check_allowed "$dir" "$alone"
    load "$dir" "$alone" "$REQUESTS" "$work/hey/alone-$alone.csv"
    sleep 1
    echo "$alone $READY_MS $ready_rss $(rss "$PS_PID" VmHWM) $(rss "$PS_PID" VmRSS)" >>"$work/alone.txt"
    "$HARNESS" down "$dir"
done

python3 - "$work" "$ROUNDS" "$REQUESTS" "$CONCURRENCY" "${ENTRIES[@]}" <<'PY'
import re, statistics, sys
work, rounds, requests, concurrency, *entries = sys.argv[1:]
rounds = int(rounds)

def figures(path):
    """Requests per second (requests / hey's wall time) and mean ms per request."""
    with open(path, encoding="utf-8") as f:
        times = [float(line.split(",")[0]) for line in f.readlines()[1:] if line.strip()]
    wall = int(open(path + ".wall").read()) / 1e9
    return len(times) / wall, statistics.fmean(times) * 1000

data = {e: [figures(f"{work}/hey/{e}-{r}.csv") for r in range(1, rounds + 1)] for e in entries}
floor_ms = statistics.median(ms for _, ms in data["floor"])
names = {"floor": "floor (accepts everything)", "restricted": "project, level: restricted",
         "every-constraint": "project, every constraint",
         "namespace-labels": "project, namespaceLabels (stand-in)"}
print(f"policy-server under hey: one server, {rounds} interleaved rounds of {requests} requests "
      f"from {concurrency} workers per entry; median (min-max) over the rounds")
print(f"{'entry':38} {'req/s':>20} {'ms/request':>20} {'x floor':>8}")
for e in entries:
    rps = [r for r, _ in data[e]]; ms = [m for _, m in data[e]]
    med_rps, med_ms = statistics.median(rps), statistics.median(ms)
    rps_s = f"{med_rps:.0f} ({min(rps):.0f}-{max(rps):.0f})"
    ms_s = f"{med_ms:.2f} ({min(ms):.2f}-{max(ms):.2f})"
    print(f"{names.get(e, e):38} {rps_s:>20} {ms_s:>20} {med_ms / floor_ms:>8.2f}")
gets = sum(1 for line in open(f"{work}/all/apiserver.log", encoding="utf-8")
           if line.startswith("GET /api/v1/namespaces/default "))
print(f"(the API stand-in answered {gets} reads of namespace default during the run; "
      "policy-server caches them briefly)")
print()
print("each alone in its own server (one entry):")
print(f"{'entry':38} {'ready (ms)':>10} {'RSS ready':>10} {'peak RSS':>10} {'steady RSS':>11}")
for line in open(f"{work}/alone.txt", encoding="utf-8"):
    e, ready, rss_ready, peak, steady = line.split()
    print(f"{names.get(e, e):38} {ready:>10} {rss_ready + ' MiB':>10} {peak + ' MiB':>10} {steady + ' MiB':>11}")
PY
