#!/usr/bin/env bash
# Records every host-capabilities session in test_data/sessions/ with the real kwctl, against a
# Kubernetes API stand-in (tests/apiserver/) and Debian's docker-registry (tests/registry/), all
# on loopback:
#
#   scripts/record-sessions.sh           re-record test_data/sessions/*.yml
#   scripts/record-sessions.sh --check   record into a scratch directory and diff: exit 1 when
#                                        a committed session is not what kwctl records today
#
# It builds policy.wasm (make policy.wasm; POLICY_WASM=FILE records with that module instead,
# e.g. one built from another commit), annotates it with that kwctl, starts the registries
# (127.0.0.1:5000, and 127.0.0.1:5001 refusing anonymous pulls; the ports are part of the image
# references in test_data/) and pushes tests/registry/images.json into them, then, for each
# session of the table below, starts the API stand-in with the session's scenario of
# tests/apiserver/cluster.json and runs
#
#   kwctl run --allow-context-aware --sources-path <insecure 127.0.0.1:5000/5001> \
#     --record-host-capabilities-interactions <session> --request-path <request> \
#     --settings-json <settings> <annotated module>
#
# Each session file is kwctl's output after a comment header saying what it is and how it was
# recorded. kwctl is KWCTL_BIN, else ../shared/kwctl/kwctl, else kwctl on PATH; it runs through
# scripts/kwctl-offline.sh, so that nothing but loopback is contacted. Scratch files, logs and
# what kwctl printed for each session are in target/record-sessions/.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=record
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# The sessions: name | what it is | request under test_data/ ("FILE in NAMESPACE": a copy of
# FILE made in another namespace) | settings | scenario of tests/apiserver/cluster.json ("-":
# the base cluster). Sessions that need no host call are recorded too: kwctl writes `[]`.
NODE_AGENTS='{"level":"baseline","profiles":[{"name":"node-agents","level":"baseline","exemptions":[{"checks":["hostNamespaces","hostPathVolumes","hostPorts"]}]}]}'
EXEMPTED='{"imageUser":{},"runAsUser":{"rule":"MustRunAs","ranges":[{"min":65532,"max":65535}]},"exemptions":[{"checks":["imageUserConstraint","runAsUserConstraint"],"images":["127.0.0.1:5000/library/nginx:*","127.0.0.1:5000/prometheus/node-exporter:*"]}]}'
SESSIONS=(
    "empty|A privileged pod judged at privileged: no host call is made|pod_privileged.json|{\"level\":\"privileged\"}|-"
    "no_host_calls|A pod that sets runAsUser itself: imageUser looks up no image|pod_restricted_compliant.json|{\"imageUser\":{}}|-"
    "image_users_storefront|The image configurations of Deployment shop/storefront, one exchange per distinct image, in sorted order (pause is a multi-platform index: the host picks linux/amd64)|deployment_image_users.json|{\"imageUser\":{}}|-"
    "image_users_storefront_exempted|The image configurations shop/storefront needs when its nginx and node-exporter images are exempted: pause and distroless only|deployment_image_users.json|$EXEMPTED|-"
    "image_user_unauthorized|The private registry (127.0.0.1:5001) refuses the host's anonymous pull of the billing image|pod_image_user_private_registry.json|{\"imageUser\":{}}|-"
    "image_user_malformed|An image whose configuration blob is a JSON string, not an image configuration|pod_image_user_malformed_config.json|{\"imageUser\":{}}|-"
    "namespace_default_baseline|Namespace default enforces baseline:latest through its labels|pod_privileged.json|{\"namespaceLabels\":true,\"level\":\"privileged\"}|namespace_default_baseline"
    "namespace_default_privileged_warn_baseline|Namespace default enforces privileged, warns at baseline and audits at baseline:v1.30|pod_privileged.json|{\"namespaceLabels\":true}|namespace_default_privileged_warn_baseline"
    "namespace_default_invalid_enforce|Namespace default has an invalid enforce level (strict): PSA enforces restricted|pod_privileged.json|{\"namespaceLabels\":true,\"level\":\"privileged\"}|namespace_default_invalid_enforce"
    "namespace_default_unlabelled|Namespace default without Pod Security labels: the settings are the defaults|pod_privileged.json|{\"namespaceLabels\":true}|-"
    "namespace_default_forbidden|The API server refuses the policy server's read of namespace default (403)|pod_restricted_compliant.json|{\"namespaceLabels\":true}|namespace_default_forbidden"
    "namespace_team_b_other|Namespace team-b, read for a pod in team-b: replaying it for a pod in default is a replay error|pod_restricted_compliant.json in team-b|{\"namespaceLabels\":true}|-"
    "pods_in_team_a|The pods of namespace team-a, listed in pages of 2: one compliant, two privileged of one DaemonSet, one privileged with the host network|namespace_enforce_tightened.json|{\"namespaceLabels\":true}|-"
    "profile_granted_to_pod_service_account|The DaemonSet controller may not use profile node-agents; the pod's service account monitoring/node-exporter may|pod_node_exporter_by_controller.json|$NODE_AGENTS|-"
    "profile_granted_to_user|alice, who creates the DaemonSet, may use profile node-agents|daemonset_monitoring_node_exporter.json|$NODE_AGENTS|-"
    "profile_not_granted|Neither the DaemonSet controller nor the pod's service account may use profile node-agents|pod_node_exporter_by_controller.json|$NODE_AGENTS|no_profile_grants"
    "profile_can_i_timeout|The SubjectAccessReview about the DaemonSet controller times out (504)|pod_node_exporter_by_controller.json|$NODE_AGENTS|access_review_timeout"
    "profile_can_i_evaluation_error|The authorizer cannot decide about the DaemonSet controller: the review comes back with an evaluationError|pod_node_exporter_by_controller.json|$NODE_AGENTS|access_review_evaluation_error"
)

