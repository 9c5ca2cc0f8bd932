//! policy.wasm's size budget. A module's size is deterministic for a given source and toolchain,
//! and wasmtime's compile time, what policy-server pays on every load and reload of the policy
//! (the cold start of docs/performance.md), grows with it, so the size is held to a budget.

mod support;

/// The most bytes `policy.wasm` may have, as `scripts/build-wasm.sh` builds it (Debian's
/// toolchain, std built with -Zbuild-std, wasm-opt -O3; a rustup build, whose std comes
/// prebuilt, is larger and is not what this budget measures).
///
/// Why this value: 2026-12-06, with std built with optimize_for_size (scripts/build-wasm.sh),
/// the module was 591,404 bytes (617,086 before it); the budget is that plus 2% for ordinary
/// changes. The goal is 450 KB with requests no slower: no build flag gets there
/// (LLVM inlining less: 485 KB but validate +7 µs per request; opt-level "z": 461 KB, (i)
/// 1.45x the floor), so the rest must come from the code: settings-only code kept off the
/// request path, hand-written readers for the largest settings types. Lower the budget as it
/// shrinks.
///
/// The budget may rise only with a reason written here, beside it: what grew, by how much, and
/// why that is worth the cold start (measure it with `make bench`).
const BUDGET_BYTES: u64 = 603_000;

#[test]
fn policy_wasm_fits_its_size_budget() {
    let Some(path) = support::policy_wasm() else {
        return;
    };
    let size = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len();
    eprintln!(
        "{}: {size} bytes, budget {BUDGET_BYTES} bytes",
        path.display()
    );
    assert!(
        size <= BUDGET_BYTES,
        "{} is {size} bytes ({:.1} KB), over its budget of {BUDGET_BYTES} bytes ({:.1} KB) by \
         {} bytes: make it smaller, or raise BUDGET_BYTES in tests/module_size.rs with the \
         reason written beside it",
        path.display(),
        size as f64 / 1000.0,
        BUDGET_BYTES as f64 / 1000.0,
        size - BUDGET_BYTES,
    );
}
