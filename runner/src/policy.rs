//! Loading a waPC policy module in wasmtime and calling it.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use wapc::WapcHost;
use wasmtime_provider::wasmtime;
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre,
};

use crate::admission::{admission_response, request_uid, AdmissionResponse};
use crate::error::{Error, Result};
use crate::host::HostCapabilities;
use crate::protocol::{SettingsValidationResponse, ValidationResponse};

/// What happens to the records a guest logs through the `kubewarden`
/// `tracing` `log` host call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GuestLogs {
    /// Drop them (default).
    #[default]
    Discard,
    /// Write each record, one JSON line, to stderr.
    Stderr,
}

/// Where a program keeps wasmtime's compilation cache: `$VAR` when set, else
/// `$XDG_CACHE_HOME/APP/wasmtime` or `~/.cache/APP/wasmtime`; `None` without a home.
pub fn cache_dir(var: &str, app: &str) -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(var) {
        return Some(dir.into());
    }
    let base = non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join(app).join("wasmtime"))
}

/// Default limit on the run time of one waPC call (see [`LoadOptions::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Granularity of the timeout: one epoch tick.
const TICK: Duration = Duration::from_millis(50);

/// How a module is loaded.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Directory of wasmtime's compilation cache. `None` compiles every time.
    /// A relative path is taken from the current directory.
    pub cache_dir: Option<PathBuf>,
    /// What to do with guest log records.
    pub guest_logs: GuestLogs,
    /// Longest a single call (or the instance's initialisation) may run
    /// before it is interrupted and fails with [`Error::Call`], so a guest
    /// stuck in a loop fails a test instead of hanging it. Implemented with
    /// wasmtime epoch interruption (50 ms ticks, one ticker thread per
    /// module). `None`: no limit. Default: [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Most bytes the guest's linear memory may grow to; a growth beyond fails in the guest,
    /// which aborts it. `None`: wasmtime's default (4 GiB for wasm32).
    pub max_memory: Option<usize>,
    /// Writes `/tmp/perf-<pid>.map` for the compiled code, so that `perf record` can name the
    /// guest's functions (`make profile`). Off by default.
    pub perf_map: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            cache_dir: None,
            guest_logs: GuestLogs::Discard,
            timeout: Some(DEFAULT_TIMEOUT),
            max_memory: None,
            perf_map: false,
        }
    }
}

struct ModuleInner {
    pre: WasmtimeEngineProviderPre,
    guest_logs: GuestLogs,
    deadlines: Option<EpochDeadlines>,
}

/// A compiled policy module. Compiling is the expensive step; instantiating
/// it ([`PolicyModule::instantiate`]) is cheap. `PolicyModule` is
/// `Send + Sync` and cheap to clone, so one compiled module can serve every
/// test thread, each with its own [`Policy`] instance.
#[derive(Clone)]
pub struct PolicyModule {
    inner: Arc<ModuleInner>,
}

// Compile-time check of the thread-safety promised above.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PolicyModule>();
};

impl std::fmt::Debug for PolicyModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyModule")
            .field("guest_logs", &self.inner.guest_logs)
            .finish_non_exhaustive()
    }
}

fn load_error(e: impl std::fmt::Display) -> Error {
    Error::Load(e.to_string())
}

/// Increments the engine's epoch every [`TICK`] for as long as the engine lives.
fn start_ticker(engine: &wasmtime::Engine) -> Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("policy-runner-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => break,
            }
        })
        .map(drop)
        .map_err(|e| Error::Load(format!("cannot start the epoch ticker thread: {e}")))
}

