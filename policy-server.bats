#!/usr/bin/env bats
# The annotated module served by the real Kubewarden policy-server (../shared/policy-server/,
# POLICY_SERVER), standalone on loopback, with the Kubernetes API stand-in (tests/apiserver/)
# as its cluster: AdmissionReviews POSTed to /validate/<entry>, answers compared with
# `kwctl run` (scripts/kwctl-offline.sh, KWCTL_BIN) on the same request and settings. One
# server for the file (scripts/policy-server.sh up/down; entries:
# test_data/policy-server/tests.json). Run by `make policy-server-tests`.

ROOT="$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)"
HARNESS="$ROOT/scripts/policy-server.sh"
PS_DIR="$ROOT/target/policy-server-tests"
FIXTURE="$ROOT/target/policy-server-tests.cluster.json"
COMPARE="$ROOT/test_data/policy-server/compare.py"
OFFLINE_KUBECONFIG="$ROOT/target/policy-server-tests.offline-kubeconfig"

setup_file() {
  cd "$ROOT"
  : "${KWCTL_BIN:?KWCTL_BIN must name the real kwctl}"
  python3 - tests/apiserver/cluster.json test_data/policy-server/namespaces.json "$FIXTURE" <<'PY'
import json, sys
base, extra, out = sys.argv[1:]
fixture = json.load(open(base, encoding="utf-8"))
namespaces = {k: v for k, v in json.load(open(extra, encoding="utf-8")).items() if not k.startswith("//")}
fixture["cluster"]["namespaces"] = {**fixture["cluster"]["namespaces"], **namespaces}
json.dump(fixture, open(out, "w", encoding="utf-8"), indent=1)
PY
  printf '%s\n' 'apiVersion: v1' 'kind: Config' 'clusters:' '  - name: unreachable' \
    '    cluster: {server: "http://127.0.0.1:9"}' 'contexts:' '  - name: unreachable' \
    '    context: {cluster: unreachable, user: nobody}' 'current-context: unreachable' \
    'users:' '  - name: nobody' '    user: {}' >"$OFFLINE_KUBECONFIG"
  FIXTURE="$FIXTURE" "$HARNESS" up "$PS_DIR" test_data/policy-server/tests.json
  . "$PS_DIR/env"
  echo "# policy-server ready in ${READY_MS} ms (5 entries)" >&3
}

teardown_file() {
  touch "$PS_DIR/outage.stop"
  "$HARNESS" down "$PS_DIR"
}

setup() {
  cd "$ROOT"
  . "$PS_DIR/env"
}

# POST test_data/$1 (moved into namespace $3 when given) to entry $2: $code, $allowed, $message.
post() {
  "$HARNESS" review "test_data/$1" "${3:-}" >"$PS_DIR/review.json"
  local out
  out=$("$HARNESS" post "$PS_DIR" "$2" "$PS_DIR/review.json")
  code=$(head -n1 <<<"$out" | cut -d' ' -f2)
  body=$(tail -n +2 <<<"$out")
  allowed=$(python3 -c 'import json,sys; print(str(json.loads(sys.argv[1])["response"]["allowed"]).lower())' "$body" 2>/dev/null || echo none)
  message=$(python3 -c 'import json,sys; print(json.dumps((json.loads(sys.argv[1])["response"].get("status") or {}).get("message")))' "$body" 2>/dev/null || echo none)
}

