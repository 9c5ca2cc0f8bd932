#!/usr/bin/env bats
# End-to-end tests of the built artifact, the way Kubewarden runs it. They drive
# `${KWCTL:-kwctl} run`: `make e2e-tests` runs them under this repo's waPC host runner
# (runner/), which takes the same arguments and prints the same AdmissionResponse JSON, and again
# under the real kwctl whenever there is one (see the Makefile). The sessions they replay were
# recorded by that kwctl (scripts/record-sessions.sh).

POLICY="${POLICY:-policy.wasm}"

kw() {
  "${KWCTL:-kwctl}" "$@"
}

# The response must say allowed=true / allowed=false, in compact or pretty JSON.
assert_allowed() {
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  echo "$output" | grep -Eq '"allowed": ?true' || { echo "$output"; return 1; }
}

assert_denied() {
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  echo "$output" | grep -Eq '"allowed": ?false' || { echo "$output"; return 1; }
}

assert_output_has() {
  echo "$output" | grep -Fq -- "$1" || { echo "missing: $1"; echo "$output"; return 1; }
}

# The AdmissionResponse alone must not contain $1 (kwctl's own log lines, also in $output, may).
assert_response_lacks() {
  if echo "$output" | grep -E '^\{"uid"' | grep -Fq -- "$1"; then
    echo "unexpected: $1"; echo "$output"; return 1
  fi
}

@test "a compliant pod is accepted at restricted:latest (default settings)" {
  run kw run --request-path test_data/pod_restricted_compliant.json "$POLICY"
  assert_allowed
}

@test "a privileged pod is rejected at baseline with PSA's message" {
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"level":"baseline"}' "$POLICY"
  assert_denied
  assert_output_has 'violates PodSecurity \"baseline:latest\": privileged (container \"web\" must not set securityContext.privileged=true)'
}

@test "a Deployment gets every restricted violation in one message" {
  run kw run --request-path test_data/deployment_restricted_violations.json --settings-json '{"level":"restricted","version":"v1.30"}' "$POLICY"
  assert_denied
  assert_output_has 'restricted:v1.30'
  assert_output_has 'allowPrivilegeEscalation != false'
  assert_output_has 'unrestricted capabilities'
  assert_output_has 'runAsNonRoot != true'
  assert_output_has 'seccompProfile'
}

@test "the same Deployment passes at baseline" {
  run kw run --request-path test_data/deployment_restricted_violations.json --settings-json '{"level":"baseline"}' "$POLICY"
  assert_allowed
}

@test "a CronJob is evaluated through its jobTemplate" {
  run kw run --request-path test_data/cronjob_unconfined_seccomp.json --settings-json '{"level":"baseline"}' "$POLICY"
  assert_denied
  assert_output_has 'pod must not set securityContext.seccompProfile.type to \"Unconfined\"'
}

@test "a DaemonSet with host access is rejected, and accepted with exemptions" {
  run kw run --request-path test_data/daemonset_host_access.json --settings-json '{"level":"baseline"}' "$POLICY"
  assert_denied
  assert_output_has 'host namespaces (hostNetwork=true, hostPID=true)'
  run kw run --request-path test_data/daemonset_host_access.json \
    --settings-json '{"level":"baseline","exemptions":[{"checks":["hostNamespaces","hostPathVolumes"]},{"checks":["hostPorts"],"images":["quay.io/prometheus/*"]}]}' "$POLICY"
  assert_allowed
}

@test "a privileged ephemeral container added by kubectl debug is rejected" {
  run kw run --request-path test_data/pod_ephemeral_container_privileged.json --settings-json '{"level":"baseline"}' "$POLICY"
  assert_denied
  assert_output_has 'container \"debugger\"'
}

@test "relabelling an existing non-compliant pod is not blocked" {
  run kw run --request-path test_data/pod_update_labels_only.json "$POLICY"
  assert_allowed
}

