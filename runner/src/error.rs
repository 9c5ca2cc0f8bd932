//! The error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong while loading or calling a policy.
///
/// Guest failures (a handler returning an error, a trap such as a panic in
/// the guest, a missing export) come back as [`Error::Call`], never as a
/// panic of the host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The module could not be compiled, linked or initialised.
    #[error("cannot load policy module: {0}")]
    Load(String),

    /// A waPC call failed: the guest returned an error or trapped, or the
    /// function is not exported.
    #[error("waPC call `{operation}` failed: {message}")]
    Call { operation: String, message: String },

    /// The guest answered with something that is not the expected JSON.
    #[error("cannot parse the answer of `{operation}`: {source}")]
    Answer {
        operation: String,
        #[source]
        source: serde_json::Error,
    },

    /// An input (request, settings, payload) is not what is expected.
    #[error("{0}")]
    Input(String),
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
