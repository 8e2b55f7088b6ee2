# The README's two commands: `make demo` runs the demo, `make test` runs every test.
# Both install what they need first (scripts/setup.sh, idempotent).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: setup lint test demo

setup:
	@scripts/setup.sh

lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# End-to-end suites run a second time against the other Terraform (the PyPI wheel's 1.15).
TF_SUITES := --test container_lifecycle --test bad_input --test secrets

test: setup lint
	$(CARGO) test --locked
	LWS_TEST_TERRAFORM=wheel $(CARGO) test --locked $(TF_SUITES)

demo: setup
	@scripts/demo.sh