fn build_engine(options: &LoadOptions) -> Result<wasmtime::Engine> {
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(options.timeout.is_some());
    if options.perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if let Some(dir) = &options.cache_dir {
        let dir = std::path::absolute(dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let mut cache_config = wasmtime::CacheConfig::new();
        cache_config.with_directory(dir);
        let cache = wasmtime::Cache::new(cache_config).map_err(load_error)?;
        config.cache(Some(cache));
    }
    wasmtime::Engine::new(&config).map_err(load_error)
}

impl PolicyModule {
    /// Compiles the module in `bytes` (a `.wasm` binary).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with(bytes, &LoadOptions::default())
    }

    /// Compiles the module in `bytes` with `options`.
    pub fn from_bytes_with(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
        let engine = build_engine(options)?;
        let deadlines = options.timeout.map(|timeout| {
            // +1: the first tick may come right after the deadline is set.
            let ticks = timeout.as_millis().div_ceil(TICK.as_millis()) as u64 + 1;
            EpochDeadlines {
                wapc_init: ticks,
                wapc_func: ticks,
            }
        });
        if deadlines.is_some() {
            start_ticker(&engine)?;
        }
        let mut builder = WasmtimeEngineProviderBuilder::new()
            .engine(engine)
            .module_bytes(bytes);
        if let Some(max) = options.max_memory {
            builder = builder.enable_resource_limits(ResourceLimits {
                max_memory_size: Some(max),
                max_table_elements: None,
            });
        }
        let pre = builder.build_pre().map_err(load_error)?;
        Ok(PolicyModule {
            inner: Arc::new(ModuleInner {
                pre,
                guest_logs: options.guest_logs,
                deadlines,
            }),
        })
    }

    /// Reads and compiles the module at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_file_with(path, &LoadOptions::default())
    }

    /// Reads and compiles the module at `path` with `options`.
    pub fn from_file_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes_with(&bytes, options)
    }

    /// A fresh instance of the module, its waPC `wapc_init` already run. It has no host
    /// capabilities until [`Policy::set_host_capabilities`].
    pub fn instantiate(&self) -> Result<Policy> {
        let capabilities = Arc::new(Mutex::new(HostCapabilities::default()));
        Ok(Policy {
            host: RefCell::new(self.new_host(Arc::clone(&capabilities))?),
            module: self.clone(),
            capabilities,
        })
    }

    fn new_host(&self, capabilities: Arc<Mutex<HostCapabilities>>) -> Result<WapcHost> {
        let provider = self
            .inner
            .pre
            .rehydrate(self.inner.deadlines)
            .map_err(load_error)?;
        let guest_logs = self.inner.guest_logs;
        let callback =
            move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
                host_callback(
                    guest_logs,
                    &capabilities,
                    binding,
                    namespace,
                    operation,
                    payload,
                )
            };
        WapcHost::new(Box::new(provider), Some(Box::new(callback))).map_err(load_error)
    }
}

type HostCallResult = std::result::Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;

