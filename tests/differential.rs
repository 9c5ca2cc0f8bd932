//! Differential test: random pods from the security-context field space, judged by the policy and
//! by a deliberately simple, independent reference model of baseline:latest and
//! restricted:latest written here from the Pod Security Standards, must agree on the decision
//! and on every reason.

mod support;

use security_context_policy::admission::{validate, Decision};
use serde_json::{json, Map, Value};
use support::SAFE_SYSCTLS;

/// A small deterministic generator (xorshift64*), so failures reproduce. With `compliant`
/// set it leans towards each pool's first option, which is the restricted-compliant one, so
/// that allowed pods are common too.
struct Random {
    state: u64,
    compliant: bool,
}

impl Random {
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'v>(&mut self, options: &'v [Value]) -> &'v Value {
        if self.compliant && self.next() % 100 < 93 {
            return &options[0];
        }
        &options[(self.next() % options.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        let percent = if self.compliant {
            percent / 10
        } else {
            percent
        };
        self.next() % 100 < percent
    }

    fn subset(&mut self, options: &[&str]) -> Vec<Value> {
        options
            .iter()
            .filter(|_| self.chance(30))
            .map(|s| json!(s))
            .collect()
    }
}

/// Inserts `key` unless the drawn value is null (unset).
fn put(map: &mut Map<String, Value>, key: &str, value: &Value) {
    if !value.is_null() {
        map.insert(key.to_string(), value.clone());
    }
}

fn profile(types: &[&str], r: &mut Random) -> Value {
    let options: Vec<Value> = types.iter().map(|t| json!(t)).collect();
    let t = r.pick(&options).as_str().unwrap();
    match t {
        "" => Value::Null,
        "Localhost" => json!({"type": "Localhost", "localhostProfile": "p.json"}),
        other => json!({"type": other}),
    }
}

/// `pod`: the pod's context, whose compliant seccomp and runAsNonRoot values are set ones.
fn common_context(r: &mut Random, sc: &mut Map<String, Value>, pod: bool) {
    let non_root = if pod {
        [json!(true), Value::Null, json!(false)]
    } else {
        [Value::Null, json!(true), json!(false)]
    };
    put(sc, "runAsNonRoot", r.pick(&non_root));
    put(
        sc,
        "runAsUser",
        r.pick(&[Value::Null, json!(0), json!(1000)]),
    );
    let seccomp_types: &[&str] = if pod {
        &["RuntimeDefault", "", "Localhost", "Unconfined"]
    } else {
        &["", "RuntimeDefault", "Localhost", "Unconfined"]
    };
    let seccomp = profile(seccomp_types, r);
    put(sc, "seccompProfile", &seccomp);
    let apparmor = profile(&["", "RuntimeDefault", "Localhost", "Unconfined"], r);
    put(sc, "appArmorProfile", &apparmor);
    put(
        sc,
        "seLinuxOptions",
        r.pick(&[
            Value::Null,
            json!({"type": "container_t"}),
            json!({"type": "container_engine_t"}),
            json!({"type": "spc_t"}),
            json!({"user": "system_u"}),
            json!({"role": "sysadm_r"}),
            json!({"level": "s0:c1"}),
        ]),
    );
    put(
        sc,
        "windowsOptions",
        r.pick(&[
            Value::Null,
            json!({"hostProcess": false}),
            json!({"hostProcess": true}),
        ]),
    );
}

