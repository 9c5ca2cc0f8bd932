//! A structure-aware description of the policy's settings document: every key the policy knows,
//! with values that are usually meaningful, and sometimes unknown keys, wrong types and nulls.

use crate::json_shape::{render_list, Field, Id, Word};
use arbitrary::Arbitrary;
use serde_json::{json, Map, Value};

pub const LEVELS: &[&str] = &["privileged", "baseline", "restricted", "Restricted", ""];
pub const VERSIONS: &[&str] = &[
    "latest",
    "v1.0",
    "v1.22",
    "v1.23",
    "v1.25",
    "v1.30",
    "v1.31",
    "v1.35",
    "v1.37",
    "v1.38",
    "v1.999",
    "v1.4294967295",
    "v1.4294967296",
    "v1.01",
    "v1.",
    "1.30",
    "v2.0",
];
pub const CONTAINER_NAMES: &[&str] = &["app", "web", "sidecar", "init", "debug", "c", ""];
pub const IMAGE_PATTERNS: &[&str] = &[
    "*",
    "registry.k8s.io/*",
    "*/pause:*",
    "nginx",
    "nginx:1.2?",
    "a\\*",
    "**",
    "?",
    "x\\",
    "",
];
pub const USER_RULES: &[&str] = &[
    "MustRunAs",
    "MustRunAsNonRoot",
    "RunAsAny",
    "MayRunAs",
    "MustRunAsRoot",
];
pub const GROUP_RULES: &[&str] = &["MustRunAs", "MayRunAs", "RunAsAny", "MustRunAsNonRoot"];
pub const CAPABILITIES: &[&str] = &[
    "ALL",
    "all",
    "NET_BIND_SERVICE",
    "SYS_ADMIN",
    "CAP_SYS_ADMIN",
    "cap_net_raw",
    "NET_ADMIN",
    "net_admin",
    "CHOWN",
    "KILL",
    " SYS_TIME ",
    "*",
    "CAP_",
    "",
];
pub const PROFILE_TYPES: &[&str] = &[
    "RuntimeDefault",
    "Localhost",
    "Unconfined",
    "runtime/default",
    "Default",
];
pub const LOCALHOST_PROFILE_PATTERNS: &[&str] =
    &["profiles/*", "*", "my-profile", "deny-write", "a?c", "\\"];
