#!/usr/bin/env bash
# Runs the real kwctl ($KWCTL_BIN) so that it talks to loopback only. `kwctl run` fetches
# Sigstore's trust root from the internet at every start (to verify signed policies, which
# local runs never need); given one of its own with --sigstore-trust-config it fetches nothing.
# tests/kwctl/offline-trust-config.json is such a root: a throwaway certificate whose key was
# discarded, and URLs on 127.0.0.1:9, where nothing listens. It also clears RUST_BACKTRACE, which
# would otherwise put stack traces into the host errors kwctl records (KWCTL_KEEP_RUST_BACKTRACE=1
# keeps it: e2e.bats checks that the policy leaves them out of its messages).
#   KWCTL_BIN=../shared/kwctl/kwctl scripts/kwctl-offline.sh run ...
set -euo pipefail
: "${KWCTL_BIN:?KWCTL_BIN must name the kwctl binary}"
trust="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/kwctl/offline-trust-config.json"
if [ -z "${KWCTL_KEEP_RUST_BACKTRACE:-}" ]; then
    unset RUST_BACKTRACE RUST_LIB_BACKTRACE
fi
if [ "${1:-}" = run ]; then
    shift
    exec "$KWCTL_BIN" run --sigstore-trust-config "$trust" "$@"
fi
exec "$KWCTL_BIN" "$@"
