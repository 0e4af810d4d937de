# FaceSimXAI: `make demo` runs the whole default pipeline, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
CORES  ?= 2

.PHONY: setup demo test test-slurm lint report dag clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)   # --durations: where the suite's time goes, printed in every CI log
	$(BIN)/python -m pytest --durations=25

test-slurm: $(STAMP)   # only the SLURM test (make test runs it too; FACESIMXAI_SLURM=0 switches it off)
	$(BIN)/python -m pytest tests/test_slurm.py

lint: $(STAMP)   # ruff, snakefmt and snakemake --lint; .ci/run runs it before the tests
	$(BIN)/ruff check src scripts tests benchmarks docs
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --report results/report.html

dag: $(STAMP)
	$(BIN)/python docs/make_dag.py

clean:
	rm -rf results .snakemake
