#!/usr/bin/env bash
# Figures, not pass/fail: the module under the real Kubewarden policy-server
# (../shared/policy-server/policy-server, or POLICY_SERVER), standalone on loopback
# (scripts/policy-server.sh), under bounded load from Debian's `hey`.
#
# 1. One server, one run, with test_data/policy-server/bench.json's entries: the floor
#    (target/floor-policy.wasm, annotated with test_data/policy-server/floor-metadata.yml), the
#    project at level restricted, with every constraint, and with namespaceLabels against the
#    API stand-in (tests/apiserver/), the project's entries granted their host capabilities.
#    ROUNDS rounds (default 3), the entries interleaved within each round, each of REQUESTS
#    requests (default 1000) from CONCURRENCY workers (default 4), after a warm-up. Per entry:
#    median requests per second (requests / hey's wall time), ms per request (mean of hey's
#    per-request latencies) and the server's CPU time per request (user + system, /proc), each
#    with its ratio to the floor's and the spread (min-max) over the rounds. The load generator
#    shares the machine's cores with the server, so latency moves with it; CPU time per request
#    moves much less.
#    Then, when `perf` may record (PERF=0 skips it), one more load per entry under `perf record`:
#    the share of the server's CPU time in the guest's compiled code, in policy-server itself
#    (wasmtime's runtime, HTTP, JSON), in the kernel and in libc.
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