fn random_container(r: &mut Random, name: &str) -> Value {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!("registry.example.com/app:1"));
    if r.compliant || r.chance(85) {
        let mut sc = Map::new();
        put(
            &mut sc,
            "privileged",
            r.pick(&[Value::Null, Value::Null, json!(false), json!(true)]),
        );
        put(
            &mut sc,
            "allowPrivilegeEscalation",
            r.pick(&[json!(false), Value::Null, json!(true)]),
        );
        put(
            &mut sc,
            "procMount",
            r.pick(&[
                Value::Null,
                Value::Null,
                json!("Default"),
                json!("Unmasked"),
            ]),
        );
        if r.compliant {
            let add = r
                .pick(&[json!([]), json!(["NET_BIND_SERVICE"]), json!(["CHOWN"])])
                .clone();
            sc.insert("capabilities".into(), json!({"drop": ["ALL"], "add": add}));
        } else if r.chance(70) {
            let mut caps = Map::new();
            caps.insert(
                "drop".into(),
                Value::Array(r.subset(&["ALL", "ALL", "NET_RAW"])),
            );
            caps.insert(
                "add".into(),
                Value::Array(r.subset(&["NET_BIND_SERVICE", "CHOWN", "SYS_ADMIN", "NET_RAW"])),
            );
            sc.insert("capabilities".into(), Value::Object(caps));
        }
        common_context(r, &mut sc, false);
        c.insert("securityContext".into(), Value::Object(sc));
    }
    if r.chance(15) {
        c.insert(
            "ports".into(),
            json!([{"containerPort": 80, "hostPort": 8080}]),
        );
    }
    if r.chance(10) {
        c.insert(
            "livenessProbe".into(),
            json!({"httpGet": {"port": 80, "host": "10.0.0.1"}}),
        );
    }
    Value::Object(c)
}

fn random_pod(r: &mut Random) -> Value {
    let mut spec = Map::new();
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if r.chance(8) {
            spec.insert(key.into(), json!(true));
        }
    }
    put(
        &mut spec,
        "hostUsers",
        r.pick(&[Value::Null, Value::Null, json!(true), json!(false)]),
    );
    put(
        &mut spec,
        "os",
        r.pick(&[
            Value::Null,
            Value::Null,
            json!({"name": "linux"}),
            json!({"name": "windows"}),
        ]),
    );
    if r.compliant || r.chance(80) {
        let mut sc = Map::new();
        common_context(r, &mut sc, true);
        let sysctls: Vec<Value> = r
            .subset(&[
                "kernel.shm_rmid_forced",
                "net.ipv4.tcp_notsent_lowat",
                "kernel.msgmax",
            ])
            .into_iter()
            .map(|n| json!({"name": n, "value": "1"}))
            .collect();
        if !sysctls.is_empty() {
            sc.insert("sysctls".into(), Value::Array(sysctls));
        }
        spec.insert("securityContext".into(), Value::Object(sc));
    }
    let mut n = 0;
    for (kind, max) in [
        ("initContainers", 2),
        ("containers", 3),
        ("ephemeralContainers", 1),
    ] {
        let count = if kind == "containers" {
            1 + r.next() % max
        } else {
            r.next() % (max + 1)
        };
        if count > 0 {
            let list: Vec<Value> = (0..count)
                .map(|_| {
                    n += 1;
                    random_container(r, &format!("c{n}"))
                })
                .collect();
            spec.insert(kind.into(), Value::Array(list));
        }
    }
    let volumes: Vec<Value> = [
        json!({"name": "a", "emptyDir": {}}),
        json!({"name": "b", "hostPath": {"path": "/"}}),
        json!({"name": "c", "nfs": {"server": "s", "path": "/"}}),
        json!({"name": "d", "configMap": {"name": "x"}}),
        json!({"name": "e"}),
    ]
    .into_iter()
    .filter(|_| r.chance(20))
    .collect();
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Value::Array(volumes));
    }
    let mut metadata = json!({"name": "p"});
    if r.chance(15) {
        let values = [
            json!("runtime/default"),
            json!("unconfined"),
            json!("localhost/x"),
        ];
        let value = r.pick(&values).clone();
        metadata["annotations"] =
            json!({"container.apparmor.security.beta.kubernetes.io/c1": value});
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

// ---- The reference model: the standards as a list of rules, read straight off the JSON. ----

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect()
}