requests() {
  ls test_data/*.json | grep -v '/cases.json$'
}

@test "restricted: policy-server's verdicts and messages equal kwctl's on every request of test_data/" {
  run "$COMPARE" "$PS_DIR" "$OFFLINE_KUBECONFIG" restricted $(requests)
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "baseline: policy-server's verdicts and messages equal kwctl's" {
  run "$COMPARE" "$PS_DIR" "$OFFLINE_KUBECONFIG" baseline test_data/pod_privileged.json \
    test_data/daemonset_host_access.json test_data/pod_restricted_compliant.json \
    test_data/replicationcontroller_unsafe_sysctl.json test_data/podtemplate_unmasked_procmount.json \
    test_data/pod_ephemeral_container_privileged.json test_data/deployment_update_new_violation.json \
    test_data/cronjob_unconfined_seccomp.json
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "every constraint (the bench's settings): verdicts and messages equal kwctl's on every request" {
  run "$COMPARE" "$PS_DIR" "$OFFLINE_KUBECONFIG" every-constraint $(requests)
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "namespaceLabels granted: verdicts and messages equal kwctl's run against the same API stand-in" {
  run "$COMPARE" "$PS_DIR" "$PS_DIR/kubeconfig" namespace-labels test_data/pod_privileged.json \
    test_data/pod_privileged.json@team-a test_data/pod_privileged.json@team-b \
    test_data/daemonset_host_access.json test_data/namespace_enforce_tightened.json \
    test_data/namespace_invalid_labels.json
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "namespaceLabels granted: the namespace's labels are read from the API stand-in" {
  # The settings say privileged; namespace default (stand-in) enforces baseline, team-a privileged.
  post pod_privileged.json namespace-labels
  echo "$code $body"
  [ "$code" = 200 ]
  [ "$allowed" = false ]
  [[ "$message" == *'violates PodSecurity \"baseline:latest\": privileged (container \"web\"'* ]]
  post pod_privileged.json namespace-labels team-a
  echo "$code $body"
  [ "$code" = 200 ]
  [ "$allowed" = true ]
  grep -q '^GET /api/v1/namespaces/default ' "$PS_DIR/apiserver.log"
  grep -q '^GET /api/v1/namespaces/team-a ' "$PS_DIR/apiserver.log"
}

@test "namespaceLabels: the Pods of a tightened namespace are listed from the API stand-in" {
  post namespace_enforce_tightened.json namespace-labels
  echo "$code $body"
  [ "$code" = 200 ]
  [ "$allowed" = true ]
  [[ "$body" == *'existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"'* ]]
  grep -q '^GET /api/v1/namespaces/team-a/pods' "$PS_DIR/apiserver.log"
}

@test "no hostCapabilities in the policies.yml entry: a one-line refusal naming the capability" {
  post pod_privileged.json namespace-labels-ungranted
  echo "$code $body"
  [ "$code" = 200 ]
  [ "$allowed" = false ]
  [[ "$message" == '"PodSecurity \"privileged:latest\" cannot evaluate this Pod: cannot read namespace \"default\": the host refuses the '"'"'kubernetes/get_resource'"'"' host capability, which this deployment does not grant the policy: list it in hostCapabilities'* ]]
  [[ "$message" != *'\n'* ]]
  # policy-server itself names the capability and the (empty) grant.
  sed 's/\x1b\[[0-9;]*m//g' "$PS_DIR/policy-server.log" |
    grep -q "host capability it doesn't have access to.*capability=\"kubernetes/get_resource\" allowed_capabilities=\[\]"
  # The same request is admitted by the granted entry's labels only where they allow it.
  post pod_restricted_compliant.json namespace-labels-ungranted team-a
  [ "$code" = 200 ]
  [ "$allowed" = false ]
  [[ "$message" == *"'kubernetes/get_resource'"* ]]
}

@test "API stand-in killed mid-run: always HTTP 200, nothing admitted that the labels reject, recovery" {
  local log="$PS_DIR/outage.log" n=0 bad=0
  : >"$log"
  # check NS EXPECT: post pod_privileged into NS; EXPECT denied (labels reject) or any.
  check() {
    post pod_privileged.json namespace-labels "$1"
    n=$((n + 1))
    echo "$2 $1 HTTP $code allowed=$allowed $message" >>"$log"
    [ "$code" = 200 ] || bad=$((bad + 1))
    if [ "$2" = denied ] && [ "$allowed" != false ]; then bad=$((bad + 1)); fi
    if [ "$2" = allowed ] && [ "$allowed" != true ]; then bad=$((bad + 1)); fi
  }
  # Meanwhile, a client keeps POSTing the privileged pod into default (labels: baseline).
  "$HARNESS" review test_data/pod_privileged.json >"$PS_DIR/outage-review.json"
  (
    while [ ! -e "$PS_DIR/outage.stop" ]; do
      "$HARNESS" post "$PS_DIR" namespace-labels "$PS_DIR/outage-review.json" | tr '\n' ' '
      echo
    done
  ) >"$PS_DIR/outage-background.log" 2>&1 3>&- &
  local client=$!
  rm -f "$PS_DIR/outage.stop"
  echo "== up" >>"$log"
  check default denied
  check team-b allowed
  "$HARNESS" api-stop "$PS_DIR"
  echo "== down" >>"$log"
  for _ in 1 2 3; do
    check default denied   # read before: policy-server's cache, or an error: rejected either way
    check outage denied    # never read: cannot be read, so rejected
    check team-b any
  done
  grep -q '^denied outage HTTP 200 allowed=false .*cannot read namespace \\"outage\\"' "$log"
  "$HARNESS" api-start "$PS_DIR"
  echo "== back" >>"$log"
  local recovered=
  for _ in $(seq 40); do
    check outage denied
    if [[ "$message" == *'violates PodSecurity \"baseline:latest\": privileged'* ]]; then recovered=1; break; fi
    sleep 0.25
  done
  check team-b allowed
  check default denied
  touch "$PS_DIR/outage.stop"
  wait "$client"
  cat "$log"
  local answers
  answers=$(grep -c . "$PS_DIR/outage-background.log")
  echo "background client: $answers answers, $(grep -c 'cannot read namespace' "$PS_DIR/outage-background.log") without the labels"
  [ "$bad" -eq 0 ]
  [ -n "$recovered" ]
  [ "$answers" -gt 10 ]
  # Every answer of the background client: HTTP 200 and not admitted.
  ! grep -v '^HTTP 200 .*"allowed":false' "$PS_DIR/outage-background.log"
}
