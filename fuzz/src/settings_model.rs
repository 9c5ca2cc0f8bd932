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
pub const UNKNOWN_KEYS: &[&str] = &["levle", "runAsUsers", "Level", "allowPrivilegeEscalation"];

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
    /// Rarely present: a key the policy must reject by name.
    pub unknown_key: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct Exemption {
    pub checks: Field<Vec<Field<Word>>>,
    pub images: Field<Vec<Field<Word>>>,
    pub containers: Field<Vec<Field<Word>>>,
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
}

#[derive(Debug, Arbitrary)]
pub struct ProfileConstraint {
    pub allowed_types: Field<Vec<Field<Word>>>,
    pub allowed_localhost_profiles: Field<Vec<Field<Word>>>,
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
        self.capabilities.put(&mut map, "capabilities", |c| {
            let mut caps = Map::new();
            put_words(&mut caps, "allowedAdd", &c.allowed_add, CAPABILITIES);
            put_words(&mut caps, "requiredDrop", &c.required_drop, CAPABILITIES);
            Value::Object(caps)
        });
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
            render_list(ranges, |range| {
                let mut r = Map::new();
                range.min.put(&mut r, "min", Id::render);
                range.max.put(&mut r, "max", Id::render);
                Value::Object(r)
            })
        });
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
        Value::Object(map)
    }
}
