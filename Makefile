# Couponflow: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist processes for `make test` (each test module stays on one): one per core and one
# more, as the end-to-end modules spend much of their time waiting on the local stack (SES's
# pacing, schedules, pollers) and the extra process fills that idle time (on 2 cores, pytest took
# 7 min 19 s with three against 8 min 39 s with two, the same clone, every test passing).
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print((os.cpu_count() or 1) + 1)")

.PHONY: run test lint typecheck unit package bench drill lock clean browser scan deploy openapi fuzz

# Create the virtualenv and install (editable, with dev tools) on first use or when the pins change:
# every dependency at the version constraints.txt pins.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -c constraints.txt
	touch $(STAMP)

# The scheduled upgrade: the newest versions pyproject.toml allows, in a fresh virtualenv, frozen
# into constraints.txt; then the whole suite on them (review moto_patches if moto moved).
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --upgrade pip
	build/lock-venv/bin/pip install --quiet -e '.[dev]'
	head -3 constraints.txt > build/constraints.txt
	build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^couponflow' >> build/constraints.txt
	mv build/constraints.txt constraints.txt
	$(MAKE) test

# `make run ARGS="--faults 0.1"` passes flags to the local stack (`python -m local_stack --help`).
run: $(STAMP)
	$(BIN)/python -m local_stack $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy

# The coupon-page end-to-end test drives a real headless browser: Debian's chromium.
# ... and the console's accessibility check runs axe-core (pinned, from npm) in it.
AXE_VERSION := 4.10.3
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	@test -f build/axe/axe.min.js || (mkdir -p build/axe && cd build/axe && npm pack axe-core@$(AXE_VERSION) --silent >/dev/null \
		&& tar xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js && mv package/axe.min.js . && rm -rf package *.tgz)

# The template scan (a virtualenv to install on first use) runs beside the test suite.
test: lint typecheck browser
	@mkdir -p build
	$(MAKE) --no-print-directory scan > build/scan.log 2>&1 & scan=$$!; \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile; tests=$$?; \
	wait $$scan; scanned=$$?; cat build/scan.log; \
	test $$tests -eq 0 && test $$scanned -eq 0

# The deploy and scan tools (SAM CLI, checkov), pinned, apart from the project's virtualenv.
TOOLS := build/tools-venv
$(TOOLS)/.installed: infra/tools-requirements.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet -r infra/tools-requirements.txt
	touch $@

# `sam validate --lint` and the IaC security scan (findings kept are justified in template.yaml).
scan: $(TOOLS)/.installed
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(TOOLS)/bin/sam validate --lint --template-file template.yaml
	$(TOOLS)/bin/checkov --config-file .checkov.yaml --file template.yaml

# Build without Docker or python3.12 (binary wheels for the Lambda platform), deploy, then upload
# the console: `make deploy STACK=couponflow ARGS=--guided` the first time (docs/deploy.md).
STACK ?= couponflow
deploy: package $(TOOLS)/.installed
	SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam deploy --template-file build/package/template.packaged.yaml \
		--stack-name $(STACK) --resolve-s3 --capabilities CAPABILITY_IAM $(ARGS)
	$(TOOLS)/bin/python infra/publish_console.py --stack $(STACK)

# The OpenAPI document and the API reference, from the routes and models (a test checks drift).
openapi: $(STAMP)
	$(BIN)/python infra/openapi_docs.py

# The API fuzzer at length: many examples per route, a random seed (make test runs a bounded one).
fuzz: $(STAMP)
	COUPONFLOW_FUZZ_EXAMPLES=$${COUPONFLOW_FUZZ_EXAMPLES:-200} COUPONFLOW_FUZZ_SEED= \
		$(BIN)/pytest tests/e2e/test_api_fuzz.py --timeout 3600

package: $(STAMP)
	$(BIN)/python infra/package.py --out build/package

bench: $(STAMP)
	$(BIN)/python -m bench

# Claims, a segment send and SES events at 0% and 10% injected AWS faults: one row per run.
drill: $(STAMP)
	$(BIN)/python -m local_stack.drill $(ARGS)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
