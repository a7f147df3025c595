# helmkit: the two commands of the README's quick start.
#   make demo   - install everything into .venv and run helmkit on the example fleet
#   make check  - install everything, then ruff, mypy, import-linter and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.helmkit-installed

.PHONY: demo check install tools lint test golden bench clean

install: $(STAMP) tools

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "helmkit needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

tools: $(STAMP)
	$(BIN)/helmkit bootstrap

demo: install
	$(BIN)/helmkit validate
	$(BIN)/helmkit template --env prod --output-dir out/prod
	@echo "rendered manifests: out/prod/"

lint: install
	$(BIN)/ruff check helmkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install
	$(BIN)/pytest -n 2 --dist loadgroup

check: lint test

golden: install
	HELMKIT_UPDATE_GOLDEN=1 $(BIN)/pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) .helmkit out
