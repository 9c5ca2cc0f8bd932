//! The part of a pod that security decisions read, borrowed from the request's JSON.
//!
//! Only the fields some check reads are modelled, each type-checked on the way in. The model is
//! also the test for a "significant" pod update: two pods whose models are equal cannot be judged
//! differently by any check.

use crate::reader::{
    bool_field, int_field, list_field, object, object_field, str_field, str_list_field, Object,
    Path, ReadError,
};
use crate::security_context::{
    Capabilities, ContainerSecurityContext, EffectiveSecurityContext, PodSecurityContext, Profile,
    SeLinuxOptions, SecurityContextCommon, Sysctl, WindowsOptions,
};

/// Annotations that some check reads: the legacy seccomp and AppArmor ones.
pub const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
pub const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str =
    "container.seccomp.security.alpha.kubernetes.io/";
pub const APPARMOR_CONTAINER_ANNOTATION_PREFIX: &str =
    "container.apparmor.security.beta.kubernetes.io/";

pub(crate) fn is_checked_annotation(key: &str) -> bool {
    key == SECCOMP_POD_ANNOTATION
        || key.starts_with(SECCOMP_CONTAINER_ANNOTATION_PREFIX)
        || key.starts_with(APPARMOR_CONTAINER_ANNOTATION_PREFIX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    /// The pod-spec field that lists containers of this kind.
    pub fn field(self) -> &'static str {
        self.field_name()
    }

    /// `field`, usable in constants.
    pub const fn field_name(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// Where a volume's data comes from, as far as the volume checks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeSource {
    /// One of the sources the restricted level allows.
    Allowed,
    /// A source the restricted level forbids, by its field name (hostPath among them).
    Restricted(&'static str),
    /// Fields that are no volume source this policy knows.
    Unknown,
    /// No source at all: the API server defaults such a volume to emptyDir.
    Unspecified,
}

const ALLOWED_VOLUME_SOURCES: &[&str] = &[
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

/// In the order Pod Security Admission tests them, which decides the name reported for a
/// (malformed) volume that sets more than one.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Volume<'a> {
    pub name: &'a str,
    pub host_path: bool,
    pub source: VolumeSource,
    /// The field that holds the volume's source (`hostPath`, `cephfs`, `somethingNew`, ...):
    /// the first known one that is set, else the first other field; `None` when there is none.
    pub source_field: Option<&'a str>,
    /// `hostPath.path`
    pub host_path_path: Option<&'a str>,
    /// `flexVolume.driver`
    pub flex_volume_driver: Option<&'a str>,
    /// `csi.driver`, for an inline CSI volume.
    pub csi_driver: Option<&'a str>,
}

/// One `volumeMounts` entry of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeMount<'a> {
    pub name: &'a str,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub name: &'a str,
    pub image: &'a str,
    pub security_context: Option<ContainerSecurityContext<'a>>,
    /// Every non-zero `ports[*].hostPort`.
    pub host_ports: Vec<i64>,
    /// Every non-empty `host` of a probe or lifecycle handler.
    pub probe_hosts: Vec<&'a str>,
    pub volume_mounts: Vec<VolumeMount<'a>>,
    /// The container's security context merged over the pod's, computed once here.
    pub effective: EffectiveSecurityContext<'a>,
}

impl Container<'_> {
    /// `spec.containers[0]`-style path of this container, relative to the pod spec.
    pub fn field_path(&self) -> String {
        format!("{}[{}]", self.kind.field(), self.index)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod<'a> {
    /// The checked annotations, sorted by key.
    pub annotations: Vec<(&'a str, &'a str)>,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub host_users: Option<bool>,
    pub os_name: Option<&'a str>,
    pub security_context: Option<PodSecurityContext<'a>>,
    pub volumes: Vec<Volume<'a>>,
    /// `runtimeClassName`, when set (an empty name is none, as for the API server).
    pub runtime_class_name: Option<&'a str>,
    /// `serviceAccountName`, or the deprecated `serviceAccount` when only that is set; `None`
    /// when neither is (the pod then runs as `default`).
    pub service_account_name: Option<&'a str>,
    /// Init containers, then containers, then ephemeral containers: Pod Security Admission's
    /// visiting order, which fixes the order of names in messages.
    pub containers: Vec<Container<'a>>,
}

impl<'a> Pod<'a> {
    /// Reads a pod from its `metadata` (may be null) and `spec` objects. `spec_path` names the
    /// spec inside the admitted object, e.g. `spec.template.spec`.
    pub fn read(
        metadata: Option<&'a serde_json::Value>,
        spec: &'a Object,
        metadata_path: &Path<'_>,
        spec_path: &Path<'_>,
    ) -> Result<Pod<'a>, ReadError> {
        let annotations = match metadata {
            Some(meta) => read_annotations(meta, metadata_path)?,
            None => Vec::new(),
        };
        let security_context = match object_field(spec, "securityContext", spec_path)? {
            Some(sc) => Some(read_pod_security_context(
                sc,
                &spec_path.field("securityContext"),
            )?),
            None => None,
        };
        let os_name = match object_field(spec, "os", spec_path)? {
            Some(os) => str_field(os, "name", &spec_path.field("os"))?,
            None => None,
        };
        let mut containers = Vec::new();
        for kind in [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ] {
            let list_path = spec_path.field(kind.field());
            for (index, item) in list_field(spec, kind.field(), spec_path)?
                .iter()
                .enumerate()
            {
                let item_path = list_path.index(index);
                let Some(map) = object(item, &item_path)? else {
                    return Err(ReadError::new(
                        &item_path,
                        "expected a container, found null",
                    ));
                };
                containers.push(read_container(
                    map,
                    kind,
                    index,
                    security_context.as_ref(),
                    &annotations,
                    &item_path,
                )?);
            }
        }
        let volumes_path = spec_path.field("volumes");
        let volumes = list_field(spec, "volumes", spec_path)?
            .iter()
            .enumerate()
            .map(|(i, v)| read_volume(v, &volumes_path.index(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pod {
            annotations,
            host_network: bool_field(spec, "hostNetwork", spec_path)?.unwrap_or(false),
            host_pid: bool_field(spec, "hostPID", spec_path)?.unwrap_or(false),
            host_ipc: bool_field(spec, "hostIPC", spec_path)?.unwrap_or(false),
            host_users: bool_field(spec, "hostUsers", spec_path)?,
            os_name,
            security_context,
            volumes,
            runtime_class_name: non_empty(str_field(spec, "runtimeClassName", spec_path)?),
            // The API server reads the deprecated alias only when the new field is empty.
            service_account_name: match non_empty(str_field(spec, "serviceAccountName", spec_path)?)
            {
                Some(name) => Some(name),
                None => non_empty(str_field(spec, "serviceAccount", spec_path)?),
            },
            containers,
        })
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.annotations
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| self.annotations[i].1)
    }

    pub fn is_windows(&self) -> bool {
        self.os_name == Some("windows")
    }

    /// `hostUsers: false`: the pod runs in its own user namespace.
    pub fn in_user_namespace(&self) -> bool {
        self.host_users == Some(false)
    }
}

/// An empty string is how the API means "unset" for these names.
fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|s| !s.is_empty())
}