@test "scaling a non-compliant Deployment is accepted with a warning, unless judgeEveryUpdate" {
  run kw run --request-path test_data/deployment_update_replicas_only.json "$POLICY"
  assert_allowed
  assert_output_has 'still to fix in this Deployment: violates PodSecurity \"restricted:latest\"'
  run kw run --request-path test_data/deployment_update_replicas_only.json --settings-json '{"judgeEveryUpdate":true}' "$POLICY"
  assert_denied
  run kw run --request-path test_data/deployment_update_new_violation.json "$POLICY"
  assert_denied
  assert_output_has 'host namespaces (hostNetwork=true)'
}

@test "version pinning: Windows pods are exempt from v1.25, not before" {
  run kw run --request-path test_data/pod_windows_restricted.json --settings-json '{"version":"v1.25"}' "$POLICY"
  assert_allowed
  run kw run --request-path test_data/pod_windows_restricted.json --settings-json '{"version":"v1.24"}' "$POLICY"
  assert_denied
}

@test "kinds without a pod are accepted" {
  run kw run --request-path test_data/service_ignored.json "$POLICY"
  assert_allowed
}

@test "an unreadable Deployment is rejected, naming the field" {
  run kw run --request-path test_data/deployment_unreadable.json "$POLICY"
  assert_denied
  assert_output_has 'cannot read spec.template.spec.containers[0].securityContext.runAsNonRoot: expected a boolean, found a string'
}

@test "invalid settings are refused before any request is evaluated" {
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"level":"strict"}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'unknown level'
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"lvl":"baseline"}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'lvl'
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"exemptions":[{"checks":["nope"]}]}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'unknown check'
}

CONSTRAINTS='{"runAsUser":{"rule":"MustRunAs","ranges":[{"min":10000,"max":65535}]},"runAsGroup":{"rule":"MustRunAs","ranges":[{"min":10000,"max":65535}]},"fsGroup":{"rule":"MustRunAs","ranges":[{"min":10000,"max":65535}]},"readOnlyRootFilesystem":true,"capabilities":{"allowedAdd":["NET_BIND_SERVICE"],"requiredDrop":["ALL"]},"seccomp":{"allowedTypes":["RuntimeDefault","Localhost"],"allowedLocalhostProfiles":["profiles/shop-*.json"]}}'

@test "constraints: a hardened Deployment passes them all" {
  run kw run --request-path test_data/deployment_constraints_compliant.json --settings-json "$CONSTRAINTS" "$POLICY"
  assert_allowed
}

@test "constraints: drift is reported per container, with normalised capability names" {
  run kw run --request-path test_data/deployment_constraints_violations.json --settings-json "$CONSTRAINTS" "$POLICY"
  assert_denied
  assert_output_has 'runAsUser (container \"web\" must set securityContext.runAsUser within 10000-65535, got 0)'
  assert_output_has 'readOnlyRootFilesystem != true (container \"metrics\"'
  assert_output_has 'must not add \"SYS_ADMIN\"'
  assert_output_has 'got \"untrusted/profiles/shop-web.json\"'
}

@test "the warn level returns warnings without rejecting" {
  run kw run --request-path test_data/deployment_restricted_violations.json --settings-json '{"level":"baseline","warn":{"level":"restricted"}}' "$POLICY"
  assert_allowed
  assert_output_has 'would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false'
}

@test "invalid constraint settings are refused with the reason" {
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"runAsUser":{"rule":"MustRunAs"}}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'runAsUser.ranges is empty'
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"fsGroup":{"rule":"MustRunAsNonRoot"}}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'applies to runAsUser only'
}

