# Kubewarden policy conventions: policy.wasm, annotated-policy.wasm, fmt, lint, test, e2e-tests.
#   make examples   build the policy and print its decision on every example in test_data/
#   make test       the whole suite: fmt, clippy, unit and integration tests (through
#                   policy.wasm in wasmtime, the CLI's among them), the upstream conformance
#                   fixtures, e2e.bats, policy-server.bats (the real policy-server), the playground

SOURCES := $(shell find src -name '*.rs') Cargo.toml $(wildcard Cargo.lock)
RUNNER := target/debug/policy-runner
# The real kwctl: on PATH, or ../shared/kwctl/kwctl beside this clone; empty when there is none
# (`make e2e-tests KWCTL=` runs e2e.bats under the runner only).
KWCTL ?= $(or $(shell command -v kwctl 2>/dev/null),$(wildcard $(abspath $(CURDIR)/../shared/kwctl/kwctl)))

.PHONY: setup fmt lint test unit-tests conformance e2e-tests examples bench cli profile fuzz runner playground serve-playground playground-tests clean sessions sessions-check

setup:
	@scripts/setup.sh

policy.wasm: $(SOURCES)
	scripts/build-wasm.sh security-context-policy $@

annotated-policy.wasm: policy.wasm metadata.yml README.md
	@test -n "$(KWCTL)" || { echo "annotated-policy.wasm needs kwctl (https://github.com/kubewarden/kwctl)"; exit 1; }
	"$(KWCTL)" annotate -m metadata.yml -u README.md -o $@ policy.wasm

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets -- -D warnings

runner:
	cargo build --quiet -p policy-runner

# The command-line tool (cli/), target/release/security-context-policy, with the release
# policy.wasm embedded (cli/build.rs). The release profile's fat LTO and single codegen unit are
# for the wasm module; over wasmtime they would take very long, so this build turns them off.
CLI_PROFILE_ENV := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
cli: policy.wasm
	$(CLI_PROFILE_ENV) cargo build --release -p security-context-policy-cli

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

# e2e.bats under this repo's runner (policy.wasm), then, whenever there is a real kwctl, under it
# too: with the module that kwctl annotated (it grants host capabilities only to what the
# metadata declares), a kubeconfig whose server, on loopback, is never reached (kwctl builds a
# Kubernetes client even to replay sessions), through scripts/kwctl-offline.sh (so that it does
# not fetch Sigstore's trust root from the internet). Both runs always run; either failing fails.
# REQUIRE_REAL_KWCTL=1 (CI) makes a missing kwctl an error.
E2E_KUBECONFIG := target/e2e/kubeconfig
e2e-tests: setup policy.wasm runner $(if $(KWCTL),annotated-policy.wasm $(E2E_KUBECONFIG))
	@status=0; \
	echo "e2e-tests: e2e.bats under policy-runner"; \
	KWCTL="$(CURDIR)/$(RUNNER)" POLICY=policy.wasm bats e2e.bats || status=1; \
	if [ -n "$(KWCTL)" ]; then \
		echo "e2e-tests: e2e.bats under kwctl ($(KWCTL), $$("$(KWCTL)" --version | head -n1))"; \
		KWCTL="$(CURDIR)/scripts/kwctl-offline.sh" KWCTL_BIN="$(KWCTL)" \
			KUBECONFIG="$(CURDIR)/$(E2E_KUBECONFIG)" POLICY=annotated-policy.wasm \
			bats e2e.bats || status=1; \
	elif [ -n "$(REQUIRE_REAL_KWCTL)" ]; then \
		echo "e2e-tests: no kwctl (on PATH or ../shared/kwctl/kwctl), and REQUIRE_REAL_KWCTL is set"; \
		status=1; \
	else \
		echo "e2e-tests: no kwctl (on PATH or ../shared/kwctl/kwctl): e2e.bats ran under the runner only"; \
	fi; \
	echo "e2e-tests: end of the e2e.bats runs"; \
	exit $$status

