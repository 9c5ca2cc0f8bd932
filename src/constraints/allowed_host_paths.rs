//! `allowedHostPaths`: PodSecurityPolicy's list of `{pathPrefix, readOnly}`. A hostPath volume
//! must lie under a listed prefix, matched by whole path segments (`/foo` allows `/foo`,
//! `/foo/` and `/foo/bar`, never `/food`; trailing slashes are ignored on both sides). Where
//! every matching entry says `readOnly`, every mount of that volume, in every container, must
//! be read-only; one matching entry without `readOnly` allows writable mounts, as in
//! Kubernetes' own implementation. An empty list, like PSP's, restricts nothing.

use super::{container_subject, violation, Constraint, Constraints};
use crate::checks::{CheckInput, Violation};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHostPath {
    pub path_prefix: String,
    pub read_only: bool,
}

crate::json_text::deserialize_by_shape!(AllowedHostPath { "pathPrefix" => path_prefix, "readOnly" => read_only } required ["pathPrefix"]);

pub const CONSTRAINT: Constraint = Constraint {
    id: "allowedHostPathsConstraint",
    configured: |c| c.allowed_host_paths.as_ref().is_some_and(|l| !l.is_empty()),
    evaluate,
    prepare,
};

#[cfg_attr(scp_optimize_size, optimize(size))]
fn prepare(constraints: &mut Constraints) -> Result<(), String> {
    for (i, p) in constraints.allowed_host_paths.iter().flatten().enumerate() {
        if p.path_prefix.is_empty() {
            return Err(format!(
                "invalid settings: allowedHostPaths[{i}].pathPrefix is empty"
            ));
        }
        if p.path_prefix.split('/').any(|segment| segment == "..") {
            return Err(format!(
                "invalid settings: allowedHostPaths[{i}].pathPrefix \"{}\" must not contain \"..\"",
                p.path_prefix
            ));
        }
    }
    Ok(())
}

/// Whether `path` is `prefix` or lies below it, comparing whole segments of both paths
/// cleaned as Kubernetes' PodSecurityPolicy cleaned them: `/var/log/../../etc` is `/etc`, not
/// a path under `/var/log`.
pub fn has_path_prefix(path: &str, prefix: &str) -> bool {
    let path = clean(path);
    let prefix = clean(prefix);
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let prefix: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    path.starts_with(&prefix)
}

/// Go's `path.Clean`: `.` segments dropped, `..` removing the segment before it (never above
/// the root of an absolute path), repeated and trailing slashes folded. Public for advice, which
/// must write prefixes as this constraint sees them.
pub fn clean(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.last().is_some_and(|s| *s != "..") {
                    segments.pop();
                } else if !absolute {
                    segments.push("..");
                }
            }
            s => segments.push(s),
        }
    }
    let joined = segments.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Whether `path` is allowed, and whether only read-only mounts of it are.
fn judge(allowed: &[AllowedHostPath], path: &str) -> (bool, bool) {
    let mut matched = false;
    for entry in allowed {
        if has_path_prefix(path, &entry.path_prefix) {
            if !entry.read_only {
                return (true, false);
            }
            matched = true;
        }
    }
    (matched, matched)
}

fn evaluate(input: &CheckInput<'_, '_>, constraints: &Constraints) -> Option<Violation> {
    let allowed = constraints.allowed_host_paths.as_deref()?;
    if allowed.is_empty() {
        return None;
    }
    let mut details = Vec::new();
    for v in input.pod.volumes.iter().filter(|v| v.host_path) {
        let path = v.host_path_path.unwrap_or("");
        match judge(allowed, path) {
            (false, _) => {
                let prefixes: Vec<&str> = allowed.iter().map(|a| a.path_prefix.as_str()).collect();
                details.push(format!(
                    "volume \"{}\" uses host path \"{path}\", which is under none of {}",
                    v.name,
                    crate::checks::message::join_quoted(&prefixes)
                ));
            }
            (true, true) => {
                for c in input.containers() {
                    for (i, m) in c.volume_mounts.iter().enumerate() {
                        if m.name == v.name && !m.read_only {
                            details.push(format!(
                                "{} must mount volume \"{}\" (host path \"{path}\") read-only: set volumeMounts[{i}].readOnly=true",
                                container_subject(c.name),
                                v.name
                            ));
                        }
                    }
                }
            }
            (true, false) => {}
        }
    }
    violation("hostPath volumes", details)
}