pub const SE_LINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
    "spc_t",
    "",
];
pub const SE_LINUX_LEVELS: &[&str] = &["s0", "s0:c123,c456", "s0-s0:c0.c1023", ""];
pub const SE_LINUX_USERS: &[&str] = &["system_u", "user_u", ""];
pub const SE_LINUX_ROLES: &[&str] = &["system_r", "object_r", ""];
pub const SYSCTL_PATTERNS: &[&str] = &[
    "net.*",
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_forward",
    "net.ipv4.ip_local_port_range",
    "*",
    "kernel.*",
    "kernel.\\",
    "",
];
pub const UNKNOWN_KEYS: &[&str] = &["levle", "runAsUsers", "Level", "allowPrivilegeEscalations"];
pub const HOST_PATHS: &[&str] = &[
    "/var/log",
    "/",
    "/var/log/",
    "/var/../etc",
    "relative",
    "/proc",
    "",
];
pub const VOLUME_TYPES: &[&str] = &[
    "configMap",
    "emptyDir",
    "secret",
    "hostPath",
    "cephFS",
    "csi",
    "flexVolume",
    "image",
    "*",
    "ephemeral",
    "gitRepo",
    "none",
    "HostPath",
    "",
];
pub const DRIVERS: &[&str] = &["example.com/lvm", "csi.example.com", "*", ""];
pub const PROC_MOUNT_TYPES: &[&str] = &["Default", "Unmasked", "default", ""];
pub const RUNTIME_CLASSES: &[&str] = &["runc", "gvisor", "kata-*", "*", ""];
pub const ON_IMAGE_ERROR: &[&str] = &["reject", "accept", "warn", ""];
pub const USER_PATTERNS: &[&str] = &[
    "system:serviceaccount:kube-system:*",
    "tester",
    "system:masters",
    "*",
    "",
];
pub const KYVERNO_POLICIES: &[&str] = &[
    r#"{"level": "baseline", "version": "v1.30"}"#,
    r#"{"level": "restricted", "exclude": [{"controlName": "Capabilities", "images": ["vpn*"], "restrictedField": "spec.containers[*].securityContext.capabilities.add", "values": ["NET_ADMIN"]}]}"#,
    r#"{"level": "baseline", "exclude": [{"controlName": "Sysctls", "restrictedField": "spec.securityContext.sysctls[*].name", "values": ["kernel.msgmax"]}, {"controlName": "Host Namespaces"}]}"#,
    r#"{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"}, "spec": {"validationFailureAction": "Audit", "rules": [{"name": "r", "match": {"any": [{"resources": {"kinds": ["Pod"], "namespaces": ["team-*"]}}]}, "exclude": {"any": [{"subjects": [{"kind": "ServiceAccount", "name": "a", "namespace": "b"}]}]}, "validate": {"podSecurity": {"level": "restricted"}}}]}}"#,
    r#"{"apiVersion": "kyverno.io/v1", "kind": "Policy", "metadata": {"name": "p", "namespace": "default"}, "spec": {"rules": [{"name": "r", "validate": {"podSecurity": {"level": "baseline"}}}]}}"#,
    r#"{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "spec": {"rules": [{"name": "m", "mutate": {}}]}}"#,
    r#"{"level": "baseline", "exclude": [{"controlName": "Nope"}]}"#,
    r#"[]"#,
];
pub const CONTAINER_KINDS: &[&str] = &[
    "containers",
    "initContainers",
    "ephemeralContainers",
    "sidecars",
];
pub const VALUE_FIELDS: &[&str] = &[
    "capabilities.add",
    "hostPorts",
    "procMount",
    "seccompProfile.type",
    "appArmorProfile.type",
    "seLinuxOptions.type",
    "sysctls",
    "hostPath.path",
    "volumeTypes",
    "capabilities.drop",
];
pub const EXEMPT_VALUES: &[&str] = &[
    "NET_ADMIN",
    "SYS_ADMIN",
    "9100",
    "80",
    "Unmasked",
    "Unconfined",
    "spc_t",
    "kernel.msgmax",
    "/var/log",
    "nfs",
    "hostPath",
    "",
];
pub const NAMESPACES: &[&str] = &["default", "kube-system", "kube-*", "*", ""];
pub const SERVICE_ACCOUNTS: &[&str] = &[
    "monitoring/node-exporter",
    "*/default",
    "nonamespace",
    "*",
    "",
];
pub const PROFILE_NAMES: &[&str] = &["node-agents", "build", "Upper", "a..b", "", "node-agents"];

