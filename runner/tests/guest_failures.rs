//! Guests that misbehave: traps and endless loops come back as errors.
//! The modules are written in WAT (wasmtime accepts the text format).

use std::time::{Duration, Instant};

use policy_runner::{Error, LoadOptions, Policy, PolicyModule};

/// A waPC guest whose every call traps (`unreachable`, what a panic in a
/// `panic = "abort"` Rust guest ends in).
const TRAPPING_GUEST: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "wapc_init"))
  (func (export "__guest_call") (param i32 i32) (result i32)
    unreachable))
"#;

/// A waPC guest whose every call loops forever.
const LOOPING_GUEST: &str = r#"
(module
  (memory (export "memory") 1)
  (func (export "wapc_init"))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    i32.const 1))
"#;

#[test]
fn a_trap_is_an_error_and_the_instance_is_renewed() {
    let policy = Policy::from_bytes(TRAPPING_GUEST.as_bytes()).expect("loads");
    for _ in 0..3 {
        let before = policy.instance_id();
        let outcome = policy.call("validate", b"{}");
        assert_ne!(policy.instance_id(), before, "the instance was not renewed");
        match outcome {
            Err(Error::Call { operation, message }) => {
                assert_eq!(operation, "validate");
                // wasmtime-provider keeps only the top of wasmtime's error
                // chain: "error while executing at wasm backtrace: ...".
                assert!(message.contains("wasm"), "{message}");
            }
            other => panic!("expected a call error, got {other:?}"),
        }
    }
    assert!(policy.protocol_version().is_err());
}

#[test]
fn an_endless_loop_is_interrupted() {
    let options = LoadOptions {
        timeout: Some(Duration::from_millis(200)),
        ..LoadOptions::default()
    };
    let module = PolicyModule::from_bytes_with(LOOPING_GUEST.as_bytes(), &options).unwrap();
    let policy = module.instantiate().unwrap();
    let start = Instant::now();
    let err = policy.call("validate", b"{}").unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(err, Error::Call { .. }), "{err:?}");
    assert!(err.to_string().contains("deadline"), "{err}");
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