/// The pod's security context followed by every container's.
fn contexts(spec: &Value) -> Vec<&Value> {
    let mut all = vec![&spec["securityContext"]];
    all.extend(containers(spec).into_iter().map(|c| &c["securityContext"]));
    all
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn profile_type_bad(p: &Value) -> bool {
    p.is_object() && !matches!(p["type"].as_str(), Some("RuntimeDefault" | "Localhost"))
}

fn baseline_reasons(pod: &Value, restricted: bool) -> Vec<&'static str> {
    let spec = &pod["spec"];
    let cs = containers(spec);
    let mut out = Vec::new();
    if cs
        .iter()
        .any(|c| c["securityContext"]["privileged"] == true)
    {
        out.push("privileged (");
    }
    if ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .any(|k| spec[*k] == true)
    {
        out.push("host namespaces (");
    }
    const DEFAULT_CAPS: &[&str] = &[
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    if !restricted
        && cs.iter().any(|c| {
            strs(&c["securityContext"]["capabilities"]["add"])
                .iter()
                .any(|a| !DEFAULT_CAPS.contains(a))
        })
    {
        out.push("non-default capabilities (");
    }
    let volumes = spec["volumes"].as_array().cloned().unwrap_or_default();
    if !restricted && volumes.iter().any(|v| v.get("hostPath").is_some()) {
        out.push("hostPath volumes (");
    }
    if cs.iter().any(|c| {
        c["ports"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["hostPort"].as_i64().unwrap_or(0) != 0))
    }) {
        out.push("hostPort (");
    }
    let annotation_bad = pod["metadata"]["annotations"].as_object().is_some_and(|a| {
        a.iter().any(|(k, v)| {
            k.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && !(v == ""
                    || v == "runtime/default"
                    || v.as_str().is_some_and(|s| s.starts_with("localhost/")))
        })
    });
    if contexts(spec)
        .iter()
        .any(|sc| profile_type_bad(&sc["appArmorProfile"]))
        || annotation_bad
    {
        out.push("forbidden AppArmor profile");
    }
    const SELINUX_TYPES: &[&str] = &[
        "",
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    if contexts(spec).iter().any(|sc| {
        let o = &sc["seLinuxOptions"];
        o.is_object()
            && (!SELINUX_TYPES.contains(&o["type"].as_str().unwrap_or(""))
                || !o["user"].as_str().unwrap_or("").is_empty()
                || !o["role"].as_str().unwrap_or("").is_empty())
    }) {
        out.push("seLinuxOptions (");
    }
    let unmasked = cs.iter().any(|c| {
        c["securityContext"]["procMount"]
            .as_str()
            .is_some_and(|p| p != "Default")
    });
    // Baseline relaxes procMount in a user namespace; restricted's own check does not.
    if unmasked && (restricted || spec["hostUsers"] != false) {
        out.push("procMount (");
    }
    if !restricted
        && contexts(spec)
            .iter()
            .any(|sc| profile_type_bad(&sc["seccompProfile"]))
    {
        out.push("seccompProfile (");
    }
    if spec["securityContext"]["sysctls"]
        .as_array()
        .is_some_and(|s| {
            s.iter()
                .any(|x| !SAFE_SYSCTLS.contains(&x["name"].as_str().unwrap_or("")))
        })
    {
        out.push("forbidden sysctls (");
    }
    if contexts(spec)
        .iter()
        .any(|sc| sc["windowsOptions"]["hostProcess"] == true)
    {
        out.push("hostProcess (");
    }
    if cs.iter().any(|c| {
        ["livenessProbe", "readinessProbe", "startupProbe"]
            .iter()
            .any(|p| {
                ["httpGet", "tcpSocket"]
                    .iter()
                    .any(|a| !c[*p][*a]["host"].as_str().unwrap_or("").is_empty())
            })
    }) {
        out.push("probe or lifecycle host (");
    }
    out
}

fn restricted_reasons(pod: &Value) -> Vec<&'static str> {
    let spec = &pod["spec"];
    let cs = containers(spec);
    let windows = spec["os"]["name"] == "windows";
    let userns = spec["hostUsers"] == false;
    let pod_sc = &spec["securityContext"];
    let mut out = baseline_reasons(pod, true);
    const VOLUMES: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    if spec["volumes"].as_array().is_some_and(|vs| {
        vs.iter().any(|v| {
            let keys: Vec<&String> = v
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "name")
                .collect();
            !keys.is_empty() && !keys.iter().any(|k| VOLUMES.contains(&k.as_str()))
        })
    }) {
        out.push("restricted volume types (");
    }
    if !userns {
        let explicit_false = contexts(spec).iter().any(|sc| sc["runAsNonRoot"] == false);
        let uncovered = pod_sc["runAsNonRoot"] != true
            && cs
                .iter()
                .any(|c| c["securityContext"]["runAsNonRoot"].is_null());
        if explicit_false || uncovered {
            out.push("runAsNonRoot != true (");
        }
    }
    if !windows
        && cs
            .iter()
            .any(|c| c["securityContext"]["allowPrivilegeEscalation"] != false)
    {
        out.push("allowPrivilegeEscalation != false (");
    }
    if !windows {
        let caps_bad = cs.iter().any(|c| {
            let caps = &c["securityContext"]["capabilities"];
            !strs(&caps["drop"]).contains(&"ALL")
                || strs(&caps["add"]).iter().any(|a| *a != "NET_BIND_SERVICE")
        });
        if caps_bad {
            out.push("unrestricted capabilities (");
        }
    }
    if !userns && contexts(spec).iter().any(|sc| sc["runAsUser"] == 0) {
        out.push("runAsUser=0 (");
    }
    if !windows {
        let explicit_bad = contexts(spec)
            .iter()
            .any(|sc| profile_type_bad(&sc["seccompProfile"]));
        let pod_ok =
            pod_sc["seccompProfile"].is_object() && !profile_type_bad(&pod_sc["seccompProfile"]);
        let uncovered = !pod_ok
            && cs
                .iter()
                .any(|c| c["securityContext"]["seccompProfile"].is_null());
        if explicit_bad || uncovered {
            out.push("seccompProfile (");
        }
    }
    out
}

const ALL_REASONS: &[&str] = &[
    "privileged (",
    "host namespaces (",
    "non-default capabilities (",
    "hostPath volumes (",
    "hostPort (",
    "forbidden AppArmor profile",
    "seLinuxOptions (",
    "procMount (",
    "seccompProfile (",
    "forbidden sysctls (",
    "hostProcess (",
    "probe or lifecycle host (",
    "restricted volume types (",
    "runAsNonRoot != true (",
    "allowPrivilegeEscalation != false (",
    "unrestricted capabilities (",
    "runAsUser=0 (",
];

#[test]
fn the_policy_agrees_with_the_reference_model_on_random_pods() {
    let mut r = Random {
        state: 0x5EED_CAFE_F00D_0001,
        compliant: false,
    };
    let mut disagreements = Vec::new();
    let (mut allowed, mut denied) = (0, 0);
    for i in 0..12_000 {
        r.compliant = i % 2 == 0;
        let pod = random_pod(&mut r);
        for level in ["baseline", "restricted"] {
            let expected = if level == "baseline" {
                baseline_reasons(&pod, false)
            } else {
                restricted_reasons(&pod)
            };
            let payload =
                support::validation_payload(&support::pod_request(&pod), &json!({"level": level}));
            let message = match validate(&payload) {
                Decision::Accept { .. } => {
                    allowed += 1;
                    String::new()
                }
                Decision::Reject { message, .. } => {
                    denied += 1;
                    message
                }
            };
            let got: Vec<&str> = ALL_REASONS
                .iter()
                .copied()
                .filter(|reason| message.contains(reason))
                .collect();
            let mut want = expected.clone();
            want.sort_unstable();
            let mut got_sorted = got.clone();
            got_sorted.sort_unstable();
            if want != got_sorted {
                disagreements.push(format!(
                    "{level}: model {want:?}, policy {got_sorted:?} ({message}) for {pod}"
                ));
            }
        }
    }
    for d in disagreements.iter().take(5) {
        eprintln!("{d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements",
        disagreements.len()
    );
    println!(
        "differential: {allowed} allowed, {denied} denied, {} disagreements",
        disagreements.len()
    );
    // The generator must exercise both outcomes.
    assert!(
        allowed > 1000 && denied > 1000,
        "allowed {allowed}, denied {denied}"
    );
}