/// Answers the host calls a Kubewarden guest may make: logging is accepted; Kubernetes, OCI
/// and DNS calls are answered by the instance's [`HostCapabilities`] (a replay session);
/// everything else is refused.
fn host_callback(
    guest_logs: GuestLogs,
    capabilities: &Mutex<HostCapabilities>,
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> HostCallResult {
    match (binding, namespace, operation) {
        ("kubewarden", "tracing", "log") => {
            if guest_logs == GuestLogs::Stderr {
                eprintln!("{}", String::from_utf8_lossy(payload));
            }
            Ok(Vec::new())
        }
        ("kubewarden", "kubernetes" | "oci" | "net", _) => capabilities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .answer(namespace, operation, payload)
            .map_err(Into::into),
        _ => Err(format!(
            "host capability {binding}/{namespace}/{operation} is not supported by policy-runner"
        )
        .into()),
    }
}

/// One instance of a policy module, ready to answer waPC calls.
///
/// Calls take `&self` (the instance sits in a `RefCell`), so a `Policy` can
/// live in a `thread_local!`. It is not `Send`: make one per thread from a
/// shared [`PolicyModule`].
///
/// After any failed call the instance is replaced by a fresh one, since a
/// trap can leave the guest's memory in an inconsistent state; this costs
/// an instantiation, not a compilation.
pub struct Policy {
    host: RefCell<WapcHost>,
    module: PolicyModule,
    /// Shared with the host callback, and kept when the instance is renewed.
    capabilities: Arc<Mutex<HostCapabilities>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("id", &self.host.borrow().id())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ValidatePayload<'a> {
    request: &'a Value,
    settings: &'a Value,
}

impl Policy {
    /// Compiles and instantiates the module at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        PolicyModule::from_file(path)?.instantiate()
    }

    /// Compiles and instantiates the module in `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        PolicyModule::from_bytes(bytes)?.instantiate()
    }

    /// The compiled module this instance comes from.
    pub fn module(&self) -> &PolicyModule {
        &self.module
    }

    /// Identifier of the current instance (the waPC host id); it changes
    /// when the instance is renewed.
    pub fn instance_id(&self) -> u64 {
        self.host.borrow().id()
    }

    /// Replaces the instance by a fresh one (clean memory, `wapc_init` run).
    pub fn reinstantiate(&self) -> Result<()> {
        let host = self.module.new_host(Arc::clone(&self.capabilities))?;
        *self.host.borrow_mut() = host;
        Ok(())
    }

    /// What the host answers the guest's Kubernetes, OCI and DNS calls with from now on.
    pub fn set_host_capabilities(&self, capabilities: HostCapabilities) {
        *self.host_capabilities() = capabilities;
    }

    /// The host capabilities, e.g. to see how much of a replay session was used.
    pub fn host_capabilities(&self) -> MutexGuard<'_, HostCapabilities> {
        self.capabilities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Raw waPC call: the guest's answer bytes, or [`Error::Call`] when the
    /// guest fails, traps or does not export `operation`.
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>> {
        let outcome = self.host.borrow().call(operation, payload);
        outcome.map_err(|e| {
            let mut message = e.to_string();
            if let Err(reset) = self.reinstantiate() {
                message.push_str(&format!(
                    " (and the instance could not be renewed: {reset})"
                ));
            }
            Error::Call {
                operation: operation.to_owned(),
                message,
            }
        })
    }

    fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        payload: &[u8],
    ) -> Result<T> {
        let answer = self.call(operation, payload)?;
        serde_json::from_slice(&answer).map_err(|source| Error::Answer {
            operation: operation.to_owned(),
            source,
        })
    }

    /// The guest's `protocol_version` answer, e.g. `"v1"`.
    pub fn protocol_version(&self) -> Result<String> {
        self.call_json("protocol_version", b"")
    }

    /// Calls `validate_settings` with `settings_json` (the settings object).
    pub fn validate_settings(&self, settings_json: &str) -> Result<SettingsValidationResponse> {
        self.call_json("validate_settings", settings_json.as_bytes())
    }

    /// Calls `validate` with the payload
    /// `{"request": <request_json>, "settings": <settings_json>}`, where
    /// `request_json` is the AdmissionRequest (not the review). The texts
    /// are spliced, not re-parsed: malformed JSON comes back as the guest's
    /// error.
    pub fn validate(&self, request_json: &str, settings_json: &str) -> Result<ValidationResponse> {
        let mut payload = String::with_capacity(request_json.len() + settings_json.len() + 26);
        payload.push_str("{\"request\":");
        payload.push_str(request_json);
        payload.push_str(",\"settings\":");
        payload.push_str(settings_json);
        payload.push('}');
        self.call_json("validate", payload.as_bytes())
    }

    /// [`Policy::validate`] for already parsed values.
    pub fn validate_value(&self, request: &Value, settings: &Value) -> Result<ValidationResponse> {
        let payload = serde_json::to_vec(&ValidatePayload { request, settings })
            .map_err(|e| Error::Input(format!("cannot serialise the validate payload: {e}")))?;
        self.call_json("validate", &payload)
    }

    /// What `kwctl run` does once settings are validated: calls `validate`
    /// and builds the AdmissionResponse; a failed evaluation becomes a
    /// rejection with code 500 (`internal server error: ...`).
    pub fn evaluate(&self, request: &Value, settings: &Value) -> AdmissionResponse {
        match self.validate_value(request, settings) {
            Ok(answer) => admission_response(request, &answer),
            Err(e) => AdmissionResponse::internal_server_error(request_uid(request), e),
        }
    }
}