@test "mutate: the missing restricted defaults come back as a JSONPatch" {
  run kw run --request-path test_data/deployment_restricted_violations.json --settings-json '{"level":"restricted","mutate":true}' "$POLICY"
  assert_allowed
  assert_output_has '"patchType":"JSONPatch"'
  patch=$(echo "$output" | grep -o '"patch":"[^"]*"' | head -1 | cut -d'"' -f4 | base64 -d)
  # Added under the pod template: the pod's and the container's security contexts.
  echo "$patch" | grep -Fq '"path":"/spec/template/spec/securityContext' || { echo "$patch"; return 1; }
  echo "$patch" | grep -Fq '"path":"/spec/template/spec/containers/0/securityContext' || { echo "$patch"; return 1; }
  for default in '"runAsNonRoot":true' '"allowPrivilegeEscalation":false' '"RuntimeDefault"' '"drop":["ALL"]'; do
    echo "$patch" | grep -Fq "$default" || { echo "missing $default in $patch"; return 1; }
  done
  # Only additions: nothing the user wrote is replaced or removed.
  ! echo "$patch" | grep -Eq '"op":"(replace|remove)"'
}

@test "mutate: what no default can fix is still rejected, with no patch" {
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"level":"restricted","mutate":true}' "$POLICY"
  assert_denied
  assert_output_has 'privileged (container \"web\"'
  ! echo "$output" | grep -q '"patch"'
}

@test "mutate: a compliant object is accepted without a patch" {
  run kw run --request-path test_data/pod_restricted_compliant.json --settings-json '{"mutate":true}' "$POLICY"
  assert_allowed
  ! echo "$output" | grep -q '"patch"'
}

@test "podSecurityPolicy: a pasted PSP applies its defaults, as PSP did" {
  run kw run --request-path test_data/deployment_restricted_violations.json --settings-path test_data/psp_restricted_settings.yml "$POLICY"
  assert_allowed
  assert_output_has '"patchType":"JSONPatch"'
  patch=$(echo "$output" | grep -o '"patch":"[^"]*"' | head -1 | cut -d'"' -f4 | base64 -d)
  for default in '"runAsNonRoot":true' '"fsGroup":1' '"allowPrivilegeEscalation":false' 'container.apparmor.security.beta.kubernetes.io/app' '"runtime/default"'; do
    echo "$patch" | grep -Fq "$default" || { echo "missing $default in $patch"; return 1; }
  done
}

@test "podSecurityPolicy: host paths outside the PSP's allowed prefixes are refused" {
  run kw run --request-path test_data/daemonset_log_collector.json --settings-json '{"podSecurityPolicy":{"spec":{"volumes":["configMap","hostPath"],"allowedHostPaths":[{"pathPrefix":"/var/log","readOnly":true}],"requiredDropCapabilities":["ALL"],"allowPrivilegeEscalation":false}}}' "$POLICY"
  assert_denied
  assert_output_has 'violates PodSecurity \"privileged:latest\"'
  assert_output_has 'volume \"containers\" uses host path \"/var/lib/docker/containers\", which is under none of \"/var/log\"'
  assert_output_has 'container \"fluent-bit\" must mount volume \"varlog\" (host path \"/var/log\") read-only'
}

@test "podSecurityPolicy: a mistake in the PSP is refused, naming the field" {
  run kw run --request-path test_data/pod_privileged.json --settings-json '{"podSecurityPolicy":{"spec":{"hostNetwrk":true}}}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'podSecurityPolicy.spec.hostNetwrk: unknown field'
}

# imageUser: the image's USER, looked up through the oci host capability; kwctl replays the
# recorded answers (--replay-host-capabilities-interactions), in order.
@test "imageUser: runAsNonRoot with a root image and a named USER is rejected with the kubelet's reasons" {
  run kw run --allow-context-aware --replay-host-capabilities-interactions test_data/sessions/image_users_storefront.yml \
    --request-path test_data/deployment_image_users.json --settings-json '{"imageUser":{}}' "$POLICY"
  assert_denied
  assert_output_has 'container \"web\" sets runAsNonRoot=true but image \"127.0.0.1:5000/library/nginx:1.27.3\" (no USER, so root) runs as root'
  assert_output_has 'container has runAsNonRoot and image will run as root'
  assert_output_has 'names the user \"nobody\", not a uid'
}

