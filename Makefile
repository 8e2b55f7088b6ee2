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

test: setup lint
	$(CARGO) test --locked