cpu_ticks() { # PID: user + system CPU time of the process, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

load() { # DIR ENTRY N OUT: hey's per-request CSV in OUT, the wall time (ns) in OUT.wall,
    # the server's CPU time over the load (clock ticks) in OUT.cpu
    . "$1/env"
    local t0 t1 ok c0
    c0=$(cpu_ticks "$PS_PID")
    t0=$(date +%s%N)
    hey -n "$3" -c "$CONCURRENCY" -m POST -T application/json -D "$work/review.json" -o csv \
        "http://127.0.0.1:$PS_PORT/validate/$2" >"$4"
    t1=$(date +%s%N)
    echo $((t1 - t0)) >"$4.wall"
    echo $(($(cpu_ticks "$PS_PID") - c0)) >"$4.cpu"
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

# Where the server's CPU time goes, per entry (when perf may record): the share of samples in
# the guest's compiled code ([JIT]), in policy-server itself (wasmtime's runtime, HTTP, JSON,
# tokio), in the kernel (page faults and unmapping of the instances' memory, scheduling,
# sockets) and in libc, applied to the server's CPU time per request over the same load.
if command -v perf >/dev/null 2>&1 && [ "${PERF:-1}" != 0 ]; then
    . "$all/env"
    for entry in "${ENTRIES[@]}"; do
        c0=$(cpu_ticks "$PS_PID")
        perf record -q -F 2000 -p "$PS_PID" -o "$work/perf-$entry.data" \
            >"$work/perf-$entry.log" 2>&1 &
        perf_pid=$!
        sleep 0.5
        if kill -0 "$perf_pid" 2>/dev/null; then
            hey -n "$REQUESTS" -c "$CONCURRENCY" -m POST -T application/json -D "$work/review.json" \
                "http://127.0.0.1:$PS_PORT/validate/$entry" >/dev/null
            kill -INT "$perf_pid" 2>/dev/null || true
            wait "$perf_pid" 2>/dev/null || true
            echo $(($(cpu_ticks "$PS_PID") - c0)) >"$work/perf-$entry.cpu"
            perf report -i "$work/perf-$entry.data" --no-children --sort dso --stdio -g none \
                2>/dev/null | awk '!/^#/ && /%/ { sub("%", "", $1); print $1, $2 }' \
                >"$work/perf-$entry.dso" || true
        fi
    done
fi
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

python3 - "$work" "$ROUNDS" "$REQUESTS" "$CONCURRENCY" "$(getconf CLK_TCK)" "${ENTRIES[@]}" <<'PY'
import os, re, statistics, sys
work, rounds, requests, concurrency, clk_tck, *entries = sys.argv[1:]
rounds, requests, clk_tck = int(rounds), int(requests), int(clk_tck)

def figures(path):
    """Requests per second (requests / hey's wall time) and mean ms per request."""
    with open(path, encoding="utf-8") as f:
        times = [float(line.split(",")[0]) for line in f.readlines()[1:] if line.strip()]
    wall = int(open(path + ".wall").read()) / 1e9
    cpu_us = int(open(path + ".cpu").read()) * 1e6 / clk_tck / len(times)
    return len(times) / wall, statistics.fmean(times) * 1000, cpu_us

def spread(values, fmt):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"

data = {e: [figures(f"{work}/hey/{e}-{r}.csv") for r in range(1, rounds + 1)] for e in entries}
floor_ms = statistics.median(ms for _, ms, _ in data["floor"])
floor_cpu = statistics.median(cpu for _, _, cpu in data["floor"])
names = {"floor": "floor (accepts everything)", "restricted": "project, level: restricted",
         "every-constraint": "project, every constraint",
         "namespace-labels": "project, namespaceLabels (stand-in)"}
print(f"policy-server under hey: one server, {rounds} interleaved rounds of {requests} requests "
      f"from {concurrency} workers per entry; median (min-max) over the rounds")
print("ms/request: hey's mean latency; server CPU: policy-server's user+system time per request "
      "(/proc), which the load generator sharing the cores does not blur")
print(f"{'entry':36} {'req/s':>17} {'ms/request':>17} {'x floor':>7} {'server CPU µs':>17} {'x floor':>7}")
for e in entries:
    rps = [r for r, _, _ in data[e]]; ms = [m for _, m, _ in data[e]]; cpu = [c for _, _, c in data[e]]
    print(f"{names.get(e, e):36} {spread(rps, '{:.0f}'):>17} {spread(ms, '{:.2f}'):>17} "
          f"{statistics.median(ms) / floor_ms:>7.2f} {spread(cpu, '{:.0f}'):>17} "
          f"{statistics.median(cpu) / floor_cpu:>7.2f}")
gets = sum(1 for line in open(f"{work}/all/apiserver.log", encoding="utf-8")
           if line.startswith("GET /api/v1/namespaces/default "))
print(f"(the API stand-in answered {gets} reads of namespace default during the run; "
      "policy-server caches them briefly)")
shares = {}
for e in entries:
    dso, cpu = f"{work}/perf-{e}.dso", f"{work}/perf-{e}.cpu"
    if not (os.path.exists(dso) and os.path.exists(cpu)) or os.path.getsize(dso) == 0:
        continue
    groups = {"guest [JIT]": 0.0, "policy-server": 0.0, "kernel": 0.0, "libc, other": 0.0}
    for line in open(dso, encoding="utf-8"):
        pct, name = line.split(maxsplit=1)
        key = ("guest [JIT]" if name.startswith("[JIT]") else "policy-server" if name.startswith("policy-server")
               else "kernel" if name.startswith("[kernel") else "libc, other")
        groups[key] += float(pct)
    per_request = int(open(cpu).read()) * 1e6 / clk_tck / requests
    shares[e] = {k: v / 100 * per_request for k, v in groups.items()}
if shares:
    print()
    print(f"where the server's CPU time per request goes (perf, {requests} requests per entry), µs:")
    print(f"{'entry':36} " + " ".join(f"{k:>14}" for k in next(iter(shares.values()))))
    for e, g in shares.items():
        print(f"{names.get(e, e):36} " + " ".join(f"{v:>14.0f}" for v in g.values()))
print()
print("each alone in its own server (one entry):")
print(f"{'entry':38} {'ready (ms)':>10} {'RSS ready':>10} {'peak RSS':>10} {'steady RSS':>11}")
for line in open(f"{work}/alone.txt", encoding="utf-8"):
    e, ready, rss_ready, peak, steady = line.split()
    print(f"{names.get(e, e):38} {ready:>10} {rss_ready + ' MiB':>10} {peak + ' MiB':>10} {steady + ' MiB':>11}")
PY
