# Two commands for a new user (see README.md):
#   make figures   set everything up, then run the main job
#   make test      set everything up, then run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CASE   ?= kz-2022-01
OUT    ?= out/$(CASE)
DEMO_OUT ?= out/$(CASE)-demo

.PHONY: setup figures demo test timeline clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,notebooks]'
	touch $@

timeline: setup
	$(BIN)/shutdown timeline $(CASE)

# The main job: collect (live APIs, cache first), detect, align, draw, write the report
# (with the vector figures for publication; the demo writes PNG only, the default).
figures: setup
	$(BIN)/shutdown report $(CASE) --out $(OUT) --formats png,svg,pdf

# Offline: the same on simulated data (labelled SIMULATED), then the CI check.
demo: setup
	$(BIN)/shutdown report $(CASE) --demo --out $(DEMO_OUT)
	$(BIN)/shutdown check $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache
