# card.coop — the two commands a newcomer needs:
#   make run    start idp, portal, business and the notification worker on embedded defaults
#   make test   run the whole test suite
# Others: make lint, make bench, make migrate.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi:idp
# Python subprocesses started by tests (in other folders) measure coverage with the same
# settings, so that their data combines with the main run's.

.PHONY: run test lint bench migrate venv clean openapi widget oidc-rp guide-screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The browser modules: noble (secp256k1, RIPEMD-160) bundled by a committed, reproducible step
# from the locked npm packages. Rebuilt only when the lock file changes.
widget/dist/.built: widget/package-lock.json widget/scripts/build.js widget/src/vendor-*.js
	cd widget && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

widget: widget/dist/.built

# A certified OpenID Connect client (panva/openid-client) that the tests run against idp.
tests/oidc_rp/node_modules/.installed: tests/oidc_rp/package-lock.json
	cd tests/oidc_rp && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc-rp: tests/oidc_rp/node_modules/.installed

# MONO's side of the ВОСХОД network protocol, with the stock libraries MONO uses (issue #11).
tests/mono_peer/node_modules/.installed: tests/mono_peer/package-lock.json
	cd tests/mono_peer && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: mono-peer
mono-peer: tests/mono_peer/node_modules/.installed

# The portal's Russian catalogue, compiled from the committed .po (compiled files are not kept).
PORTAL_PO := portal/translations/ru/LC_MESSAGES/messages.po
$(PORTAL_PO:.po=.mo): $(PORTAL_PO) | $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -d portal/translations

.PHONY: translations translations-update
translations: $(PORTAL_PO:.po=.mo)

# After changing the portal's texts: extract them and merge into the catalogue, then translate.
translations-update: venv
	$(BIN)/pybabel --quiet extract -F portal/babel.cfg -k _ -k gettext -o portal/translations/messages.pot portal
	$(BIN)/pybabel --quiet update -i portal/translations/messages.pot -d portal/translations --width 100
	rm portal/translations/messages.pot

migrate: venv
	$(BIN)/flask --app wsgi:idp db upgrade

run: venv widget translations migrate
	$(BIN)/python scripts/run_all.py

test: venv widget translations oidc-rp mono-peer
	cd widget && npm test
	COVERAGE_RCFILE=$(CURDIR)/pyproject.toml $(BIN)/pytest --cov --cov-report=term --cov-report=xml -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

# card.coop side by side with oidc-provider (issue #10): BENCH_ARGS="--levels 50,200", say.
bench: venv
	$(BIN)/python bench/side_by_side.py $(BENCH_ARGS)

# The sharing flow (share-data → exchange-ticket → get-encrypted-data) and the token endpoint.
.PHONY: bench-share
bench-share: venv
	$(BIN)/python bench/share_bench.py

# The purge of ended rows over a seeded backlog (BENCH_ARGS="--members 1000000").
.PHONY: bench-purge
bench-purge: venv
	$(BIN)/python bench/purge_bench.py $(BENCH_ARGS)

# The specification's load: 10,000 keep-alive connections, a mixed profile at stepped rates.
.PHONY: bench-load
bench-load: venv
	$(BIN)/python bench/load_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .coverage coverage.xml widget/node_modules widget/dist \
		tests/oidc_rp/node_modules

# The committed API reference (docs/openapi.json); a test fails when it is stale.
openapi: venv
	$(BIN)/python -c "import json, wsgi; c = wsgi.idp.test_client(); \
	print(json.dumps(c.get('/openapi.json').json, indent=2, ensure_ascii=False))" > docs/openapi.json

# The SDK alone (sdk/pyproject.toml, cardcoop-sdk): build its wheel, install it into a fresh
# virtualenv beside the newest jwcrypto (from the package index), check no server package came.
.PHONY: sdk-check
sdk-check: venv
	$(BIN)/python sdk/check.py

# schemathesis against a live multi-worker idp for FUZZ_SECONDS (default 30 min) of rounds with
# random seeds; `make test` runs a short slice of the same test (tests/fuzz/README.md).
.PHONY: fuzz
fuzz: venv
	FUZZ_SECONDS=$${FUZZ_SECONDS:-1800} $(BIN)/pytest -q -p no:randomly tests/fuzz

# The member's guide screenshots (docs/guide/img), taken by the browser tests.
guide-screenshots: venv widget
	CARDCOOP_GUIDE_SHOTS=1 $(BIN)/pytest -q -m e2e tests/e2e -p no:randomly