fn read_annotations<'a>(
    metadata: &'a serde_json::Value,
    path: &Path<'_>,
) -> Result<Vec<(&'a str, &'a str)>, ReadError> {
    let Some(meta) = object(metadata, path)? else {
        return Ok(Vec::new());
    };
    let Some(annotations) = object_field(meta, "annotations", path)? else {
        return Ok(Vec::new());
    };
    let annotations_path = path.field("annotations");
    // Kept sorted by key as they are found (there are a few at most): the model must not
    // depend on the order of the map.
    let mut checked: Vec<(&str, &str)> = Vec::new();
    for (key, value) in annotations {
        if is_checked_annotation(key) {
            match value {
                serde_json::Value::String(s) => {
                    let at = checked.partition_point(|(k, _)| *k < key.as_str());
                    checked.insert(at, (key.as_str(), s.as_str()));
                }
                serde_json::Value::Null => {}
                _ => {
                    return Err(ReadError::new(
                        &annotations_path.field(key),
                        "expected a string",
                    ))
                }
            }
        }
    }
    Ok(checked)
}

fn read_common<'a>(
    sc: &'a Object,
    path: &Path<'_>,
) -> Result<SecurityContextCommon<'a>, ReadError> {
    let se_linux_options = match object_field(sc, "seLinuxOptions", path)? {
        Some(o) => {
            let p = path.field("seLinuxOptions");
            Some(SeLinuxOptions {
                user: str_field(o, "user", &p)?.unwrap_or(""),
                role: str_field(o, "role", &p)?.unwrap_or(""),
                type_: str_field(o, "type", &p)?.unwrap_or(""),
                level: str_field(o, "level", &p)?.unwrap_or(""),
            })
        }
        None => None,
    };
    let windows_options = match object_field(sc, "windowsOptions", path)? {
        Some(o) => {
            let p = path.field("windowsOptions");
            Some(WindowsOptions {
                host_process: bool_field(o, "hostProcess", &p)?,
                run_as_user_name: str_field(o, "runAsUserName", &p)?,
            })
        }
        None => None,
    };
    Ok(SecurityContextCommon {
        run_as_user: int_field(sc, "runAsUser", path)?,
        run_as_group: int_field(sc, "runAsGroup", path)?,
        run_as_non_root: bool_field(sc, "runAsNonRoot", path)?,
        se_linux_options,
        seccomp_profile: read_profile(sc, "seccompProfile", path)?,
        app_armor_profile: read_profile(sc, "appArmorProfile", path)?,
        windows_options,
    })
}