@test "imageUser: a pod that sets runAsUser itself asks the host nothing" {
  # The session has no exchange: a lookup would fail and reject.
  run kw run --allow-context-aware --replay-host-capabilities-interactions test_data/sessions/no_host_calls.yml \
    --request-path test_data/pod_restricted_compliant.json --settings-json '{"imageUser":{}}' "$POLICY"
  assert_allowed
}

@test "imageUser: an unreadable image rejects by default and warns with onError: accept" {
  run kw run --allow-context-aware --replay-host-capabilities-interactions test_data/sessions/image_user_unauthorized.yml \
    --request-path test_data/pod_image_user_private_registry.json --settings-json '{"imageUser":{}}' "$POLICY"
  assert_denied
  assert_output_has 'cannot check the user of image \"127.0.0.1:5001/finance/billing:4.2.0\" (container \"billing\")'
  assert_output_has 'Not authorized: url http://127.0.0.1:5001/v2/finance/billing/manifests/4.2.0'
  run kw run --allow-context-aware --replay-host-capabilities-interactions test_data/sessions/image_user_unauthorized.yml \
    --request-path test_data/pod_image_user_private_registry.json --settings-json '{"imageUser":{"onError":"accept"}}' "$POLICY"
  assert_allowed
  assert_output_has 'was not checked (imageUser.onError: accept)'
}

# Context-aware cases: host answers replayed from kwctl session files, with kwctl's own flags.

@test "namespace labels: the namespace's enforce=baseline label rejects what the settings allow" {
  run kw run --allow-context-aware --request-path test_data/pod_privileged.json \
    --replay-host-capabilities-interactions test_data/sessions/namespace_default_baseline.yml \
    --settings-json '{"namespaceLabels":true,"level":"privileged"}' "$POLICY"
  assert_denied
  assert_output_has 'violates PodSecurity \"baseline:latest\": privileged (container \"web\"'
}

@test "namespace labels: enforce=privileged admits, warn and audit report at baseline" {
  run kw run --allow-context-aware --request-path test_data/pod_privileged.json \
    --replay-host-capabilities-interactions test_data/sessions/namespace_default_privileged_warn_baseline.yml \
    --settings-json '{"namespaceLabels":true}' "$POLICY"
  assert_allowed
  assert_output_has 'would violate PodSecurity \"baseline:latest\": privileged'
  assert_output_has '"audit-violations":"would violate PodSecurity \"baseline:v1.30\": privileged'
}

@test "namespace labels: a namespace the host cannot read rejects, naming it, in one line" {
  # With RUST_BACKTRACE the real kwctl appends a stack backtrace to the host error.
  KWCTL_KEEP_RUST_BACKTRACE=1 RUST_BACKTRACE=1 run kw run --allow-context-aware \
    --request-path test_data/pod_restricted_compliant.json \
    --replay-host-capabilities-interactions test_data/sessions/namespace_default_forbidden.yml \
    --settings-json '{"namespaceLabels":true}' "$POLICY"
  assert_denied
  assert_output_has 'cannot read namespace \"default\": kubernetes/get_resource failed: namespaces \"default\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \"namespaces\" in API group \"\" at the cluster scope (403 Forbidden)"'
  assert_response_lacks 'Status {'
  assert_response_lacks 'backtrace'
  assert_response_lacks '\n'
}

@test "namespace labels: without --allow-context-aware the namespace cannot be read" {
  run kw run --request-path test_data/pod_restricted_compliant.json \
    --replay-host-capabilities-interactions test_data/sessions/namespace_default_unlabelled.yml \
    --settings-json '{"namespaceLabels":true}' "$POLICY"
  assert_denied
  assert_output_has 'cannot read namespace \"default\": the host refuses to read Kubernetes v1/Namespace resources for this policy: list them in the policy'"'"'s contextAwareResources'
}

