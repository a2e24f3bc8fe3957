# GreenSprout developer commands. `make run` serves the API locally, `make test` runs the tests.
# Every target bootstraps first: the recipes install what a fresh machine lacks, and skip what is in place.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:  # the install steps may all call apt-get, which takes one lock
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
LOCAL_INFRA := infra/local
EXAMPLE := miniprogram_api/example
PYTEST_ARGS ?=

# apt-get install as root, or through sudo when we are not root.
define apt_install
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	echo "==> apt-get install $(1)"
	$$sudo apt-get update -qq
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)
endef

.PHONY: help bootstrap venv python-deps node-deps java cjk-font chromium run test lint bench clean

help:
	@echo "make run        the API on http://127.0.0.1:8000 with DynamoDB Local and fake partners"
	echo "make test       the test suite (PYTEST_ARGS='-k login' to pick)"
	echo "make lint       ruff, then cfn-lint on the packaged templates (make package)"
	echo "make package    the deployable CloudFormation template and zip of dev and prod (build/package-*)"
	echo "make policy     regenerate .chalice/policy-*.json from the models and the code's DynamoDB calls"
	echo "make bench      speed, DynamoDB calls and cold start against raw baselines (.bench/latest.json)"
	echo "make capacity   measure every operation and job at steady state, rewrite docs/capacity.md's tables"
	echo "make soak       10 minutes of mixed load with DynamoDB faults, then the invariants (SOAK_SECONDS=60 to shorten)"
	echo "make bootstrap  install what is missing (venv, Python packages, DynamoDB Local, Swagger UI, Java, a CJK font)"
	echo "make clean      forget local data (.local/)"

bootstrap: python-deps node-deps java cjk-font

venv:
	@if [ -x $(PYTHON) ] && $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	  exit 0
	fi
	py=$$(command -v python3.11 || true)
	if [ -z "$$py" ] && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
	  py=$$(command -v python3)
	fi
	if [ -z "$$py" ]; then echo "make bootstrap: Python 3.11 is needed (python3.11, or a python3 that is 3.11)" >&2; exit 1; fi
	echo "==> creating $(VENV) with $$py"
	rm -rf $(VENV)
	"$$py" -m venv $(VENV)

python-deps: venv
	@stamp=$(VENV)/.requirements.sha256
	hash=$$(sha256sum requirements*.txt | sha256sum | cut -d' ' -f1)
	if [ "$$(cat $$stamp 2>/dev/null)" = "$$hash" ]; then exit 0; fi
	echo "==> pip install -r requirements-dev.txt"
	$(PYTHON) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	echo "$$hash" > $$stamp

# npm ci in a folder when its package-lock.json changed (a stamp in its node_modules): $(call npm_ci,DIR,WHY)
define npm_ci
stamp=$(1)/node_modules/.greensprout-lock.sha256
hash=$$(sha256sum $(1)/package-lock.json | cut -d' ' -f1)
if [ "$$(cat $$stamp 2>/dev/null)" = "$$hash" ]; then exit 0; fi
if ! command -v npm >/dev/null; then
  $(call apt_install,nodejs npm)
fi
echo "==> npm ci in $(1) ($(2))"
(cd $(1) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$$hash" > $$stamp
endef

node-deps: example-node-deps
	@$(call npm_ci,$(LOCAL_INFRA),DynamoDB Local and Swagger UI for /docs)

# The reference mini program's packages: uqrcodejs (its QR codes) and, for its tests, miniprogram-simulate and jsdom
# (tests/contract/test_miniprogram_example.py, tests/integration/test_miniprogram_example.py).
.PHONY: example-node-deps
example-node-deps:
	@$(call npm_ci,$(EXAMPLE),the mini program's QR library and miniprogram-simulate for its tests)

java:
	@java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 || true; }
	major=$$(java_major)
	if [ -n "$$major" ] && [ "$$major" -ge 17 ]; then exit 0; fi
	echo "==> DynamoDB Local needs Java 17+ (found: $${major:-none})"
	$(call apt_install,default-jre-headless)
	major=$$(java_major)
	if [ -z "$$major" ] || [ "$$major" -lt 17 ]; then
	  echo "make bootstrap: installed default-jre-headless, but \`java\` on PATH is still too old (major version: $${major:-none})" >&2
	  exit 1
	fi

# Chinese labels on `python -m admin report --chart` (admin/charts.py); small (5 MB).
cjk-font:
	@if command -v fc-list >/dev/null && [ -n "$$(fc-list :lang=zh family)" ]; then exit 0; fi
	$(call apt_install,fonts-wqy-microhei fontconfig)

# Only `make test` needs a browser (tests/integration/test_api_docs.py renders /docs): `make run` never waits for it.
chromium:
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then exit 0; fi
	$(call apt_install,--no-install-recommends chromium)

run: bootstrap
	@$(PYTHON) -m infra.local.stack

test: bootstrap chromium
	@$(PYTHON) -m pytest $(PYTEST_ARGS)

bench: bootstrap package  # package_mb is the size of the zip `make package` builds
	@$(PYTHON) -m bench

# The capacity plan: measures on its own DynamoDB Local (several minutes), then rewrites docs/capacity.md's tables.
.PHONY: capacity
capacity: bootstrap
	@$(PYTHON) -m bench.capacity --write-doc

# Not part of `make test`: several processes of mixed writes through the real server with DynamoDB faults, then
# the invariants (ledger, stock and codes, rides) and the server's memory (bench/soak.py, docs/reliability.md).
.PHONY: soak
soak: bootstrap
	@$(PYTHON) -m bench.soak

lint: bootstrap
	@$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory package
	$(VENV)/bin/cfn-lint build/package-dev/sam.json build/package-prod/sam.json

# The AWS deployment (infra/aws, docs/deploy.md). No AWS account needed: dummy credentials, and only the
# package registry is reached (for the Lambda wheels).
.PHONY: package policy
package: bootstrap
	@$(PYTHON) -m infra.aws.package $(STAGES)

policy: bootstrap
	@$(PYTHON) -m infra.aws.policy

clean:
	@rm -rf .local