fn read_profile<'a>(
    sc: &'a Object,
    key: &str,
    path: &Path<'_>,
) -> Result<Option<Profile<'a>>, ReadError> {
    match object_field(sc, key, path)? {
        Some(o) => {
            let p = path.field(key);
            Ok(Some(Profile {
                type_: str_field(o, "type", &p)?.unwrap_or(""),
                localhost_profile: str_field(o, "localhostProfile", &p)?,
            }))
        }
        None => Ok(None),
    }
}

fn read_pod_security_context<'a>(
    sc: &'a Object,
    path: &Path<'_>,
) -> Result<PodSecurityContext<'a>, ReadError> {
    let sysctls_path = path.field("sysctls");
    let sysctls = list_field(sc, "sysctls", path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let p = sysctls_path.index(i);
            let Some(o) = object(item, &p)? else {
                return Err(ReadError::new(&p, "expected a sysctl, found null"));
            };
            Ok(Sysctl {
                name: str_field(o, "name", &p)?.unwrap_or(""),
                value: str_field(o, "value", &p)?.unwrap_or(""),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let groups_path = path.field("supplementalGroups");
    let supplemental_groups = list_field(sc, "supplementalGroups", path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_i64()
                .ok_or_else(|| ReadError::new(&groups_path.index(i), "expected a 64-bit integer"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PodSecurityContext {
        common: read_common(sc, path)?,
        fs_group: int_field(sc, "fsGroup", path)?,
        supplemental_groups,
        sysctls,
    })
}

fn read_container_security_context<'a>(
    sc: &'a Object,
    path: &Path<'_>,
) -> Result<ContainerSecurityContext<'a>, ReadError> {
    let capabilities = match object_field(sc, "capabilities", path)? {
        Some(o) => {
            let p = path.field("capabilities");
            Some(Capabilities {
                add: str_list_field(o, "add", &p)?,
                drop: str_list_field(o, "drop", &p)?,
            })
        }
        None => None,
    };
    Ok(ContainerSecurityContext {
        common: read_common(sc, path)?,
        privileged: bool_field(sc, "privileged", path)?,
        allow_privilege_escalation: bool_field(sc, "allowPrivilegeEscalation", path)?,
        capabilities,
        read_only_root_filesystem: bool_field(sc, "readOnlyRootFilesystem", path)?,
        proc_mount: str_field(sc, "procMount", path)?,
    })
}

fn read_container<'a>(
    map: &'a Object,
    kind: ContainerKind,
    index: usize,
    pod_security_context: Option<&PodSecurityContext<'a>>,
    annotations: &[(&'a str, &'a str)],
    path: &Path<'_>,
) -> Result<Container<'a>, ReadError> {
    let name = str_field(map, "name", path)?.unwrap_or("");
    let security_context = match object_field(map, "securityContext", path)? {
        Some(sc) => Some(read_container_security_context(
            sc,
            &path.field("securityContext"),
        )?),
        None => None,
    };
    let ports_path = path.field("ports");
    let mut host_ports = Vec::new();
    for (i, port) in list_field(map, "ports", path)?.iter().enumerate() {
        let p = ports_path.index(i);
        if let Some(port) = object(port, &p)? {
            if let Some(host_port) = int_field(port, "hostPort", &p)? {
                if host_port != 0 {
                    host_ports.push(host_port);
                }
            }
        }
    }
    let mut probe_hosts = Vec::new();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(handler) = object_field(map, probe, path)? {
            read_handler_hosts(handler, &path.field(probe), &mut probe_hosts)?;
        }
    }
    if let Some(lifecycle) = object_field(map, "lifecycle", path)? {
        let lifecycle_path = path.field("lifecycle");
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = object_field(lifecycle, hook, &lifecycle_path)? {
                read_handler_hosts(handler, &lifecycle_path.field(hook), &mut probe_hosts)?;
            }
        }
    }
    let mounts_path = path.field("volumeMounts");
    let volume_mounts = list_field(map, "volumeMounts", path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let p = mounts_path.index(i);
            let Some(m) = object(item, &p)? else {
                return Err(ReadError::new(&p, "expected a volume mount, found null"));
            };
            Ok(VolumeMount {
                name: str_field(m, "name", &p)?.unwrap_or(""),
                read_only: bool_field(m, "readOnly", &p)?.unwrap_or(false),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let app_armor_annotation = annotations
        .iter()
        .find(|(k, _)| k.strip_prefix(APPARMOR_CONTAINER_ANNOTATION_PREFIX) == Some(name))
        .and_then(|(_, v)| Profile::from_app_armor_annotation(v));
    let effective = EffectiveSecurityContext::merge(
        pod_security_context,
        security_context.as_ref(),
        app_armor_annotation,
    );
    Ok(Container {
        kind,
        index,
        name,
        image: str_field(map, "image", path)?.unwrap_or(""),
        security_context,
        host_ports,
        probe_hosts,
        volume_mounts,
        effective,
    })
}

fn read_handler_hosts<'a>(
    handler: &'a Object,
    path: &Path<'_>,
    hosts: &mut Vec<&'a str>,
) -> Result<(), ReadError> {
    for action in ["httpGet", "tcpSocket"] {
        if let Some(o) = object_field(handler, action, path)? {
            if let Some(host) = str_field(o, "host", &path.field(action))? {
                if !host.is_empty() {
                    hosts.push(host);
                }
            }
        }
    }
    Ok(())
}

fn read_volume<'a>(value: &'a serde_json::Value, path: &Path<'_>) -> Result<Volume<'a>, ReadError> {
    let Some(map) = object(value, path)? else {
        return Err(ReadError::new(path, "expected a volume, found null"));
    };
    let name = str_field(map, "name", path)?.unwrap_or("");
    let is_set = |key: &str| map.get(key).is_some_and(|v| !v.is_null());
    let host_path = is_set("hostPath");
    let source = if ALLOWED_VOLUME_SOURCES.iter().any(|k| is_set(k)) {
        VolumeSource::Allowed
    } else if let Some(restricted) = RESTRICTED_VOLUME_SOURCES.iter().find(|k| is_set(k)) {
        VolumeSource::Restricted(restricted)
    } else if map.iter().any(|(k, v)| k != "name" && !v.is_null()) {
        VolumeSource::Unknown
    } else {
        VolumeSource::Unspecified
    };
    let source_field = ALLOWED_VOLUME_SOURCES
        .iter()
        .chain(RESTRICTED_VOLUME_SOURCES)
        .find(|k| is_set(k))
        .copied()
        .or_else(|| {
            map.iter()
                .find(|(k, v)| *k != "name" && !v.is_null())
                .map(|(k, _)| k.as_str())
        });
    // The string inside a source object, e.g. `hostPath.path`.
    let source_str = |source: &str, key: &str| -> Result<Option<&'a str>, ReadError> {
        match object_field(map, source, path)? {
            Some(o) => str_field(o, key, &path.field(source)),
            None => Ok(None),
        }
    };
    Ok(Volume {
        name,
        host_path,
        source,
        source_field,
        host_path_path: source_str("hostPath", "path")?,
        flex_volume_driver: source_str("flexVolume", "driver")?,
        csi_driver: source_str("csi", "driver")?,
    })
}