API_PORT=18443
REGISTRY_PORTS=(5000 5001)
work=target/record-sessions
sessions=test_data/sessions

if [ -n "${KWCTL_BIN:-}" ]; then
    :
elif [ -x ../shared/kwctl/kwctl ]; then
    KWCTL_BIN="$(cd ../shared/kwctl && pwd)/kwctl"
elif command -v kwctl >/dev/null 2>&1; then
    KWCTL_BIN="$(command -v kwctl)"
else
    echo "record-sessions: needs kwctl (KWCTL_BIN, ../shared/kwctl/kwctl or kwctl on PATH)" >&2
    exit 1
fi
export KWCTL_BIN
kwctl=scripts/kwctl-offline.sh

if ! command -v docker-registry >/dev/null 2>&1; then
    echo "record-sessions: installing Debian's docker-registry" >&2
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        docker-registry >/dev/null
fi

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
    for _ in $(seq 100); do
        port_open "$1" && return 0
        sleep 0.05
    done
    echo "record-sessions: nothing answers on 127.0.0.1:$1 (see $work/*.log)" >&2
    exit 1
}

for port in "$API_PORT" "${REGISTRY_PORTS[@]}"; do
    if port_open "$port"; then
        echo "record-sessions: 127.0.0.1:$port is in use; stop what listens there first" >&2
        exit 1
    fi
done

