# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    virtual environment + install + snakemake on the default config (all cores)
#   make test   same set-up, then the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Pinned so pip takes the CPU build; elsewhere add e.g. TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
SNAKEMAKE_ARGS ?=

.PHONY: setup sysdeps run test lint report bench gpu-check clean

$(BIN)/.installed: pyproject.toml setup.py sciml/okada/_dc3d.c sciml/okada/_pairs.h
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# System tools (Debian): a C compiler for the native Okada kernel (without one sciml installs and runs on its PyTorch
# path, and test_native_kernel_is_built fails); GMT for the gpsgridder baseline; slurm-wlm and munge for the cluster
# test. Installed when running as root with apt-get; otherwise the tests that need them are skipped.
sysdeps:
	@missing=""; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	command -v gmt >/dev/null || missing="$$missing gmt"; \
	command -v slurmctld >/dev/null || missing="$$missing slurm-wlm"; \
	command -v munged >/dev/null || missing="$$missing munge"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "sysdeps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "sysdeps: please install$$missing (tests needing them will be skipped)"; fi

setup: sysdeps $(BIN)/.installed

run: setup
	$(BIN)/snakemake --profile workflow/profiles/default $(SNAKEMAKE_ARGS) all

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/snakemake --lint

report: setup
	$(BIN)/snakemake --report report.html

bench: setup
	$(BIN)/pip install --quiet -e ".[test,bench]"
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done

# Every CUDA path in one short run (<= 5 min on one GPU); without CUDA it runs the CPU parts and says what it skipped
gpu-check: setup
	$(BIN)/python benchmarks/gpu_check.py

clean:
	rm -rf results .snakemake report.html