#[derive(Debug, Arbitrary)]
pub struct SettingsDocument {
    pub level: Field<Word>,
    pub version: Field<Word>,
    pub exemptions: Field<Vec<Field<Exemption>>>,
    pub warn: Field<WarnLevel>,
    pub mutate: Field<bool>,
    pub run_as_user: Field<IdRule>,
    pub run_as_group: Field<IdRule>,
    pub supplemental_groups: Field<IdRule>,
    pub fs_group: Field<IdRule>,
    pub read_only_root_filesystem: Field<bool>,
    pub capabilities: Field<CapabilitiesConstraint>,
    pub seccomp: Field<ProfileConstraint>,
    pub app_armor: Field<ProfileConstraint>,
    pub se_linux: Field<SeLinuxConstraint>,
    pub sysctls: Field<SysctlsConstraint>,
    pub judge_every_update: Field<bool>,
    pub audit: Field<WarnLevel>,
    pub namespace_labels: Field<bool>,
    pub host_namespaces: [Field<bool>; 3],
    pub privileged: Field<bool>,
    pub allow_privilege_escalation: Field<bool>,
    pub default_allow_privilege_escalation: Field<bool>,
    pub host_ports: Field<Vec<Field<IdRange>>>,
    pub allowed_host_paths: Field<Vec<Field<HostPath>>>,
    pub volumes: Field<Vec<Field<Word>>>,
    pub allowed_flex_volumes: Field<Vec<Field<Word>>>,
    pub allowed_csi_drivers: Field<Vec<Field<Word>>>,
    pub allowed_proc_mount_types: Field<Vec<Field<Word>>>,
    pub runtime_class: Field<RuntimeClass>,
    pub image_user: Field<Field<Word>>,
    pub pod_security_policy: Field<PodSecurityPolicy>,
    /// A Kyverno podSecurity policy, from a small set of documents (translated, and refused).
    pub kyverno_policy: Field<Word>,
    pub profiles: Field<Vec<Field<Profile>>>,
    /// Rarely present: a key the policy must reject by name.
    pub unknown_key: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct Exemption {
    pub checks: Field<Vec<Field<Word>>>,
    pub images: Field<Vec<Field<Word>>>,
    pub containers: Field<Vec<Field<Word>>>,
    pub usernames: Field<Vec<Field<Word>>>,
    pub groups: Field<Vec<Field<Word>>>,
    pub namespaces: Field<Vec<Field<Word>>>,
    pub runtime_classes: Field<Vec<Field<Word>>>,
    pub service_accounts: Field<Vec<Field<Word>>>,
    pub container_kinds: Field<Vec<Field<Word>>>,
    pub outside: Field<bool>,
    pub name_and_image: Field<bool>,
    /// Value-level exemptions: (field, values) pairs.
    pub values: Field<Vec<(Field<Word>, Field<Vec<Field<Word>>>)>>,
}

#[derive(Debug, Arbitrary)]
pub struct HostPath {
    pub path_prefix: Field<Word>,
    pub read_only: Field<bool>,
}

#[derive(Debug, Arbitrary)]
pub struct RuntimeClass {
    pub allowed: Field<Vec<Field<Word>>>,
    pub default: Field<Word>,
}

/// A PodSecurityPolicy with some of its fields, as the whole object or its spec.
#[derive(Debug, Arbitrary)]
pub struct PodSecurityPolicy {
    pub whole_object: bool,
    pub privileged: Field<bool>,
    pub host_network: Field<bool>,
    pub read_only_root_filesystem: Field<bool>,
    pub run_as_user: Field<IdRule>,
    pub fs_group: Field<IdRule>,
    pub volumes: Field<Vec<Field<Word>>>,
    pub required_drop: Field<Vec<Field<Word>>>,
    pub allowed_capabilities: Field<Vec<Field<Word>>>,
    pub default_seccomp: Field<Word>,
}

/// A profile: a name and a few settings keys (not a whole document, which would recurse).
#[derive(Debug, Arbitrary)]
pub struct Profile {
    pub name: Field<Word>,
    pub level: Field<Word>,
    pub exemptions: Field<Vec<Field<Exemption>>>,
    pub capabilities: Field<CapabilitiesConstraint>,
    pub host_network: Field<bool>,
    pub nested_profiles: Field<bool>,
}

#[derive(Debug, Arbitrary)]
pub struct WarnLevel {
    pub level: Field<Word>,
    pub version: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct IdRule {
    pub rule: Field<Word>,
    pub ranges: Field<Vec<Field<IdRange>>>,
}

#[derive(Debug, Arbitrary)]
pub struct IdRange {
    pub min: Field<Id>,
    pub max: Field<Id>,
}

#[derive(Debug, Arbitrary)]
pub struct CapabilitiesConstraint {
    pub allowed_add: Field<Vec<Field<Word>>>,
    pub required_drop: Field<Vec<Field<Word>>>,
    pub default_add: Field<Vec<Field<Word>>>,
}

#[derive(Debug, Arbitrary)]
pub struct ProfileConstraint {
    pub allowed_types: Field<Vec<Field<Word>>>,
    pub allowed_localhost_profiles: Field<Vec<Field<Word>>>,
    pub allow_unset: Field<bool>,
    pub default_profile: Field<DefaultProfile>,
}

#[derive(Debug, Arbitrary)]
pub struct DefaultProfile {
    pub type_: Field<Word>,
    pub localhost_profile: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct SeLinuxConstraint {
    pub allowed_types: Field<Vec<Field<Word>>>,
    pub allowed_levels: Field<Vec<Field<Word>>>,
    pub allowed_users: Field<Vec<Field<Word>>>,
    pub allowed_roles: Field<Vec<Field<Word>>>,
}

#[derive(Debug, Arbitrary)]
pub struct SysctlsConstraint {
    pub allowed: Field<Vec<Field<Word>>>,
    pub forbidden: Field<Vec<Field<Word>>>,
}

fn words(items: &[Field<Word>], vocabulary: &[&str]) -> Value {
    render_list(items, |w| json!(w.pick(vocabulary)))
}

fn put_words(
    map: &mut Map<String, Value>,
    key: &str,
    field: &Field<Vec<Field<Word>>>,
    vocabulary: &[&str],
) {
    field.put(map, key, |items| words(items, vocabulary));
}

fn put_word(map: &mut Map<String, Value>, key: &str, field: &Field<Word>, vocabulary: &[&str]) {
    field.put(map, key, |w| json!(w.pick(vocabulary)));
}

impl SettingsDocument {
    pub fn render(&self) -> Value {
        let check_ids = security_context_policy::settings::known_check_ids();
        let mut map = Map::new();
        put_word(&mut map, "level", &self.level, LEVELS);
        put_word(&mut map, "version", &self.version, VERSIONS);
        self.exemptions.put(&mut map, "exemptions", |items| {
            render_list(items, |e| e.render(&check_ids))
        });
        self.warn.put(&mut map, "warn", WarnLevel::render);
        self.mutate.put_bool(&mut map, "mutate");
        self.run_as_user
            .put(&mut map, "runAsUser", |r| r.render(USER_RULES));
        for (key, rule) in [
            ("runAsGroup", &self.run_as_group),
            ("supplementalGroups", &self.supplemental_groups),
            ("fsGroup", &self.fs_group),
        ] {
            rule.put(&mut map, key, |r| r.render(GROUP_RULES));
        }
        self.read_only_root_filesystem
            .put_bool(&mut map, "readOnlyRootFilesystem");
        self.capabilities
            .put(&mut map, "capabilities", CapabilitiesConstraint::render);
        self.seccomp
            .put(&mut map, "seccomp", ProfileConstraint::render);
        self.app_armor
            .put(&mut map, "appArmor", ProfileConstraint::render);
        self.se_linux.put(&mut map, "seLinux", |s| {
            let mut se = Map::new();
            put_words(&mut se, "allowedTypes", &s.allowed_types, SE_LINUX_TYPES);
            put_words(&mut se, "allowedLevels", &s.allowed_levels, SE_LINUX_LEVELS);
            put_words(&mut se, "allowedUsers", &s.allowed_users, SE_LINUX_USERS);
            put_words(&mut se, "allowedRoles", &s.allowed_roles, SE_LINUX_ROLES);
            Value::Object(se)
        });
        self.sysctls.put(&mut map, "sysctls", |s| {
            let mut sysctls = Map::new();
            put_words(&mut sysctls, "allowed", &s.allowed, SYSCTL_PATTERNS);
            put_words(&mut sysctls, "forbidden", &s.forbidden, SYSCTL_PATTERNS);
            Value::Object(sysctls)
        });
        self.judge_every_update
            .put_bool(&mut map, "judgeEveryUpdate");
        self.audit.put(&mut map, "audit", WarnLevel::render);
        self.namespace_labels.put_bool(&mut map, "namespaceLabels");
        for (key, flag) in ["hostNetwork", "hostPID", "hostIPC"]
            .iter()
            .zip(&self.host_namespaces)
        {
            flag.put_bool(&mut map, key);
        }
        self.privileged.put_bool(&mut map, "privileged");
        self.allow_privilege_escalation
            .put_bool(&mut map, "allowPrivilegeEscalation");
        self.default_allow_privilege_escalation
            .put_bool(&mut map, "defaultAllowPrivilegeEscalation");
        self.host_ports.put(&mut map, "hostPorts", |ranges| {
            render_list(ranges, IdRange::render)
        });
        self.allowed_host_paths
            .put(&mut map, "allowedHostPaths", |paths| {
                render_list(paths, |p| {
                    let mut path = Map::new();
                    put_word(&mut path, "pathPrefix", &p.path_prefix, HOST_PATHS);
                    p.read_only.put_bool(&mut path, "readOnly");
                    Value::Object(path)
                })
            });
        put_words(&mut map, "volumes", &self.volumes, VOLUME_TYPES);
        self.allowed_flex_volumes
            .put(&mut map, "allowedFlexVolumes", |drivers| {
                render_list(drivers, |d| json!({"driver": d.pick(DRIVERS)}))
            });
        self.allowed_csi_drivers
            .put(&mut map, "allowedCSIDrivers", |drivers| {
                render_list(drivers, |d| json!({"name": d.pick(DRIVERS)}))
            });
        put_words(
            &mut map,
            "allowedProcMountTypes",
            &self.allowed_proc_mount_types,
            PROC_MOUNT_TYPES,
        );
        self.runtime_class.put(&mut map, "runtimeClass", |r| {
            let mut rc = Map::new();
            put_words(
                &mut rc,
                "allowedRuntimeClassNames",
                &r.allowed,
                RUNTIME_CLASSES,
            );
            put_word(
                &mut rc,
                "defaultRuntimeClassName",
                &r.default,
                RUNTIME_CLASSES,
            );
            Value::Object(rc)
        });
        self.image_user.put(&mut map, "imageUser", |on_error| {
            let mut image_user = Map::new();
            put_word(&mut image_user, "onError", on_error, ON_IMAGE_ERROR);
            Value::Object(image_user)
        });
        self.pod_security_policy
            .put(&mut map, "podSecurityPolicy", PodSecurityPolicy::render);
        self.kyverno_policy.put(&mut map, "kyvernoPolicy", |w| {
            serde_json::from_str(&w.pick(KYVERNO_POLICIES)).unwrap_or(Value::Null)
        });
        self.profiles.put(&mut map, "profiles", |profiles| {
            render_list(profiles, |p| p.render(&check_ids))
        });
        if let Field::Present(key) = &self.unknown_key {
            map.insert(key.pick(UNKNOWN_KEYS), json!(true));
        }
        Value::Object(map)
    }
}

impl Exemption {
    fn render(&self, check_ids: &[&str]) -> Value {
        let mut map = Map::new();
        put_words(&mut map, "checks", &self.checks, check_ids);
        put_words(&mut map, "images", &self.images, IMAGE_PATTERNS);
        put_words(&mut map, "containers", &self.containers, CONTAINER_NAMES);
        put_words(&mut map, "usernames", &self.usernames, USER_PATTERNS);
        put_words(&mut map, "groups", &self.groups, USER_PATTERNS);
        put_words(&mut map, "namespaces", &self.namespaces, NAMESPACES);
        put_words(
            &mut map,
            "runtimeClasses",
            &self.runtime_classes,
            RUNTIME_CLASSES,
        );
        put_words(
            &mut map,
            "serviceAccounts",
            &self.service_accounts,
            SERVICE_ACCOUNTS,
        );
        put_words(
            &mut map,
            "containerKinds",
            &self.container_kinds,
            CONTAINER_KINDS,
        );
        self.outside.put(&mut map, "outside", |b| json!(b));
        self.name_and_image
            .put(&mut map, "nameAndImage", |b| json!(b));
        self.values.put(&mut map, "values", |pairs| {
            let mut values = Map::new();
            for (field, items) in pairs {
                if let (Field::Present(field), Field::Present(items)) = (field, items) {
                    values.insert(
                        field.pick(VALUE_FIELDS).to_string(),
                        words(items, EXEMPT_VALUES),
                    );
                }
            }
            Value::Object(values)
        });
        Value::Object(map)
    }
}

impl WarnLevel {
    fn render(&self) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "level", &self.level, LEVELS);
        put_word(&mut map, "version", &self.version, VERSIONS);
        Value::Object(map)
    }
}

impl IdRule {
    fn render(&self, rules: &[&str]) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "rule", &self.rule, rules);
        self.ranges.put(&mut map, "ranges", |ranges| {
            render_list(ranges, IdRange::render)
        });
        Value::Object(map)
    }
}