@test "namespace labels: off by default, so no host call is made" {
  run kw run --allow-context-aware --request-path test_data/pod_privileged.json \
    --replay-host-capabilities-interactions test_data/sessions/empty.yml \
    --settings-json '{"level":"privileged"}' "$POLICY"
  assert_allowed
}

@test "namespace objects: invalid Pod Security labels are refused with PSA's field errors" {
  run kw run --request-path test_data/namespace_invalid_labels.json --settings-json '{"namespaceLabels":true}' "$POLICY"
  assert_denied
  assert_output_has 'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted'
  assert_output_has 'metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.30\"'
}

@test "namespace objects: tightening enforce warns about the existing pods it would reject" {
  run kw run --allow-context-aware --request-path test_data/namespace_enforce_tightened.json \
    --replay-host-capabilities-interactions test_data/sessions/pods_in_team_a.yml \
    --settings-json '{"namespaceLabels":true}' "$POLICY"
  assert_allowed
  assert_output_has 'existing pods in namespace \"team-a\" violate the new PodSecurity enforce level \"baseline:latest\"'
  assert_output_has 'node-agent-ab12 (and 1 other pod): privileged'
  assert_output_has 'debug-shell: host namespaces, privileged'
}

# Exemptions by who asks and where, and RBAC-granted profiles (can_i answers replayed).

EXEMPT_NODE_EXPORTER='{"level":"baseline","exemptions":[{"checks":["hostNamespaces","hostPathVolumes","hostPorts"],"serviceAccounts":["monitoring/node-exporter"]}]}'
NODE_AGENTS='{"level":"baseline","profiles":[{"name":"node-agents","level":"baseline","exemptions":[{"checks":["hostNamespaces","hostPathVolumes","hostPorts"]}]}]}'

@test "exemptions: a node exporter is exempted for its own service account" {
  run kw run --request-path test_data/daemonset_monitoring_node_exporter.json --settings-json "$EXEMPT_NODE_EXPORTER" "$POLICY"
  assert_allowed
}

@test "exemptions: the same exemption does not cover another service account" {
  run kw run --request-path test_data/daemonset_host_access.json --settings-json "$EXEMPT_NODE_EXPORTER" "$POLICY"
  assert_denied
  assert_output_has 'host namespaces (hostNetwork=true, hostPID=true)'
}

@test "exemptions: a value exempted in one container, and only that value" {
  run kw run --request-path test_data/replicaset_added_capability.json \
    --settings-json '{"exemptions":[{"checks":["capabilities_restricted"],"containers":["web"],"values":{"capabilities.add":["NET_ADMIN"]}}]}' "$POLICY"
  assert_allowed
  run kw run --request-path test_data/replicaset_added_capability.json \
    --settings-json '{"exemptions":[{"checks":["capabilities_restricted"],"containers":["web"],"values":{"capabilities.add":["NET_RAW"]}}]}' "$POLICY"
  assert_denied
  assert_output_has 'unrestricted capabilities (container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)'
}

@test "exemptions: an exempted value of a field only the pod sets cannot select containers" {
  run kw run --request-path test_data/replicaset_added_capability.json \
    --settings-json '{"exemptions":[{"checks":["sysctls"],"containers":["web"],"values":{"sysctls":["kernel.msgmax"]}}]}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'exemptions[0].values.sysctls: the pod sets sysctls, not a container'
}

@test "kyverno: a ClusterPolicy and a PolicyException pasted as they are" {
  run kw run --request-path test_data/daemonset_monitoring_node_exporter.json --settings-path test_data/kyverno_baseline_settings.yml "$POLICY"
  assert_allowed
  run kw run --request-path test_data/replicaset_added_capability.json --settings-path test_data/kyverno_baseline_settings.yml "$POLICY"
  assert_denied
  assert_output_has 'violates PodSecurity \"baseline:v1.30\": non-default capabilities (container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)'
}

