# Two commands do everything on a fresh machine:
#   make run    create .venv, install, run the whole study (PROFILE=full by default)
#   make test   create .venv, install, run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= full
# runs trained at once (through a local Ray cluster when above 1)
WORKERS ?= 1
# The datasets: ../shared/data when it is there (this project's machines), else ./data.
DATA_ROOT ?= $(if $(wildcard ../shared/data),../shared/data,./data)
export DATA_ROOT
SCRIPTS := homework_cnn_vs_fc_comparison.py homework_cnn_architecture_analysis.py \
           homework_custom_layers_experiments.py

.PHONY: setup run quick test report readme

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -r requirements.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	@# only the default ./data is created (it may download); a DATA_ROOT you name must exist,
	@# so a typo stops with one sentence instead of an empty folder
	@if [ "$(DATA_ROOT)" = ./data ]; then mkdir -p ./data; fi
	@for s in $(SCRIPTS); do $(PY) $$s --profile $(PROFILE) --workers $(WORKERS) || exit $$?; done
	$(PY) -m utils.report.readme

quick:
	$(MAKE) run PROFILE=quick

report: setup
	@for s in $(SCRIPTS); do $(PY) $$s --profile $(PROFILE) --report-only || exit $$?; done

test: setup
	$(PY) -m pytest -q tests

readme: setup
	$(PY) -m utils.report.readme
