# Kubewarden policy conventions: policy.wasm, annotated-policy.wasm, fmt, lint, test, e2e-tests.
#   make examples   build the policy and print its decision on every example in test_data/
#   make test       the whole suite: fmt, clippy, unit and integration tests (through
#                   policy.wasm in wasmtime), the upstream conformance fixtures, e2e.bats

SOURCES := $(shell find src -name '*.rs') Cargo.toml $(wildcard Cargo.lock)
RUNNER := target/debug/policy-runner
# The real kwctl when installed, this repo's runner (same arguments, same output) otherwise.
KWCTL ?= $(shell command -v kwctl 2>/dev/null || echo $(CURDIR)/$(RUNNER))

.PHONY: setup fmt lint test unit-tests conformance e2e-tests examples bench profile fuzz runner playground serve-playground playground-tests clean

setup:
	@scripts/setup.sh

policy.wasm: $(SOURCES)
	scripts/build-wasm.sh security-context-policy $@

annotated-policy.wasm: policy.wasm metadata.yml README.md
	@command -v kwctl >/dev/null || { echo "annotated-policy.wasm needs kwctl (https://github.com/kubewarden/kwctl)"; exit 1; }
	kwctl annotate -m metadata.yml -u README.md -o $@ policy.wasm

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

runner:
	cargo build --quiet -p policy-runner

# Native unit and integration tests, then the same examples and the upstream conformance
# fixtures through policy.wasm (POLICY_WASM tells the tests where it is), in one cargo run; the
# conformance and mutation-property figures are printed after it.
unit-tests: policy.wasm
	rm -rf target/tmp/summaries
	POLICY_WASM=$(CURDIR)/policy.wasm cargo test --workspace
	@cat target/tmp/summaries/*.txt 2>/dev/null || true

# The conformance fixtures alone, printing their count.
conformance: policy.wasm
	POLICY_WASM=$(CURDIR)/policy.wasm cargo test --workspace \
		--test conformance_wasm --test mutation_properties -- --nocapture

# The real kwctl grants context-aware access (--allow-context-aware) only to what the module's
# metadata declares, so with kwctl installed the annotated module is the one tested.
E2E_POLICY := $(if $(shell command -v kwctl 2>/dev/null),annotated-policy.wasm,policy.wasm)
e2e-tests: setup $(E2E_POLICY) runner
	KWCTL="$(KWCTL)" POLICY="$(E2E_POLICY)" bats e2e.bats

# The browser playground (playground/): build it, serve it, test it in headless Chromium.
playground:
	scripts/build-playground.sh

serve-playground: playground
	@echo "playground at http://127.0.0.1:8000/"
	python3 -m http.server --bind 127.0.0.1 --directory playground/www 8000

playground-tests: setup playground
	cd playground/tests && npm install --silent --no-audit --no-fund && node --test

test: setup fmt lint unit-tests e2e-tests playground-tests

# Coverage-guided fuzzing (nightly toolchain, cargo-fuzz) for a bounded time per target.
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Figures, not pass/fail: see examples/bench/main.rs.
bench: policy.wasm
	scripts/build-wasm.sh floor-policy target/floor-policy.wasm
	cargo run --quiet --profile runner -p security-context-policy --example bench -- policy.wasm target/floor-policy.wasm

# Where a fresh-instance validate spends its time (perf, guest functions by name): see
# scripts/profile-fresh.sh. PAYLOAD=fresh2.json profiles the bench's row (ii).
PAYLOAD ?= fresh1.json
profile: policy.wasm
	scripts/profile-fresh.sh $(PAYLOAD)

examples: policy.wasm runner
	$(RUNNER) examples --cases test_data/cases.json policy.wasm

clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