/// Reads a test pod written as `{metadata?, spec}`.
#[cfg(test)]
pub(crate) fn read_test_pod(pod: &serde_json::Value) -> Result<Pod<'_>, ReadError> {
    let spec = pod["spec"].as_object().expect("test pod has a spec");
    Pod::read(
        pod.get("metadata"),
        spec,
        &Path::Root("metadata"),
        &Path::Root("spec"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(pod: &serde_json::Value) -> Result<Pod<'_>, ReadError> {
        read_test_pod(pod)
    }

    #[test]
    fn containers_are_visited_init_regular_ephemeral() {
        let pod = json!({"spec": {
            "containers": [{"name": "c"}],
            "initContainers": [{"name": "i"}],
            "ephemeralContainers": [{"name": "e"}]
        }});
        let pod = read(&pod).unwrap();
        let names: Vec<_> = pod.containers.iter().map(|c| c.name).collect();
        assert_eq!(names, ["i", "c", "e"]);
        assert_eq!(pod.containers[2].field_path(), "ephemeralContainers[0]");
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let pod = json!({"spec": {"containers": [{"name": "c", "securityContext": {"capabilities": {"add": "NET_ADMIN"}}}]}});
        let err = read(&pod).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read spec.containers[0].securityContext.capabilities.add: expected a list, found a string"
        );
        let pod = json!({"spec": {"containers": [null]}});
        assert_eq!(read(&pod).unwrap_err().path, "spec.containers[0]");
        let pod = json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": 1}}, "spec": {}});
        assert!(read(&pod).is_err());
    }

    #[test]
    fn volume_sources_are_classified() {
        let pod = json!({"spec": {"volumes": [
            {"name": "a", "emptyDir": {}},
            {"name": "b", "hostPath": {"path": "/"}},
            {"name": "c", "nfs": {}},
            {"name": "d"},
            {"name": "e", "somethingNew": {}}
        ]}});
        let pod = read(&pod).unwrap();
        let sources: Vec<_> = pod.volumes.iter().map(|v| v.source).collect();
        assert_eq!(
            sources,
            [
                VolumeSource::Allowed,
                VolumeSource::Restricted("hostPath"),
                VolumeSource::Restricted("nfs"),
                VolumeSource::Unspecified,
                VolumeSource::Unknown
            ]
        );
        assert!(pod.volumes[1].host_path);
    }

    #[test]
    fn volume_details_mounts_and_runtime_class_are_read() {
        let pod = json!({"spec": {
            "runtimeClassName": "gvisor",
            "volumes": [
                {"name": "h", "hostPath": {"path": "/var/log"}},
                {"name": "f", "flexVolume": {"driver": "example/lvm"}},
                {"name": "c", "csi": {"driver": "x.csi.example.com"}},
                {"name": "n", "somethingNew": {}},
                {"name": "d"}
            ],
            "containers": [{"name": "a", "volumeMounts": [{"name": "h", "mountPath": "/l", "readOnly": true}, {"name": "c", "mountPath": "/c"}]}]
        }});
        let pod = read(&pod).unwrap();
        assert_eq!(pod.runtime_class_name, Some("gvisor"));
        assert_eq!(pod.volumes[0].host_path_path, Some("/var/log"));
        assert_eq!(pod.volumes[1].flex_volume_driver, Some("example/lvm"));
        assert_eq!(pod.volumes[2].csi_driver, Some("x.csi.example.com"));
        let fields: Vec<_> = pod.volumes.iter().map(|v| v.source_field).collect();
        assert_eq!(
            fields,
            [
                Some("hostPath"),
                Some("flexVolume"),
                Some("csi"),
                Some("somethingNew"),
                None
            ]
        );
        assert_eq!(
            pod.containers[0].volume_mounts,
            [
                VolumeMount {
                    name: "h",
                    read_only: true
                },
                VolumeMount {
                    name: "c",
                    read_only: false
                }
            ]
        );
        let bad = json!({"spec": {"containers": [{"name": "a", "volumeMounts": [{"name": "h", "readOnly": "yes"}]}]}});
        assert_eq!(
            read(&bad).unwrap_err().path,
            "spec.containers[0].volumeMounts[0].readOnly"
        );
        let bad = json!({"spec": {"volumes": [{"name": "h", "hostPath": {"path": 1}}]}});
        assert_eq!(
            read(&bad).unwrap_err().path,
            "spec.volumes[0].hostPath.path"
        );
    }

    #[test]
    fn only_checked_annotations_are_kept() {
        let pod = json!({"metadata": {"annotations": {
            "b": "x",
            "container.apparmor.security.beta.kubernetes.io/c": "unconfined",
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined"
        }}, "spec": {}});
        let pod = read(&pod).unwrap();
        assert_eq!(pod.annotations.len(), 2);
        assert_eq!(
            pod.annotation("seccomp.security.alpha.kubernetes.io/pod"),
            Some("unconfined")
        );
        assert_eq!(pod.annotation("b"), None);
    }

    #[test]
    fn probe_and_lifecycle_hosts_are_collected() {
        let pod = json!({"spec": {"containers": [{"name": "c",
            "livenessProbe": {"httpGet": {"host": "a", "port": 80}},
            "readinessProbe": {"tcpSocket": {"host": "", "port": 80}},
            "lifecycle": {"preStop": {"tcpSocket": {"host": "b"}}},
            "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081}]
        }]}});
        let pod = read(&pod).unwrap();
        assert_eq!(pod.containers[0].probe_hosts, ["a", "b"]);
        assert_eq!(pod.containers[0].host_ports, [8081]);
    }
}
