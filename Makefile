# helmkit: the two commands of the README's quick start.
#   make demo   - install everything into .venv and run helmkit on the example fleet
#   make check  - install everything, then ruff, mypy, import-linter and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.helmkit-installed

DEMO_SECRET := .helmkit/demo/payments-db-password
KUBECONFIG_SANDBOX := .helmkit/sandbox/kubeconfig

.PHONY: demo check install tools helmfile browser registry lint test golden bench clean

install: $(STAMP) tools

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "helmkit needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

tools: $(STAMP)
	$(BIN)/helmkit bootstrap

# The example fleet's payments release reads its database password from $$PAYMENTS_DB_PASSWORD;
# the demo makes one up (kept, mode 0600, so a second run shows no change).
$(DEMO_SECRET):
	@mkdir -p $(@D)
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))' > $@

demo: install $(DEMO_SECRET)
	@export PAYMENTS_DB_PASSWORD="$$(cat $(DEMO_SECRET))" && set -x && \
	$(BIN)/helmkit validate && \
	$(BIN)/helmkit template --env prod --output-dir out/prod && \
	$(BIN)/helmkit sandbox up --env prod --kubeconfig $(KUBECONFIG_SANDBOX) && \
	$(BIN)/helmkit sync --env prod --kubeconfig $(KUBECONFIG_SANDBOX) --yes && \
	$(BIN)/helmkit status --env prod --kubeconfig $(KUBECONFIG_SANDBOX) && \
	{ $(BIN)/helmkit diff --env prod --kubeconfig $(KUBECONFIG_SANDBOX) -l name=storefront \
	    --set replicaCount=6 --detailed-exitcode; test $$? -eq 2; } && \
	$(BIN)/helmkit drift --env prod --kubeconfig $(KUBECONFIG_SANDBOX)
	@echo "The sandbox keeps running: export KUBECONFIG=$(KUBECONFIG_SANDBOX); stop it with .venv/bin/helmkit sandbox down"

lint: install
	$(BIN)/ruff check helmkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# The HTML drift report is checked in a real headless Chromium (Debian's package); as root the
# check target installs it, elsewhere that test skips and says how to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the HTML report test will skip (apt-get install -y chromium)"; }

# The OCI chart tests run the distribution registry (Debian's docker-registry); as root the check
# target installs it, elsewhere those tests skip and say how to install it (in CI they fail instead).
registry:
	@command -v docker-registry >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null) || \
	  echo "docker-registry not installed: the OCI registry tests will skip (apt-get install -y docker-registry)"; }

# helmfile 0.166 (+ helm 3.15.3) for the `helmkit import` side-by-side tests and the benchmarks.
helmfile: $(STAMP)
	$(BIN)/helmkit bootstrap --with-helmfile

test: install browser registry helmfile
	$(BIN)/pytest -n 2 --dist loadgroup

check: lint test

golden: install helmfile
	HELMKIT_UPDATE_GOLDEN=1 $(BIN)/pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) .helmkit out
