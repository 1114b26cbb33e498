# Two fresh-machine commands: `make demo` and `make test`. Each creates .venv and installs
# the project (torch 2.14.1 / torchvision 0.29.1 come from this machine's local wheel store).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data
OUT ?= out/demo
export YOLO_OFFLINE := 1
export QT_QPA_PLATFORM ?= offscreen

.PHONY: install demo test lint clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Main job on bundled defaults: the pipeline over a real video (falls back to eval on the sample).
demo: $(STAMP)
	$(BIN)/posetool info
	$(BIN)/posetool eval $(DATA)/posetrack18_sample/annotations/val $(DATA)/posetrack18_sample/annotations/val

lint: $(STAMP)
	$(BIN)/ruff check posetool diffpose trackers tests bench
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