# policy-server.bats: the annotated module served by the real Kubewarden policy-server
# (../shared/policy-server/policy-server, or POLICY_SERVER=...) on loopback, with the API
# stand-in (tests/apiserver/) as its cluster, its answers compared with kwctl's; see
# scripts/policy-server.sh. REQUIRE_REAL_KWCTL=1 (CI) makes a missing policy-server or kwctl an
# error; otherwise they are skipped with a message.
POLICY_SERVER ?= $(or $(shell command -v policy-server 2>/dev/null),$(wildcard $(abspath $(CURDIR)/../shared/policy-server/policy-server)))
.PHONY: policy-server-tests bench-policy-server
policy-server-tests: setup $(if $(and $(POLICY_SERVER),$(KWCTL)),annotated-policy.wasm)
	@if [ -z "$(POLICY_SERVER)" ] || [ -z "$(KWCTL)" ]; then \
		if [ -n "$(REQUIRE_REAL_KWCTL)" ]; then \
			echo "policy-server-tests: needs policy-server (../shared/policy-server/policy-server or POLICY_SERVER) and kwctl, and REQUIRE_REAL_KWCTL is set"; exit 1; \
		fi; \
		echo "policy-server-tests: skipped: no policy-server (../shared/policy-server/policy-server or POLICY_SERVER) or no kwctl"; exit 0; \
	fi; \
	echo "policy-server-tests: policy-server.bats under $$("$(POLICY_SERVER)" --version | head -n1)"; \
	status=0; POLICY_SERVER="$(POLICY_SERVER)" KWCTL_BIN="$(KWCTL)" bats policy-server.bats || status=1; \
	echo "policy-server-tests: end of policy-server.bats"; \
	exit $$status

# Figures, not pass/fail: the floor and the project in one standalone policy-server under
# bounded load (scripts/bench-policy-server.sh).
bench-policy-server: annotated-policy.wasm
	scripts/build-wasm.sh floor-policy target/floor-policy.wasm
	POLICY_SERVER="$(POLICY_SERVER)" KWCTL_BIN="$(KWCTL)" scripts/bench-policy-server.sh

$(E2E_KUBECONFIG):
	mkdir -p $(@D)
	printf '%s\n' 'apiVersion: v1' 'kind: Config' 'clusters:' '  - name: unreachable' \
		'    cluster: {server: "http://127.0.0.1:9"}' 'contexts:' '  - name: unreachable' \
		'    context: {cluster: unreachable, user: nobody}' 'current-context: unreachable' \
		'users:' '  - name: nobody' '    user: {}' >$@

# Re-record the host-capabilities sessions of test_data/sessions/ with the real kwctl, or check
# that they are what it records (see scripts/record-sessions.sh).
sessions:
	KWCTL_BIN="$(KWCTL)" scripts/record-sessions.sh

sessions-check:
	KWCTL_BIN="$(KWCTL)" scripts/record-sessions.sh --check

# The browser playground (playground/): build it, serve it, test it in headless Chromium.
playground:
	scripts/build-playground.sh

serve-playground: playground
	@echo "playground at http://127.0.0.1:8000/"
	python3 -m http.server --bind 127.0.0.1 --directory playground/www 8000

playground-tests: setup playground
	cd playground/tests && npm install --silent --no-audit --no-fund && node --test

test: setup fmt lint unit-tests e2e-tests policy-server-tests playground-tests

# Coverage-guided fuzzing (nightly toolchain, cargo-fuzz) for a bounded time per target.
FUZZ_SECONDS ?= 60
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

# Figures, not pass/fail: see examples/bench/main.rs, then the CLI's (cli/examples/bench_check.rs:
# 10,000 objects through `security-context-policy check`, against the module's own time and kwctl).
bench: policy.wasm cli
	scripts/build-wasm.sh floor-policy target/floor-policy.wasm
	cargo run --quiet --profile runner -p security-context-policy --example bench -- policy.wasm target/floor-policy.wasm
	$(CLI_PROFILE_ENV) KWCTL="$(KWCTL)" cargo run --quiet --release -p security-context-policy-cli \
		--example bench_check -- target/release/security-context-policy policy.wasm
	$(MAKE) --no-print-directory bench-policy-server

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