#[cfg(test)]
mod tests {
    use super::has_path_prefix;
    use crate::constraints::testing::{constrained, denied};
    use serde_json::json;

    #[test]
    fn prefixes_match_whole_segments() {
        for (path, prefix, expected) in [
            ("/foo", "/foo", true),
            ("/foo/", "/foo", true),
            ("/foo/bar", "/foo", true),
            ("/foo/bar", "/foo/", true),
            ("/food", "/foo", false),
            ("/etc/foo", "/foo", false),
            ("/anything", "/", true),
            ("/", "/", true),
            ("/fo", "/foo", false),
            // Cleaned first, as Kubernetes did: `..` cannot climb out of an allowed prefix.
            ("/var/log/../../etc", "/var/log", false),
            ("/var/log/../../etc", "/etc", true),
            ("/var/log/./pods//x", "/var/log/pods", true),
            ("/var/log/..", "/var/log", false),
            ("/../../var/log/app", "/var/log", true),
        ] {
            assert_eq!(has_path_prefix(path, prefix), expected, "{path} {prefix}");
        }
    }

    fn pod(path: &str, read_only: bool) -> serde_json::Value {
        json!({
            "volumes": [{"name": "h", "hostPath": {"path": path}}, {"name": "e", "emptyDir": {}}],
            "initContainers": [{"name": "i", "volumeMounts": [{"name": "h", "mountPath": "/x", "readOnly": read_only}]}],
            "containers": [{"name": "a", "volumeMounts": [{"name": "e", "mountPath": "/e"}, {"name": "h", "mountPath": "/x", "readOnly": true}]}],
            "ephemeralContainers": [{"name": "dbg", "volumeMounts": [{"name": "h", "mountPath": "/x", "readOnly": read_only}]}]
        })
    }

    #[test]
    fn paths_outside_every_prefix_are_refused() {
        let settings = json!({"level": "privileged", "allowedHostPaths": [{"pathPrefix": "/foo"}, {"pathPrefix": "/var/log", "readOnly": true}]});
        assert_eq!(constrained(&settings, pod("/foo/bar", false)), None);
        assert_eq!(
            denied(&settings, pod("/food", true)),
            r#"hostPath volumes (volume "h" uses host path "/food", which is under none of "/foo", "/var/log")"#
        );
    }

    #[test]
    fn read_only_entries_need_every_mount_read_only() {
        let settings = json!({"allowedHostPaths": [{"pathPrefix": "/var/log", "readOnly": true}]});
        assert_eq!(constrained(&settings, pod("/var/log/pods", true)), None);
        assert_eq!(
            denied(&settings, pod("/var/log", false)),
            r#"hostPath volumes (container "i" must mount volume "h" (host path "/var/log") read-only: set volumeMounts[0].readOnly=true; container "dbg" must mount volume "h" (host path "/var/log") read-only: set volumeMounts[0].readOnly=true)"#
        );
        // Kubernetes' rule: a matching entry without readOnly allows writable mounts, even when
        // a more specific matching entry says readOnly.
        let both = json!({"allowedHostPaths": [{"pathPrefix": "/var/log/pods", "readOnly": true}, {"pathPrefix": "/var", "readOnly": false}]});
        assert_eq!(constrained(&both, pod("/var/log/pods/x", false)), None);
        // An empty list restricts nothing.
        assert_eq!(
            constrained(&json!({"allowedHostPaths": []}), pod("/", false)),
            None
        );
    }
}