# What this script started (the registries, the API stand-in of the session being recorded),
# stopped by pid on exit.
pids=()
api_pid=
stop_all() {
    for pid in "${pids[@]}" $api_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT

rm -rf "$work"
mkdir -p "$work/registry" "$work/registry-auth" "$work/raw" "$work/sessions" "$work/output"

REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$PWD/$work/registry" \
    docker-registry serve tests/registry/config.yml >"$work/registry.log" 2>&1 &
pids+=("$!")
REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$PWD/$work/registry-auth" \
    REGISTRY_AUTH_HTPASSWD_PATH="$PWD/$work/registry-auth/htpasswd" \
    docker-registry serve tests/registry/config-auth.yml >"$work/registry-auth.log" 2>&1 &
pids+=("$!")
for port in "${REGISTRY_PORTS[@]}"; do wait_port "$port"; done
python3 tests/registry/push_images.py tests/registry/images.json >"$work/push.log"

if [ -n "${POLICY_WASM:-}" ]; then
    module=$POLICY_WASM
else
    make --no-print-directory policy.wasm >&2
    module=policy.wasm
fi
"$kwctl" annotate -m metadata.yml -u README.md -o "$work/annotated-policy.wasm" "$module"

cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: stand-in
    cluster:
      server: http://127.0.0.1:$API_PORT
contexts:
  - name: stand-in
    context: {cluster: stand-in, user: recorder}
current-context: stand-in
users:
  - name: recorder
    user: {token: recorder}
EOF
export KUBECONFIG="$PWD/$work/kubeconfig"
printf 'insecure_sources: ["127.0.0.1:%s", "127.0.0.1:%s"]\n' "${REGISTRY_PORTS[@]}" \
    >"$work/sources.yml"

# "FILE in NAMESPACE": a copy of test_data/FILE whose object is created in NAMESPACE.
request_file() {
    local file=${1%% in *} namespace=${1##* in }
    if [ "$file" = "$1" ]; then
        echo "test_data/$file"
        return
    fi
    python3 - "test_data/$file" "$namespace" "$work/$namespace-$file" <<'EOF'
import json, sys
source, namespace, target = sys.argv[1:]
with open(source, encoding="utf-8") as f:
    review = json.load(f)
request = review.get("request", review)
request["namespace"] = request["object"]["metadata"]["namespace"] = namespace
with open(target, "w", encoding="utf-8") as f:
    json.dump(review, f, indent=2)
EOF
    echo "$work/$namespace-$file"
}

record() {
    local name=$1 what=$2 request=$3 settings=$4 scenario=$5
    local request_path
    request_path=$(request_file "$request")
    local args=(--fixture tests/apiserver/cluster.json --port "$API_PORT" --log "$work/apiserver.log")
    [ "$scenario" = - ] || args+=(--scenario "$scenario")
    echo "== $name" >>"$work/apiserver.log"
    python3 tests/apiserver/apiserver.py "${args[@]}" 2>>"$work/apiserver.log" &
    api_pid=$!
    wait_port "$API_PORT"
    # A minute is far more than a run takes; a run that never ends (kwctl's cache retrying a
    # list the stand-in keeps failing) is an error.
    if ! timeout 60 "$kwctl" run --allow-context-aware --sources-path "$work/sources.yml" \
        --record-host-capabilities-interactions "$work/raw/$name.yml" \
        --request-path "$request_path" --settings-json "$settings" \
        "$work/annotated-policy.wasm" >"$work/output/$name.json" 2>"$work/output/$name.log"; then
        echo "record-sessions: kwctl failed recording $name:" >&2
        tail -5 "$work/output/$name.log" >&2
        exit 1
    fi
    kill "$api_pid"
    wait "$api_pid" 2>/dev/null || true
    api_pid=
    local cluster="tests/apiserver/cluster.json"
    [ "$scenario" = - ] || cluster="$cluster, scenario $scenario"
    {
        echo "# $what."
        echo "# Recorded by scripts/record-sessions.sh (re-record, do not edit): kwctl run"
        echo "#   --request-path test_data/$request --settings-json '$settings'"
        echo "#   against $cluster and tests/registry/images.json."
        cat "$work/raw/$name.yml"
    } >"$work/sessions/$name.yml"
    echo "recorded $name ($(grep -c '^- type: Exchange' "$work/raw/$name.yml" || true) exchanges)" >&2
}

for entry in "${SESSIONS[@]}"; do
    IFS='|' read -r name what request settings scenario <<<"$entry"
    record "$name" "$what" "$request" "$settings" "$scenario"
done

# kwctl lists a namespace's objects in the order of its cache, which changes from run to run;
# every other byte it records is the same on every run. So two recordings are the same session
# when they are equal once the items of every list they answer are sorted by namespace and
# name. `same_session A B` says so, printing the difference when they are not.
same_session() {
    python3 - "$1" "$2" <<'EOF'
import difflib, json, re, sys

def normalized(path):
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.fullmatch(r"(\s*payload: ')(.*)('\n?)", line)
            if m:
                try:
                    payload = json.loads(m.group(2).replace("''", "'"))
                except ValueError:
                    payload = None
                if isinstance(payload, dict) and isinstance(payload.get("items"), list):
                    payload["items"].sort(key=lambda item: (
                        item.get("metadata", {}).get("namespace", ""),
                        item.get("metadata", {}).get("name", "")))
                    line = m.group(1) + json.dumps(payload, separators=(",", ":")) + m.group(3)
            lines.append(line)
    return lines

a, b = normalized(sys.argv[1]), normalized(sys.argv[2])
if a != b:
    sys.stderr.writelines(difflib.unified_diff(a, b, sys.argv[1], sys.argv[2]))
    sys.exit(1)
EOF
}

changed=()
for entry in "${SESSIONS[@]}"; do
    name=${entry%%|*}
    if [ ! -f "$sessions/$name.yml" ] || ! same_session "$sessions/$name.yml" "$work/sessions/$name.yml" 2>>"$work/check.diff"; then
        changed+=("$name")
    fi
done
stale=()
for file in "$sessions"/*.yml; do
    name=$(basename "$file" .yml)
    [ -f "$work/sessions/$name.yml" ] || stale+=("$name")
done

if [ "$mode" = check ]; then
    if [ "${#changed[@]}" -eq 0 ] && [ "${#stale[@]}" -eq 0 ]; then
        echo "record-sessions --check: the ${#SESSIONS[@]} sessions in $sessions are what kwctl records"
        exit 0
    fi
    cat "$work/check.diff" >&2
    echo "record-sessions --check: differ from what kwctl records now: ${changed[*]:-none};" \
        "not recorded by this script: ${stale[*]:-none}" >&2
    exit 1
fi
# Only what changed is rewritten, so that re-recording leaves an unchanged session as it was.
for name in "${changed[@]}"; do
    cp "$work/sessions/$name.yml" "$sessions/$name.yml"
done
for name in "${stale[@]}"; do
    rm "$sessions/$name.yml"
done
echo "record-sessions: ${#SESSIONS[@]} sessions recorded; rewritten: ${changed[*]:-none}; removed: ${stale[*]:-none}"
