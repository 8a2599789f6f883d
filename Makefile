# BLEND trial platform. Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export BLEND_DEBUG ?= 1

.PHONY: demo install migrate demo-data serve local-settings test test-sqlite test-postgres lint bench clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install local-settings
	$(BIN)/blend migrate --no-input

# The demo randomizes with its own secret seed, made once per machine and kept in var/
# (production reads BLEND_RANDOMIZATION_SEED_FILE from a secret store; see docs/deployment.md).
# Each trial has its own seed (docs/trials.md): BLEND's, and VERTICAL's.
DEMO_SEED := var/demo-randomization.seed
DEMO_SEED_VERTICAL := var/demo-randomization-VERTICAL.seed
# Each trial's allocation chain is keyed (docs/randomization.md); the demo's keys sit beside
# the seeds (production: BLEND_CHAIN_KEY_FILE from the secret store).
DEMO_CHAIN_KEY := var/demo-chain.key
DEMO_CHAIN_KEY_VERTICAL := var/demo-chain-VERTICAL.key
# The registry-linkage secret (docs/interoperability.md §3; production: BLEND_LINKAGE_KEY_FILE).
DEMO_LINKAGE_KEY := var/demo-linkage.key

$(DEMO_SEED) $(DEMO_SEED_VERTICAL) $(DEMO_CHAIN_KEY) $(DEMO_CHAIN_KEY_VERTICAL) $(DEMO_LINKAGE_KEY):
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@

# The demo's settings go to var/local.env, which every `blend` command reads
# (blend.web.settings), so the commands of the docs work as typed after `make demo`,
# with nothing exported. Rewritten on every run: `make demo PORT=8100` moves the
# printed address and the patient links to port 8100. Production never has this file.
LOCAL_SETTINGS := var/local.env

local-settings: $(DEMO_SEED) $(DEMO_SEED_VERTICAL) $(DEMO_CHAIN_KEY) $(DEMO_CHAIN_KEY_VERTICAL) $(DEMO_LINKAGE_KEY)
	@printf '%s\n' \
	  '# Written by `make demo` for this checkout only; the environment overrides it.' \
	  '# Never copy it to a server: `blend check --deploy` refuses it.' \
	  'BLEND_DEBUG=1' \
	  'BLEND_RANDOMIZATION_SEED_FILE=$(abspath $(DEMO_SEED))' \
	  'BLEND_RANDOMIZATION_SEED_VERTICAL_FILE=$(abspath $(DEMO_SEED_VERTICAL))' \
	  'BLEND_CHAIN_KEY_FILE=$(abspath $(DEMO_CHAIN_KEY))' \
	  'BLEND_CHAIN_KEY_VERTICAL_FILE=$(abspath $(DEMO_CHAIN_KEY_VERTICAL))' \
	  'BLEND_LINKAGE_KEY_FILE=$(abspath $(DEMO_LINKAGE_KEY))' \
	  'BLEND_PUBLIC_BASE_URL=http://$(HOST):$(PORT)' \
	  'BLEND_ALLOWED_HOSTS=$(HOST),127.0.0.1,localhost,testserver' > $(LOCAL_SETTINGS)
	@echo "== settings for every blend command: $(LOCAL_SETTINGS) (http://$(HOST):$(PORT))"

demo-data: migrate
	$(BIN)/blend demo

# The server and, beside it, the tasks worker (`blend db-worker`: it retries a failed SAE
# notification); blend.web.devserver stops the worker when the server stops.
serve: install local-settings
	$(BIN)/python -m blend.web.devserver $(HOST):$(PORT)

## make demo: install, migrate, load the synthetic demo cohort, print the logins and serve
## (with the background worker).
demo: demo-data serve

## make test: lint, every test on SQLite, and the database tests again on PostgreSQL
## when BLEND_TEST_POSTGRES holds a database URL.
test: install lint test-sqlite test-postgres

test-sqlite: install
	env -u BLEND_DATABASE_URL -u BLEND_REQUIRE_POSTGRES $(BIN)/pytest

test-postgres: install
	@if [ -n "$$BLEND_TEST_POSTGRES" ]; then \
		echo "== database tests on PostgreSQL ($$BLEND_TEST_POSTGRES)"; \
		BLEND_DATABASE_URL="$$BLEND_TEST_POSTGRES" BLEND_REQUIRE_POSTGRES=1 $(BIN)/pytest tests/web -m "not browser"; \
	else echo "== BLEND_TEST_POSTGRES not set: PostgreSQL pass skipped"; fi

## make lint: ruff (lint and format), mypy with the Django plugin, the pure-core purity
## check and the app boundaries (docs/architecture.md).
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m blend.lint_pure_core
	$(BIN)/python -m blend.dependency_graph --check

## make bench: benchmark scripts (speed never lives in tests).
bench: migrate
	$(BIN)/python bench/run_all.py

messages: install
	cd src/blend && ../../$(BIN)/blend makemessages -l nl --ignore 'static/*' && ../../$(BIN)/blend compilemessages

clean:
	rm -rf $(VENV) var/*.sqlite3 var/anchors  # the anchors belong to the database removed
