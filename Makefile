# orderdesk: `make run` and `make test` do all the set-up on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.8
HTMX_SHA256 := 22283ef68cb7545914f0a88a1bdedc7256a703d1d580c1d255217d0a50d31313
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint serve migrate seed system-deps browser-deps i18n clean bench-load bench-scale bench-postgres \
        simulate-wechat run-wechat bench-import bench-cpu bench-photos

run: $(VENV)/.installed system-deps static/vendor/htmx.min.js
	@$(BIN)/orderdesk migrate
	@$(BIN)/orderdesk seed-demo --if-empty
	@echo
	@echo "  Customer portal: http://127.0.0.1:8000/  (demo phone 13800138000)"
	@echo "  Staff admin:     http://127.0.0.1:8000/admin   (accounts and passwords below, also in var/demo-logins.txt)"
	@sed 's/^/    /' var/demo-logins.txt 2>/dev/null || true
	@echo "  WeChat sign-in and messages: make simulate-wechat, then make run-wechat (README, WeChat official account)"
	@echo
	@$(BIN)/orderdesk serve

# Trying the WeChat official account locally (README, "WeChat official account"): the simulated
# WeChat server in one terminal (`make simulate-wechat`), the demo pointed at it in another
# (`make run-wechat`). The app secret is the simulator's development stand-in, derived from SECRET_KEY.
WECHAT_SIM_PORT ?= 8025
WECHAT_SIM_URL := http://127.0.0.1:$(WECHAT_SIM_PORT)
WECHAT_SIM_EVENTS := order_confirmed shipped address_changed delayed out_for_delivery delivered dispute_update

simulate-wechat: $(VENV)/.installed
	$(BIN)/orderdesk simulate-wechat --port $(WECHAT_SIM_PORT)

run-wechat: $(VENV)/.installed system-deps static/vendor/htmx.min.js
	@$(BIN)/orderdesk migrate
	@$(BIN)/orderdesk seed-demo --if-empty
	@echo
	@echo "  WeChat sign-in against the simulator at $(WECHAT_SIM_URL) (start it with: make simulate-wechat)."
	@echo "  Open http://127.0.0.1:8000/orders with a User-Agent containing MicroMessenger"
	@echo "  (Chrome DevTools, device toolbar, custom user agent); messages sent: $(WECHAT_SIM_URL)/_sim/messages"
	@echo
	@secret="$$($(BIN)/python -c 'from core.config import get_settings; print(get_settings().derived_secret("wechat-simulator"))')" && \
	  WECHAT_APP_ID=wx5im0rderdesk0001 WECHAT_APP_SECRET="$$secret" \
	  WECHAT_API_BASE=$(WECHAT_SIM_URL) WECHAT_OAUTH_BASE=$(WECHAT_SIM_URL) \
	  $(foreach event,$(WECHAT_SIM_EVENTS),WECHAT_TEMPLATE_$(shell echo $(event) | tr a-z A-Z)=sim-$(event)) \
	  $(BIN)/orderdesk serve

test: $(VENV)/.installed-test system-deps browser-deps static/vendor/htmx.min.js
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]: the layers, and who may
# write audit entries and outbox messages).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { \
	  echo "Creating the virtual environment failed; installing python3-venv"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

# WeasyPrint needs a CJK font for Chinese text and HarfBuzz's subsetting library to embed it fast.
system-deps:
	@missing=""; \
	fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk|noto serif cjk" || missing="$$missing fonts-wqy-microhei"; \
	ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset.so.0 || missing="$$missing libharfbuzz-subset0"; \
	ldconfig -p 2>/dev/null | grep -q libpango-1.0.so.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Tests drive the pages in Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "Installing chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@command -v pdftoppm >/dev/null || { \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq poppler-utils; }

# htmx comes from the npm registry, pinned and checked, and is served from static/ (never a CDN).
static/vendor/htmx.min.js:
	@mkdir -p build static/vendor
	cd build && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && \
	  tar xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js
	echo "$(HTMX_SHA256)  build/package/dist/htmx.min.js" | sha256sum -c --quiet
	cp build/package/dist/htmx.min.js $@

migrate: $(VENV)/.installed
	$(BIN)/orderdesk migrate

seed: $(VENV)/.installed
	$(BIN)/orderdesk seed-demo --if-empty

serve: $(VENV)/.installed
	$(BIN)/orderdesk serve

# Benchmarks (README, "Performance"). Both use PostgreSQL at BENCH_PG_URL for their scratch
# databases; pass e.g. BENCH_ARGS="--database sqlite" or BENCH_ARGS="--sizes 10000,100000".
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
BENCH_ARGS ?=

# The local PostgreSQL the benchmarks use, started as CI starts it when it is not running.
bench-postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "PostgreSQL is not running on 127.0.0.1:5432; starting it"; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n 1)" main start && \
	  for _ in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

# The portal under wrk (Debian's package) next to a bare Litestar app: about 2 minutes.
bench-load: $(VENV)/.installed static/vendor/htmx.min.js bench-postgres
	@command -v wrk >/dev/null || { \
	  echo "Installing wrk (the HTTP load generator) for the load benchmark"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python bench/portal_load.py --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# The same lookups at 10k, 100k and 1M orders on SQLite and PostgreSQL: about 6 minutes.
bench-scale: $(VENV)/.installed bench-postgres
	$(BIN)/python bench/scale.py --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# CPU per request in-process (bare app, the stack's floor, the portal pages): about a minute, SQLite only.
bench-cpu: $(VENV)/.installed static/vendor/htmx.min.js
	$(BIN)/python bench/request_cpu.py $(BENCH_ARGS)

# A hostile report of six 49 MP PNGs, refused from the headers, against decoding them: about 30 seconds.
bench-photos: $(VENV)/.installed
	$(BIN)/python bench/photo_report.py $(BENCH_ARGS)

# 100,000 generated orders imported from a JD export, against plain executemany: about 2 minutes per backend.
bench-import: $(VENV)/.installed bench-postgres
	$(BIN)/python bench/import_orders.py --pg-url $(BENCH_PG_URL) $(BENCH_ARGS)

# Extract messages and merge them into the catalogs; translate the new entries in the .po files.
i18n: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -o build/messages.pot --no-location --sort-output \
	  -k _ -k gettext -k ngettext:1,2 -k N_ --ignore-dirs=".venv build var node_modules .git" .
	$(BIN)/pybabel update -i build/messages.pot -d core/i18n --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf build .pytest_cache test-artifacts