@test "kyverno: a rule that cannot be translated is refused by name" {
  run kw run --request-path test_data/pod_privileged.json \
    --settings-json '{"kyvernoPolicy":{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","metadata":{"name":"p"},"spec":{"rules":[{"name":"labels","validate":{"pattern":{"metadata":{"labels":{"app":"?*"}}}}}]}}}' "$POLICY"
  [ "$status" -ne 0 ]
  assert_output_has 'spec.rules[0] ("labels") validates without podSecurity'
}

@test "audit scanner: a request without a user is decided like its admission, exemptions by where included" {
  run kw run --request-path test_data/audit_scanner/daemonset.json --settings-json "$EXEMPT_NODE_EXPORTER" "$POLICY"
  assert_allowed
  run kw run --request-path test_data/audit_scanner/deployment.json --settings-json '{"level":"restricted","version":"v1.30"}' "$POLICY"
  assert_denied
  assert_output_has 'violates PodSecurity \"restricted:v1.30\": allowPrivilegeEscalation != false'
}

@test "audit scanner: an exemption by user cannot apply to a request without one, and the rejection says so" {
  run kw run --request-path test_data/audit_scanner/pod.json \
    --settings-json '{"level":"baseline","exemptions":[{"checks":["hostNamespaces","hostPathVolumes","hostPorts"],"namespaces":["monitoring"],"usernames":["system:serviceaccount:kube-system:daemon-set-controller"]}]}' "$POLICY"
  assert_denied
  assert_output_has 'host namespaces (hostNetwork=true, hostPID=true)'
  assert_output_has 'so exemptions by user or group cannot apply to it: exemptions[0] (usernames: [\"system:serviceaccount:kube-system:daemon-set-controller\"]) would admit it for a matching user'
}

@test "profiles: nothing is asked when the base settings accept" {
  run kw run --allow-context-aware --request-path test_data/pod_restricted_compliant.json \
    --replay-host-capabilities-interactions test_data/sessions/empty.yml \
    --settings-json "$NODE_AGENTS" "$POLICY"
  assert_allowed
}

@test "profiles: a controller's pod is admitted when its service account may use the profile" {
  run kw run --allow-context-aware --request-path test_data/pod_node_exporter_by_controller.json \
    --replay-host-capabilities-interactions test_data/sessions/profile_granted_to_pod_service_account.yml \
    --settings-json "$NODE_AGENTS" "$POLICY"
  assert_allowed
  assert_output_has 'admitted by profile \"node-agents\", granted to service account \"monitoring/node-exporter\"'
  assert_output_has '"admitted-by-profile":"node-agents"'
}

@test "profiles: a user granted the profile gets the DaemonSet admitted" {
  run kw run --allow-context-aware --request-path test_data/daemonset_monitoring_node_exporter.json \
    --replay-host-capabilities-interactions test_data/sessions/profile_granted_to_user.yml \
    --settings-json "$NODE_AGENTS" "$POLICY"
  assert_allowed
  assert_output_has 'granted to user \"alice\"'
}

@test "profiles: without a grant the pod is rejected, saying so" {
  run kw run --allow-context-aware --request-path test_data/pod_node_exporter_by_controller.json \
    --replay-host-capabilities-interactions test_data/sessions/profile_not_granted.yml \
    --settings-json "$NODE_AGENTS" "$POLICY"
  assert_denied
  assert_output_has 'no profile is granted to user \"system:serviceaccount:kube-system:daemon-set-controller\" or service account \"monitoring/node-exporter\"'
}

@test "profiles: a failed SubjectAccessReview rejects, naming it" {
  run kw run --allow-context-aware --request-path test_data/pod_node_exporter_by_controller.json \
    --replay-host-capabilities-interactions test_data/sessions/profile_can_i_timeout.yml \
    --settings-json "$NODE_AGENTS" "$POLICY"
  assert_denied
  assert_output_has 'cannot tell whether profile \"node-agents\" is granted'
  assert_output_has 'the server was unable to return a response in the time allotted'
}
