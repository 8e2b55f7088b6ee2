# The README's two commands: `make demo` runs the demo, `make test` runs every test.
# Both install what they need first (scripts/setup.sh, idempotent).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup lint test demo docs bench

setup:
	@scripts/setup.sh

lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# cargo-nextest runs every test binary at once (the end-to-end tests mostly wait on
# processes); plain `cargo test` when it is not installed.
RUN_TESTS := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo "nextest run --test-threads 6 --no-fail-fast" || echo test)

# End-to-end suites run a second time against the other Terraform (the PyPI wheel's 1.15).
TF_SUITES := --test container_lifecycle --test container_changes --test data_sources --test bad_input --test secrets \
             --test snapshots_and_groups --test docker_apps --test examples --test packaging --test fidelity --test firewall_fields --test faults --test cluster_identity --test reaching_hosts --test real_lxc \
             --test templates --test backups --test backup_schedules

# The simulator is its own crate (sim/): build its binary before the tests that start it, with
# the workspace's features (as the demo does): `-p lws-sim` alone unifies fewer features, and the
# demo test's build would then relink target/debug/lws-sim under the simulators other tests run.
test: setup lint
	@echo "test: building the provider, the simulator and the tests (the first build takes a few minutes on 2 cores), then running every test"
	$(CARGO) build --locked --workspace --bins
	$(CARGO) $(RUN_TESTS) --locked --workspace
	LWS_TEST_TERRAFORM=wheel $(CARGO) $(RUN_TESTS) --locked $(TF_SUITES)

demo: setup
	@scripts/demo.sh

# Regenerate docs/ from the provider's schema and examples/ (a test fails when they differ).
docs:
	$(CARGO) run --quiet --bin terraform-provider-lws -- docs .

# Not a test: measures refresh, create and process figures against the simulator with
# Proxmox-like latency, prints a table and writes target/bench/summary.json.
bench: setup
	$(CARGO) build --locked --release -p lws-sim
	$(CARGO) bench --locked --bench scale
