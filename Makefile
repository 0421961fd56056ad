# Two commands for a new user (see README.md):
#   make figures   set everything up, then run the main job
#   make test      set everything up, then run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CASE   ?= kz-2022-01
OUT    ?= out/$(CASE)

.PHONY: setup figures demo test timeline clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,notebooks]'
	touch $@

timeline: setup
	$(BIN)/shutdown timeline $(CASE)

figures: timeline

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache
