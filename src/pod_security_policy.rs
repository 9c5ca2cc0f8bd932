//! `podSecurityPolicy` in the settings: a `policy/v1beta1` PodSecurityPolicy, the whole object
//! or just its `spec`, translated once, when settings load, into the native constraint settings
//! that implement it, with PodSecurityPolicy's meaning of every absent field.
//!
//! The translation produces ordinary settings keys (`hostNetwork`, `capabilities`, `seccomp`,
//! ...), so a PSP is exactly the native settings it translates to: no check exists twice.

use crate::checks::sysctls::safe_sysctls;
use crate::glob::literal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

const SECCOMP_ALLOWED: &str = "seccomp.security.alpha.kubernetes.io/allowedProfileNames";
const SECCOMP_DEFAULT: &str = "seccomp.security.alpha.kubernetes.io/defaultProfileName";
const APPARMOR_ALLOWED: &str = "apparmor.security.beta.kubernetes.io/allowedProfileNames";
const APPARMOR_DEFAULT: &str = "apparmor.security.beta.kubernetes.io/defaultProfileName";

/// The fields of a whole PodSecurityPolicy object.
const OBJECT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

/// Every field of `policy/v1beta1` PodSecurityPolicySpec.
const SPEC_FIELDS: &[&str] = &[
    "privileged",
    "defaultAddCapabilities",
    "requiredDropCapabilities",
    "allowedCapabilities",
    "volumes",
    "hostNetwork",
    "hostPorts",
    "hostPID",
    "hostIPC",
    "seLinux",
    "runAsUser",
    "runAsGroup",
    "supplementalGroups",
    "fsGroup",
    "readOnlyRootFilesystem",
    "defaultAllowPrivilegeEscalation",
    "allowPrivilegeEscalation",
    "allowedHostPaths",
    "allowedFlexVolumes",
    "allowedCSIDrivers",
    "allowedUnsafeSysctls",
    "forbiddenSysctls",
    "allowedProcMountTypes",
    "runtimeClass",
];

/// The spec fields that translate one to one into the native key of the same name and shape.
const SAME_SHAPE: &[&str] = &[
    "hostPorts",
    "allowedHostPaths",
    "allowedFlexVolumes",
    "allowedCSIDrivers",
    "runtimeClass",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeLinuxStrategy {
    rule: String,
    #[serde(rename = "seLinuxOptions")]
    options: Option<SeLinuxOptions>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct SeLinuxOptions {
    user: String,
    role: String,
    #[serde(rename = "type")]
    type_: String,
    level: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdStrategy {
    rule: String,
    #[serde(default)]
    ranges: Vec<Value>,
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn err(path: &str, problem: impl std::fmt::Display) -> String {
    format!("invalid settings: podSecurityPolicy.{path}: {problem}")
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn read<T: DeserializeOwned>(spec: &Map<String, Value>, key: &str) -> Result<Option<T>, String> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| err(&format!("spec.{key}"), e)),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn strings(spec: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    Ok(read::<Vec<String>>(spec, key)?.unwrap_or_default())
}

type Object = Map<String, Value>;

/// The object's spec and annotations, the whole object or the spec alone.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn split(psp: &Value) -> Result<(&Object, Object), String> {
    let Value::Object(map) = psp else {
        return Err(
            "invalid settings: podSecurityPolicy: expected a PodSecurityPolicy object or its spec"
                .to_string(),
        );
    };
    let whole = OBJECT_FIELDS.iter().any(|k| map.contains_key(*k));
    if !whole {
        return Ok((map, Map::new()));
    }
    for key in map.keys() {
        if !OBJECT_FIELDS.contains(&key.as_str()) {
            return Err(err(key, "unknown field of a PodSecurityPolicy object"));
        }
    }
    if let Some(kind) = map.get("kind") {
        if kind != "PodSecurityPolicy" {
            return Err(err(
                "kind",
                format!("expected \"PodSecurityPolicy\", got {kind}"),
            ));
        }
    }
    if let Some(version) = map.get("apiVersion") {
        if version != "policy/v1beta1" && version != "extensions/v1beta1" {
            return Err(err(
                "apiVersion",
                format!("expected \"policy/v1beta1\", got {version}"),
            ));
        }
    }
    let Some(Value::Object(spec)) = map.get("spec") else {
        return Err(err("spec", "a PodSecurityPolicy object needs its spec"));
    };
    let mut annotations = Map::new();
    match map.get("metadata").and_then(|m| m.get("annotations")) {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) => annotations = a.clone(),
        Some(_) => return Err(err("metadata.annotations", "expected a map of strings")),
    }
    if let Some(m) = map.get("metadata") {
        if !m.is_object() && !m.is_null() {
            return Err(err("metadata", "expected an object"));
        }
    }
    Ok((spec, annotations))
}

/// Translates a PodSecurityPolicy into native settings keys.
#[cfg_attr(scp_optimize_size, optimize(size))]
pub fn translate(psp: &Value) -> Result<Map<String, Value>, String> {
    let (spec, annotations) = split(psp)?;
    for key in spec.keys() {
        if !SPEC_FIELDS.contains(&key.as_str()) {
            return Err(err(
                &format!("spec.{key}"),
                format!(
                    "unknown field; a policy/v1beta1 PodSecurityPolicySpec has {}",
                    SPEC_FIELDS.join(", ")
                ),
            ));
        }
    }
    let mut out = Map::new();
    let flag = |key: &str, default: bool| -> Result<bool, String> {
        Ok(read::<bool>(spec, key)?.unwrap_or(default))
    };
    for key in ["privileged", "hostNetwork", "hostPID", "hostIPC"] {
        out.insert(key.to_string(), Value::Bool(flag(key, false)?));
    }
    if flag("readOnlyRootFilesystem", false)? {
        out.insert("readOnlyRootFilesystem".to_string(), Value::Bool(true));
    }
    let allow_escalation = flag("allowPrivilegeEscalation", true)?;
    out.insert(
        "allowPrivilegeEscalation".to_string(),
        Value::Bool(allow_escalation),
    );
    if let Some(default) = read::<bool>(spec, "defaultAllowPrivilegeEscalation")? {
        if default && !allow_escalation {
            return Err(err(
                "spec.defaultAllowPrivilegeEscalation",
                "cannot be true when allowPrivilegeEscalation is false",
            ));
        }
        out.insert(
            "defaultAllowPrivilegeEscalation".to_string(),
            Value::Bool(default),
        );
    }
    // A PSP that lists no host ports allows none; one that lists no volumes allows none.
    out.insert(
        "hostPorts".to_string(),
        spec.get("hostPorts").cloned().unwrap_or(json!([])),
    );
    for key in SAME_SHAPE.iter().filter(|k| **k != "hostPorts") {
        if let Some(v) = spec.get(*key).filter(|v| !v.is_null()) {
            out.insert(key.to_string(), v.clone());
        }
    }
    out.insert(
        "volumes".to_string(),
        Value::from(strings(spec, "volumes")?),
    );
    capabilities(spec, &mut out)?;
    id_rules(spec, &mut out)?;
    se_linux(spec, &mut out)?;
    sysctls(spec, &mut out)?;
    let proc_mounts = strings(spec, "allowedProcMountTypes")?;
    out.insert(
        "allowedProcMountTypes".to_string(),
        Value::from(proc_mounts),
    );
    profiles(&annotations, &mut out)?;
    Ok(out)
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn capabilities(spec: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), String> {
    let allowed = strings(spec, "allowedCapabilities")?;
    let default_add = strings(spec, "defaultAddCapabilities")?;
    let required_drop = strings(spec, "requiredDropCapabilities")?;
    let norm = crate::constraints::normalize_capability;
    for drop in &required_drop {
        for (key, list) in [
            ("allowedCapabilities", &allowed),
            ("defaultAddCapabilities", &default_add),
        ] {
            if list.iter().any(|c| norm(c) == norm(drop)) {
                return Err(err(
                    &format!("spec.{key}"),
                    format!("capability \"{drop}\" is also in requiredDropCapabilities"),
                ));
            }
        }
    }
    // PSP allows adding what it adds by default; no allowedCapabilities means no other adds.
    out.insert(
        "capabilities".to_string(),
        json!({"allowedAdd": allowed, "requiredDrop": required_drop, "defaultAdd": default_add}),
    );
    Ok(())
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn id_rules(spec: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), String> {
    for (key, rules) in [
        (
            "runAsUser",
            &["MustRunAs", "MustRunAsNonRoot", "RunAsAny"][..],
        ),
        ("runAsGroup", &["MustRunAs", "MayRunAs", "RunAsAny"][..]),
        (
            "supplementalGroups",
            &["MustRunAs", "MayRunAs", "RunAsAny"][..],
        ),
        ("fsGroup", &["MustRunAs", "MayRunAs", "RunAsAny"][..]),
    ] {
        // Kubernetes required all but runAsGroup; absent reads as RunAsAny, which says nothing.
        let Some(strategy) = read::<IdStrategy>(spec, key)? else {
            continue;
        };
        if !rules.contains(&strategy.rule.as_str()) {
            return Err(err(
                &format!("spec.{key}.rule"),
                format!(
                    "unknown rule \"{}\"; expected one of {}",
                    strategy.rule,
                    rules.join(", ")
                ),
            ));
        }
        if strategy.rule != "RunAsAny" {
            out.insert(
                key.to_string(),
                json!({"rule": strategy.rule, "ranges": strategy.ranges}),
            );
        }
    }
    Ok(())
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn se_linux(spec: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), String> {
    let Some(strategy) = read::<SeLinuxStrategy>(spec, "seLinux")? else {
        return Ok(());
    };
    match strategy.rule.as_str() {
        "RunAsAny" => Ok(()),
        "MustRunAs" => {
            let Some(o) = strategy.options else {
                return Err(err(
                    "spec.seLinux.seLinuxOptions",
                    "rule MustRunAs needs seLinuxOptions",
                ));
            };
            // PSP compares every part exactly: a part the PSP leaves empty must stay unset.
            let one = |s: &str| if s.is_empty() { json!([]) } else { json!([s]) };
            out.insert(
                "seLinux".to_string(),
                json!({
                    "allowedUsers": one(&o.user),
                    "allowedRoles": one(&o.role),
                    "allowedTypes": one(&o.type_),
                    "allowedLevels": one(&o.level),
                }),
            );
            Ok(())
        }
        other => Err(err(
            "spec.seLinux.rule",
            format!("unknown rule \"{other}\"; expected MustRunAs or RunAsAny"),
        )),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn sysctls(spec: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), String> {
    let allowed_unsafe = strings(spec, "allowedUnsafeSysctls")?;
    let forbidden = strings(spec, "forbiddenSysctls")?;
    for (key, list) in [
        ("allowedUnsafeSysctls", &allowed_unsafe),
        ("forbiddenSysctls", &forbidden),
    ] {
        for (i, pattern) in list.iter().enumerate() {
            let star = pattern.find('*');
            if pattern.is_empty() || star.is_some_and(|at| at != pattern.len() - 1) {
                return Err(err(
                    &format!("spec.{key}[{i}]"),
                    format!("\"{pattern}\" is not a sysctl name or a prefix ending in *"),
                ));
            }
        }
    }
    if let Some(both) = allowed_unsafe.iter().find(|a| forbidden.contains(a)) {
        return Err(err(
            "spec.allowedUnsafeSysctls",
            format!("\"{both}\" is also in forbiddenSysctls"),
        ));
    }
    // Safe sysctls are allowed unless forbidden; unsafe ones forbidden unless allowed.
    let mut allowed: Vec<String> = safe_sysctls().map(str::to_string).collect();
    allowed.extend(allowed_unsafe);
    out.insert(
        "sysctls".to_string(),
        json!({"allowed": allowed, "forbidden": forbidden}),
    );
    Ok(())
}

/// A profile named as PSP's annotations name them: `(type, localhost name)`.
#[cfg_attr(scp_optimize_size, optimize(size))]
fn profile(name: &str, docker_default: bool) -> Option<(&'static str, Option<&str>)> {
    match name {
        "runtime/default" => Some(("RuntimeDefault", None)),
        "docker/default" if docker_default => Some(("RuntimeDefault", None)),
        "unconfined" => Some(("Unconfined", None)),
        _ => name
            .strip_prefix("localhost/")
            .filter(|n| !n.is_empty())
            .map(|n| ("Localhost", Some(n))),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn annotation<'a>(
    annotations: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, String> {
    match annotations.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(
            &format!("metadata.annotations[{key}]"),
            "expected a string",
        )),
    }
}

#[cfg_attr(scp_optimize_size, optimize(size))]
fn profiles(annotations: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), String> {
    for (native, allowed_key, default_key, seccomp) in [
        ("seccomp", SECCOMP_ALLOWED, SECCOMP_DEFAULT, true),
        ("appArmor", APPARMOR_ALLOWED, APPARMOR_DEFAULT, false),
    ] {
        let default = annotation(annotations, default_key)?;
        let mut setting = match annotation(annotations, allowed_key)? {
            // PSP without the annotation: seccomp profiles may not be set; AppArmor is free.
            None if seccomp => json!({"allowedTypes": [], "allowUnset": true}),
            None if default.is_none() => continue,
            None => {
                json!({"allowedTypes": ["RuntimeDefault", "Localhost", "Unconfined"], "allowUnset": true})
            }
            Some(list) => {
                let mut types: Vec<&str> = Vec::new();
                let mut localhost: Vec<String> = Vec::new();
                let mut any = false;
                let mut unset = false;
                for name in list.split(',').map(str::trim) {
                    match name {
                        "*" if seccomp => any = true,
                        "" if seccomp => unset = true,
                        "" => {}
                        _ => {
                            let Some((t, local)) = profile(name, seccomp) else {
                                return Err(err(
                                    &format!("metadata.annotations[{allowed_key}]"),
                                    format!("unknown profile \"{name}\"; expected runtime/default{}, localhost/<path> or unconfined", if seccomp { ", docker/default, *" } else { "" }),
                                ));
                            };
                            if !types.contains(&t) {
                                types.push(t);
                            }
                            if let Some(n) = local {
                                localhost.push(literal(n));
                            }
                        }
                    }
                }
                if any {
                    json!({"allowedTypes": ["RuntimeDefault", "Localhost", "Unconfined"], "allowUnset": true})
                } else {
                    let mut s = json!({"allowedTypes": types, "allowUnset": unset});
                    if !localhost.is_empty() {
                        s["allowedLocalhostProfiles"] = json!(localhost);
                    }
                    s
                }
            }
        };
        if let Some(name) = default {
            let Some((t, local)) = profile(name, seccomp) else {
                return Err(err(
                    &format!("metadata.annotations[{default_key}]"),
                    format!("unknown profile \"{name}\""),
                ));
            };
            setting["defaultProfile"] = match local {
                Some(n) => json!({"type": t, "localhostProfile": n}),
                None => json!({"type": t}),
            };
        }
        out.insert(native.to_string(), setting);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::translate;
    use serde_json::json;

    #[test]
    fn absent_fields_take_psp_meaning() {
        let out = translate(&json!({})).unwrap();
        assert_eq!(out["privileged"], json!(false));
        assert_eq!(out["hostNetwork"], json!(false));
        assert_eq!(out["hostPorts"], json!([]));
        assert_eq!(out["volumes"], json!([]));
        assert_eq!(out["allowPrivilegeEscalation"], json!(true));
        assert_eq!(out["capabilities"]["allowedAdd"], json!([]));
        assert_eq!(
            out["seccomp"],
            json!({"allowedTypes": [], "allowUnset": true})
        );
        assert!(out["sysctls"]["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("kernel.shm_rmid_forced")));
        assert!(!out.contains_key("runAsUser"));
    }

    #[test]
    fn the_whole_object_and_its_spec_translate_alike() {
        let spec = json!({"privileged": true, "volumes": ["*"], "runAsUser": {"rule": "MustRunAsNonRoot"}});
        let whole = json!({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "p"}, "spec": spec});
        assert_eq!(translate(&whole).unwrap(), translate(&spec).unwrap());
    }

    #[test]
    fn annotations_become_profile_constraints() {
        let psp = json!({"metadata": {"annotations": {
            "seccomp.security.alpha.kubernetes.io/allowedProfileNames": "docker/default,runtime/default,localhost/prof*.json",
            "seccomp.security.alpha.kubernetes.io/defaultProfileName": "runtime/default",
            "apparmor.security.beta.kubernetes.io/allowedProfileNames": "runtime/default",
            "apparmor.security.beta.kubernetes.io/defaultProfileName": "runtime/default"
        }}, "spec": {}});
        let out = translate(&psp).unwrap();
        assert_eq!(
            out["seccomp"],
            json!({"allowedTypes": ["RuntimeDefault", "Localhost"], "allowUnset": false,
                   "allowedLocalhostProfiles": ["prof\\*.json"], "defaultProfile": {"type": "RuntimeDefault"}})
        );
        assert_eq!(
            out["appArmor"],
            json!({"allowedTypes": ["RuntimeDefault"], "allowUnset": false, "defaultProfile": {"type": "RuntimeDefault"}})
        );
    }

    #[test]
    fn mistakes_name_the_field() {
        for (psp, expected) in [
            (
                json!({"hostNetwrk": true}),
                "podSecurityPolicy.spec.hostNetwrk: unknown field",
            ),
            (
                json!({"privileged": "yes"}),
                "podSecurityPolicy.spec.privileged: invalid type",
            ),
            (
                json!({"kind": "Pod", "spec": {}}),
                "podSecurityPolicy.kind: expected \"PodSecurityPolicy\"",
            ),
            (
                json!({"runAsUser": {"rule": "MustRunAsRoot"}}),
                "podSecurityPolicy.spec.runAsUser.rule: unknown rule",
            ),
            (
                json!({"seLinux": {"rule": "MustRunAs"}}),
                "podSecurityPolicy.spec.seLinux.seLinuxOptions",
            ),
            (
                json!({"requiredDropCapabilities": ["NET_RAW"], "allowedCapabilities": ["net_raw"]}),
                "podSecurityPolicy.spec.allowedCapabilities: capability \"NET_RAW\"",
            ),
            (
                json!({"forbiddenSysctls": ["a*b"]}),
                "podSecurityPolicy.spec.forbiddenSysctls[0]",
            ),
            (
                json!({"allowPrivilegeEscalation": false, "defaultAllowPrivilegeEscalation": true}),
                "podSecurityPolicy.spec.defaultAllowPrivilegeEscalation",
            ),
            (
                json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "default"}}, "spec": {}}),
                "unknown profile \"default\"",
            ),
            (json!({"spec": {}, "extra": 1}), "podSecurityPolicy.extra"),
            (json!([]), "podSecurityPolicy: expected"),
        ] {
            let e = translate(&psp).unwrap_err();
            assert!(e.contains(expected), "{psp}: {e}");
            assert!(e.starts_with("invalid settings: podSecurityPolicy"), "{e}");
        }
    }
}