impl IdRange {
    fn render(&self) -> Value {
        let mut r = Map::new();
        self.min.put(&mut r, "min", Id::render);
        self.max.put(&mut r, "max", Id::render);
        Value::Object(r)
    }
}

impl CapabilitiesConstraint {
    fn render(&self) -> Value {
        let mut caps = Map::new();
        put_words(&mut caps, "allowedAdd", &self.allowed_add, CAPABILITIES);
        put_words(&mut caps, "requiredDrop", &self.required_drop, CAPABILITIES);
        put_words(&mut caps, "defaultAdd", &self.default_add, CAPABILITIES);
        Value::Object(caps)
    }
}

impl PodSecurityPolicy {
    fn render(&self) -> Value {
        let mut spec = Map::new();
        self.privileged.put_bool(&mut spec, "privileged");
        self.host_network.put_bool(&mut spec, "hostNetwork");
        self.read_only_root_filesystem
            .put_bool(&mut spec, "readOnlyRootFilesystem");
        self.run_as_user
            .put(&mut spec, "runAsUser", |r| r.render(USER_RULES));
        self.fs_group
            .put(&mut spec, "fsGroup", |r| r.render(GROUP_RULES));
        put_words(&mut spec, "volumes", &self.volumes, VOLUME_TYPES);
        put_words(
            &mut spec,
            "requiredDropCapabilities",
            &self.required_drop,
            CAPABILITIES,
        );
        put_words(
            &mut spec,
            "allowedCapabilities",
            &self.allowed_capabilities,
            CAPABILITIES,
        );
        if !self.whole_object {
            return Value::Object(spec);
        }
        let mut annotations = Map::new();
        put_word(
            &mut annotations,
            "seccomp.security.alpha.kubernetes.io/defaultProfileName",
            &self.default_seccomp,
            &[
                "runtime/default",
                "docker/default",
                "unconfined",
                "localhost/x",
                "",
            ],
        );
        json!({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy",
               "metadata": {"name": "fuzzed", "annotations": annotations}, "spec": spec})
    }
}

