//! A structure-aware description of a `validate` payload: an AdmissionRequest for every kind
//! the policy reads (and some it does not), whose pod template is random but mostly well-typed,
//! plus a settings document.

use crate::json_shape::{render_list, Field, Id, Word};
use crate::settings_model::{
    SettingsDocument, CONTAINER_NAMES, PROFILE_TYPES, SE_LINUX_LEVELS, SE_LINUX_ROLES,
    SE_LINUX_TYPES, SE_LINUX_USERS,
};
use arbitrary::{Arbitrary, Result, Unstructured};
use serde_json::{json, Map, Value};

const IMAGES: &[&str] = &[
    "nginx",
    "nginx:1.25",
    "registry.k8s.io/pause:3.9",
    "evil.io/registry.k8s.io/x",
    "a*",
    "",
];
const ANNOTATION_PROFILES: &[&str] = &[
    "runtime/default",
    "docker/default",
    "localhost/profile",
    "localhost/",
    "unconfined",
    "RuntimeDefault",
    "",
];
const OTHER_ANNOTATION_KEYS: &[&str] = &[
    "container.seccomp.security.alpha.kubernetes.io",
    "container.apparmor.security.beta.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/pod/x",
    "example.com/note",
];
const LOCALHOST_PROFILES: &[&str] = &["profiles/audit.json", "my-profile", "deny-write", ""];
const WINDOWS_USER_NAMES: &[&str] = &["ContainerUser", "ContainerAdministrator", ""];
const PROC_MOUNTS: &[&str] = &["Default", "Unmasked", ""];
const PROBE_HOSTS: &[&str] = &["", "127.0.0.1", "localhost", "example.com"];
const OS_NAMES: &[&str] = &["linux", "windows", "Windows", ""];
const SYSCTL_NAMES: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.ip_forward",
    "kernel.msgmax",
    "",
];
const VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "emptyDir",
    "secret",
    "projected",
    "persistentVolumeClaim",
    "ephemeral",
    "hostPath",
    "nfs",
    "gitRepo",
    "flexVolume",
    "storageos",
    "someFutureSource",
];
const SUB_RESOURCES: &[&str] = &["ephemeralcontainers", "status", "scale", "binding"];
const FREE_OPERATIONS: &[&str] = &["create", "PATCH"];

/// Present about one time in eight.
#[derive(Debug)]
pub struct Rarely<T>(pub Option<T>);

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Rarely<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Rarely(if u.arbitrary::<u8>()? < 32 {
            Some(u.arbitrary()?)
        } else {
            None
        }))
    }
}

#[derive(Debug, Arbitrary)]
pub struct ValidatePayload {
    pub request: AdmissionRequest,
    pub settings: Field<SettingsDocument>,
}

#[derive(Debug, Arbitrary)]
pub struct AdmissionRequest {
    pub kind: RequestKind,
    /// Whether the request names the kind, or leaves it to the object's apiVersion and kind.
    pub kind_left_out: Rarely<()>,
    pub operation: Operation,
    pub sub_resource: Rarely<Word>,
    pub object: Field<Workload>,
    pub old_object: OldObject,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum RequestKind {
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    PodTemplate,
    /// Carries no pod: always accepted.
    Service,
    /// A supported kind name in the wrong API group.
    DeploymentInCoreGroup,
}

impl RequestKind {
    /// API group, version and kind.
    fn group_version_kind(self) -> (&'static str, &'static str, &'static str) {
        match self {
            RequestKind::Pod => ("", "v1", "Pod"),
            RequestKind::Deployment => ("apps", "v1", "Deployment"),
            RequestKind::ReplicaSet => ("apps", "v1", "ReplicaSet"),
            RequestKind::StatefulSet => ("apps", "v1", "StatefulSet"),
            RequestKind::DaemonSet => ("apps", "v1", "DaemonSet"),
            RequestKind::Job => ("batch", "v1", "Job"),
            RequestKind::CronJob => ("batch", "v1", "CronJob"),
            RequestKind::ReplicationController => ("", "v1", "ReplicationController"),
            RequestKind::PodTemplate => ("", "v1", "PodTemplate"),
            RequestKind::Service => ("", "v1", "Service"),
            RequestKind::DeploymentInCoreGroup => ("", "v1", "Deployment"),
        }
    }