impl Profile {
    fn render(&self, check_ids: &[&str]) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "name", &self.name, PROFILE_NAMES);
        put_word(&mut map, "level", &self.level, LEVELS);
        self.exemptions.put(&mut map, "exemptions", |items| {
            render_list(items, |e| e.render(check_ids))
        });
        self.capabilities
            .put(&mut map, "capabilities", CapabilitiesConstraint::render);
        self.host_network.put_bool(&mut map, "hostNetwork");
        if let Field::Present(true) = self.nested_profiles {
            map.insert("profiles".into(), json!([]));
        }
        Value::Object(map)
    }
}

impl ProfileConstraint {
    fn render(&self) -> Value {
        let mut map = Map::new();
        put_words(&mut map, "allowedTypes", &self.allowed_types, PROFILE_TYPES);
        put_words(
            &mut map,
            "allowedLocalhostProfiles",
            &self.allowed_localhost_profiles,
            LOCALHOST_PROFILE_PATTERNS,
        );
        self.allow_unset.put_bool(&mut map, "allowUnset");
        self.default_profile.put(&mut map, "defaultProfile", |d| {
            let mut profile = Map::new();
            put_word(&mut profile, "type", &d.type_, PROFILE_TYPES);
            put_word(
                &mut profile,
                "localhostProfile",
                &d.localhost_profile,
                LOCALHOST_PROFILE_PATTERNS,
            );
            Value::Object(profile)
        });
        Value::Object(map)
    }
}