    fn api_version(self) -> String {
        match self.group_version_kind() {
            ("", version, _) => version.to_string(),
            (group, version, _) => format!("{group}/{version}"),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
    Unset,
    Other(Word),
}

impl Operation {
    fn render(&self) -> Option<String> {
        match self {
            Operation::Create => Some("CREATE".into()),
            Operation::Update => Some("UPDATE".into()),
            Operation::Delete => Some("DELETE".into()),
            Operation::Connect => Some("CONNECT".into()),
            Operation::Unset => None,
            Operation::Other(word) => Some(word.pick(FREE_OPERATIONS)),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum OldObject {
    Absent,
    Null,
    SameAsObject,
    SameExceptStatus,
    Other(Box<Workload>),
}

/// An object of the request's kind: its pod template sits where the kind puts it.
#[derive(Debug, Arbitrary)]
pub struct Workload {
    pub template: Field<PodTemplate>,
    /// For controllers: their own `spec`, replaced by a wrong type now and then.
    pub controller_spec_wrong_type: Rarely<crate::json_shape::WrongJson>,
}

#[derive(Debug, Arbitrary)]
pub struct PodTemplate {
    pub metadata: Field<Metadata>,
    pub spec: Field<PodSpec>,
}

#[derive(Debug, Arbitrary)]
pub struct Metadata {
    pub annotations: Field<Vec<Annotation>>,
}

#[derive(Debug, Arbitrary)]
pub struct Annotation {
    pub key: AnnotationKey,
    pub value: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub enum AnnotationKey {
    SeccompPod,
    SeccompContainer(Word),
    AppArmorContainer(Word),
    Other(Word),
}

impl AnnotationKey {
    fn render(&self) -> String {
        match self {
            AnnotationKey::SeccompPod => {
                security_context_policy::pod::SECCOMP_POD_ANNOTATION.into()
            }
            AnnotationKey::SeccompContainer(name) => format!(
                "{}{}",
                security_context_policy::pod::SECCOMP_CONTAINER_ANNOTATION_PREFIX,
                name.pick(CONTAINER_NAMES)
            ),
            AnnotationKey::AppArmorContainer(name) => format!(
                "{}{}",
                security_context_policy::pod::APPARMOR_CONTAINER_ANNOTATION_PREFIX,
                name.pick(CONTAINER_NAMES)
            ),
            AnnotationKey::Other(key) => key.pick(OTHER_ANNOTATION_KEYS),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub struct PodSpec {
    pub security_context: Field<PodSecurityContext>,
    pub init_containers: Field<Vec<Field<Container>>>,
    pub containers: Field<Vec<Field<Container>>>,
    pub ephemeral_containers: Field<Vec<Field<Container>>>,
    pub volumes: Field<Vec<Field<Volume>>>,
    pub host_network: Field<bool>,
    pub host_pid: Field<bool>,
    pub host_ipc: Field<bool>,
    pub host_users: Field<bool>,
    pub os: Field<Os>,
}

#[derive(Debug, Arbitrary)]
pub struct Os {
    pub name: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct CommonSecurityContext {
    pub run_as_user: Field<Id>,
    pub run_as_group: Field<Id>,
    pub run_as_non_root: Field<bool>,
    pub se_linux_options: Field<SeLinuxOptions>,
    pub seccomp_profile: Field<Profile>,
    pub app_armor_profile: Field<Profile>,
    pub windows_options: Field<WindowsOptions>,
}

#[derive(Debug, Arbitrary)]
pub struct PodSecurityContext {
    pub common: CommonSecurityContext,
    pub fs_group: Field<Id>,
    pub supplemental_groups: Field<Vec<Field<Id>>>,
    pub sysctls: Field<Vec<Field<Sysctl>>>,
}

#[derive(Debug, Arbitrary)]
pub struct Sysctl {
    pub name: Field<Word>,
    pub value: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct SeLinuxOptions {
    pub user: Field<Word>,
    pub role: Field<Word>,
    pub type_: Field<Word>,
    pub level: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct Profile {
    pub type_: Field<Word>,
    pub localhost_profile: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct WindowsOptions {
    pub host_process: Field<bool>,
    pub run_as_user_name: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct ContainerSecurityContext {
    pub common: CommonSecurityContext,
    pub privileged: Field<bool>,
    pub allow_privilege_escalation: Field<bool>,
    pub capabilities: Field<Capabilities>,
    pub read_only_root_filesystem: Field<bool>,
    pub proc_mount: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct Capabilities {
    pub add: Field<Vec<Field<Word>>>,
    pub drop: Field<Vec<Field<Word>>>,
}

#[derive(Debug, Arbitrary)]
pub struct Container {
    pub name: Field<Word>,
    pub image: Field<Word>,
    pub security_context: Field<ContainerSecurityContext>,
    pub ports: Field<Vec<Field<Port>>>,
    pub liveness_probe: Field<Handler>,
    pub readiness_probe: Field<Handler>,
    pub startup_probe: Field<Handler>,
    pub lifecycle: Field<Lifecycle>,
}

#[derive(Debug, Arbitrary)]
pub struct Port {
    pub host_port: Field<Id>,
}

#[derive(Debug, Arbitrary)]
pub struct Handler {
    pub http_get: Field<Endpoint>,
    pub tcp_socket: Field<Endpoint>,
}

#[derive(Debug, Arbitrary)]
pub struct Endpoint {
    pub host: Field<Word>,
}

#[derive(Debug, Arbitrary)]
pub struct Lifecycle {
    pub post_start: Field<Handler>,
    pub pre_stop: Field<Handler>,
}

#[derive(Debug, Arbitrary)]
pub struct Volume {
    pub name: Field<Word>,
    /// Source field names, each set to an object (or null, or a wrong type).
    pub sources: Vec<(Word, Field<bool>)>,
}

fn put_word(map: &mut Map<String, Value>, key: &str, field: &Field<Word>, vocabulary: &[&str]) {
    field.put(map, key, |w| json!(w.pick(vocabulary)));
}

fn put_words(
    map: &mut Map<String, Value>,
    key: &str,
    field: &Field<Vec<Field<Word>>>,
    vocabulary: &[&str],
) {
    field.put(map, key, |items| {
        render_list(items, |w| json!(w.pick(vocabulary)))
    });
}

impl ValidatePayload {
    /// The settings document as sent, if any (absent and null both mean the defaults).
    pub fn settings_json(&self) -> Option<Value> {
        match &self.settings {
            Field::Absent => None,
            Field::Null => Some(Value::Null),
            Field::Present(settings) => Some(settings.render()),
            Field::WrongType(wrong) => Some(wrong.render()),
        }
    }

    /// The payload with `object` in place of the request's object.
    pub fn render_with_object(&self, object: Option<Value>) -> Value {
        let mut payload = Map::new();
        payload.insert("request".into(), self.request.render(object));
        if let Some(settings) = self.settings_json() {
            payload.insert("settings".into(), settings);
        }
        Value::Object(payload)
    }

    pub fn render(&self) -> Value {
        self.render_with_object(self.request.render_object())
    }

    /// Whether the settings turn mutation on (when they are valid at all).
    pub fn mutation_requested(&self) -> bool {
        matches!(&self.settings, Field::Present(s) if matches!(s.mutate, Field::Present(true)))
    }
}

impl AdmissionRequest {
    pub fn render_object(&self) -> Option<Value> {
        let mut object = Map::new();
        self.object
            .put(&mut object, "object", |w| w.render(self.kind));
        object.remove("object")
    }

    fn render(&self, object: Option<Value>) -> Value {
        let (group, version, kind) = self.kind.group_version_kind();
        let mut request = Map::new();
        request.insert("uid".into(), json!("705ab4f5-6393-11e8-b7cc-42010a800002"));
        if self.kind_left_out.0.is_some() {
            request.insert(
                "kind".into(),
                json!({"group": "", "version": "", "kind": ""}),
            );
        } else {
            request.insert(
                "kind".into(),
                json!({"group": group, "version": version, "kind": kind}),
            );
        }
        if let Some(operation) = self.operation.render() {
            request.insert("operation".into(), json!(operation));
        }
        if let Some(sub_resource) = &self.sub_resource.0 {
            request.insert(
                "subResource".into(),
                json!(sub_resource.pick(SUB_RESOURCES)),
            );
        }
        let old_object = match &self.old_object {
            OldObject::Absent => None,
            OldObject::Null => Some(Value::Null),
            OldObject::SameAsObject => object.clone(),
            OldObject::SameExceptStatus => object.clone().map(|mut old| {
                if let Some(map) = old.as_object_mut() {
                    map.insert("status".into(), json!({"phase": "Running"}));
                }
                old
            }),
            OldObject::Other(workload) => Some(workload.render(self.kind)),
        };
        if let Some(object) = object {
            request.insert("object".into(), object);
        }
        if let Some(old_object) = old_object {
            request.insert("oldObject".into(), old_object);
        }
        Value::Object(request)
    }
}

impl Workload {
    fn render(&self, kind: RequestKind) -> Value {
        let mut object = Map::new();
        object.insert("apiVersion".into(), json!(kind.api_version()));
        object.insert("kind".into(), json!(kind.group_version_kind().2));
        let template = || {
            let mut holder = Map::new();
            self.template
                .put(&mut holder, "template", PodTemplate::render);
            holder
        };
        let controller_spec =
            |mut spec: Map<String, Value>| match &self.controller_spec_wrong_type.0 {
                Some(wrong) => wrong.render(),
                None => {
                    spec.insert("replicas".into(), json!(1));
                    Value::Object(spec)
                }
            };
        match kind {
            RequestKind::Pod | RequestKind::Service => {
                object.insert(
                    "metadata".into(),
                    json!({"name": "pod", "namespace": "default"}),
                );
                // A pod is its template: metadata and spec at the top.
                if let Field::Present(template) = &self.template {
                    if let Value::Object(rendered) = template.render() {
                        object.extend(rendered);
                    }
                }
            }
            RequestKind::CronJob => {
                object.insert("metadata".into(), json!({"name": "cron"}));
                let job = json!({ "spec": Value::Object(template()) });
                let mut spec = Map::new();
                spec.insert("schedule".into(), json!("* * * * *"));
                spec.insert("jobTemplate".into(), job);
                object.insert("spec".into(), controller_spec(spec));
            }
            RequestKind::PodTemplate => {
                object.insert("metadata".into(), json!({"name": "template"}));
                object.extend(template());
            }
            _ => {
                object.insert("metadata".into(), json!({"name": "controller"}));
                object.insert("spec".into(), controller_spec(template()));
            }
        }
        Value::Object(object)
    }
}

impl PodTemplate {
    fn render(&self) -> Value {
        let mut template = Map::new();
        self.metadata.put(&mut template, "metadata", |metadata| {
            let mut map = Map::new();
            map.insert("labels".into(), json!({"app": "fuzz"}));
            metadata
                .annotations
                .put(&mut map, "annotations", |annotations| {
                    let mut rendered = Map::new();
                    for annotation in annotations {
                        annotation
                            .value
                            .put(&mut rendered, &annotation.key.render(), |v| {
                                json!(v.pick(ANNOTATION_PROFILES))
                            });
                    }
                    Value::Object(rendered)
                });
            Value::Object(map)
        });
        self.spec.put(&mut template, "spec", PodSpec::render);
        Value::Object(template)
    }
}

impl PodSpec {
    fn render(&self) -> Value {
        let mut spec = Map::new();
        self.security_context
            .put(&mut spec, "securityContext", PodSecurityContext::render);
        for (key, containers) in [
            ("initContainers", &self.init_containers),
            ("containers", &self.containers),
            ("ephemeralContainers", &self.ephemeral_containers),
        ] {
            containers.put(&mut spec, key, |items| {
                render_list(items, Container::render)
            });
        }
        self.volumes.put(&mut spec, "volumes", |items| {
            render_list(items, Volume::render)
        });
        self.host_network.put_bool(&mut spec, "hostNetwork");
        self.host_pid.put_bool(&mut spec, "hostPID");
        self.host_ipc.put_bool(&mut spec, "hostIPC");
        self.host_users.put_bool(&mut spec, "hostUsers");
        self.os.put(&mut spec, "os", |os| {
            let mut map = Map::new();
            put_word(&mut map, "name", &os.name, OS_NAMES);
            Value::Object(map)
        });
        Value::Object(spec)
    }
}

impl CommonSecurityContext {
    fn render_into(&self, map: &mut Map<String, Value>) {
        self.run_as_user.put(map, "runAsUser", Id::render);
        self.run_as_group.put(map, "runAsGroup", Id::render);
        self.run_as_non_root.put_bool(map, "runAsNonRoot");
        self.se_linux_options.put(map, "seLinuxOptions", |o| {
            let mut se = Map::new();
            put_word(&mut se, "user", &o.user, SE_LINUX_USERS);
            put_word(&mut se, "role", &o.role, SE_LINUX_ROLES);
            put_word(&mut se, "type", &o.type_, SE_LINUX_TYPES);
            put_word(&mut se, "level", &o.level, SE_LINUX_LEVELS);
            Value::Object(se)
        });
        self.seccomp_profile
            .put(map, "seccompProfile", Profile::render);
        self.app_armor_profile
            .put(map, "appArmorProfile", Profile::render);
        self.windows_options.put(map, "windowsOptions", |o| {
            let mut windows = Map::new();
            o.host_process.put_bool(&mut windows, "hostProcess");
            put_word(
                &mut windows,
                "runAsUserName",
                &o.run_as_user_name,
                WINDOWS_USER_NAMES,
            );
            Value::Object(windows)
        });
    }
}

impl Profile {
    fn render(&self) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "type", &self.type_, PROFILE_TYPES);
        put_word(
            &mut map,
            "localhostProfile",
            &self.localhost_profile,
            LOCALHOST_PROFILES,
        );
        Value::Object(map)
    }
}

impl PodSecurityContext {
    fn render(&self) -> Value {
        let mut map = Map::new();
        self.common.render_into(&mut map);
        self.fs_group.put(&mut map, "fsGroup", Id::render);
        self.supplemental_groups
            .put(&mut map, "supplementalGroups", |ids| {
                render_list(ids, Id::render)
            });
        self.sysctls.put(&mut map, "sysctls", |sysctls| {
            render_list(sysctls, |s| {
                let mut sysctl = Map::new();
                put_word(&mut sysctl, "name", &s.name, SYSCTL_NAMES);
                put_word(&mut sysctl, "value", &s.value, &["1", "0", "32768 60999"]);
                Value::Object(sysctl)
            })
        });
        Value::Object(map)
    }
}

impl ContainerSecurityContext {
    fn render(&self) -> Value {
        let mut map = Map::new();
        self.common.render_into(&mut map);
        self.privileged.put_bool(&mut map, "privileged");
        self.allow_privilege_escalation
            .put_bool(&mut map, "allowPrivilegeEscalation");
        self.capabilities.put(&mut map, "capabilities", |caps| {
            let mut rendered = Map::new();
            put_words(
                &mut rendered,
                "add",
                &caps.add,
                crate::settings_model::CAPABILITIES,
            );
            put_words(
                &mut rendered,
                "drop",
                &caps.drop,
                crate::settings_model::CAPABILITIES,
            );
            Value::Object(rendered)
        });
        self.read_only_root_filesystem
            .put_bool(&mut map, "readOnlyRootFilesystem");
        put_word(&mut map, "procMount", &self.proc_mount, PROC_MOUNTS);
        Value::Object(map)
    }
}

impl Handler {
    fn render(&self) -> Value {
        let mut map = Map::new();
        for (key, endpoint) in [("httpGet", &self.http_get), ("tcpSocket", &self.tcp_socket)] {
            endpoint.put(&mut map, key, |e| {
                let mut rendered = Map::new();
                rendered.insert("port".into(), json!(8080));
                put_word(&mut rendered, "host", &e.host, PROBE_HOSTS);
                Value::Object(rendered)
            });
        }
        Value::Object(map)
    }
}

impl Container {
    fn render(&self) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "name", &self.name, CONTAINER_NAMES);
        put_word(&mut map, "image", &self.image, IMAGES);
        self.security_context.put(
            &mut map,
            "securityContext",
            ContainerSecurityContext::render,
        );
        self.ports.put(&mut map, "ports", |ports| {
            render_list(ports, |p| {
                let mut port = Map::new();
                port.insert("containerPort".into(), json!(8080));
                p.host_port.put(&mut port, "hostPort", Id::render);
                Value::Object(port)
            })
        });
        for (key, probe) in [
            ("livenessProbe", &self.liveness_probe),
            ("readinessProbe", &self.readiness_probe),
            ("startupProbe", &self.startup_probe),
        ] {
            probe.put(&mut map, key, Handler::render);
        }
        self.lifecycle.put(&mut map, "lifecycle", |l| {
            let mut lifecycle = Map::new();
            l.post_start
                .put(&mut lifecycle, "postStart", Handler::render);
            l.pre_stop.put(&mut lifecycle, "preStop", Handler::render);
            Value::Object(lifecycle)
        });
        Value::Object(map)
    }
}

impl Volume {
    fn render(&self) -> Value {
        let mut map = Map::new();
        put_word(&mut map, "name", &self.name, &["data", "host", ""]);
        for (source, value) in &self.sources {
            value.put(&mut map, &source.pick(VOLUME_SOURCES), |with_path| {
                if *with_path {
                    json!({"path": "/var/run"})
                } else {
                    json!({})
                }
            });
        }
        Value::Object(map)
    }
}
