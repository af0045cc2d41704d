# uavtwin: `make run` (default scenario + report) and `make test` (whole suite).
# Both bootstrap .venv on first use; nothing else is needed on a fresh clone.
# The interpreter .venv is made with: the distribution's python3.11 where there is one (its
# CPython is built with profile-guided and link-time optimisation and a static libpython, and
# runs the world faster than a default source build such as pyenv's: docs/benchmarks.md,
# "Interpreters"), else the first python3.11, else python3. `make PYTHON=...` overrides.
PYTHON ?= $(or $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	$$p -c 'import ensurepip, sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done),python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out/default

.PHONY: run test docs-test bench lint agents venv clean fuzz which-python

venv: $(STAMP)

which-python:  # the interpreter a new .venv would be made with
	@echo $(PYTHON)

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@echo "uavtwin: setting up $(VENV) (first run, or setup.cfg changed): installing uavtwin"
	@echo "uavtwin: and its dependencies (torch from the local CPU wheel); about 2-3 minutes..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,validate]'
	touch $(STAMP)
	@echo "uavtwin: $(VENV) is ready ($$($(BIN)/python -m pip list --format=freeze | wc -l) packages)"

run: $(STAMP)
	$(BIN)/uavtwin run scenarios/default.yaml -o $(OUT)/trace.h5
	$(BIN)/uavtwin report $(OUT)/trace.h5 --figures $(OUT)/figures

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Long fuzzing (issue 14): FUZZ_CASES inputs per loader, at most FUZZ_SECONDS per loader;
# the counts go to benchmarks/results/fuzz.json (docs/reliability.md quotes them).
FUZZ_CASES   ?= 2000
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	mkdir -p benchmarks/results
	rm -f benchmarks/results/fuzz.json
	UAVTWIN_FUZZ=$(FUZZ_CASES) UAVTWIN_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	UAVTWIN_FUZZ_REPORT=benchmarks/results/fuzz.json \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

docs-test: $(STAMP)   # every block of README.md and docs/*.md as written (~20 min; make test runs quick forms)
	UAVTWIN_DOCS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_docs.py

bench: $(STAMP)
	mkdir -p benchmarks/results
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check simulator agents analysis tests benchmarks docs/examples

agents: $(STAMP)
	$(BIN)/uavtwin train scenarios/agents/train.yaml -o scenarios/agents/tiny-madrl.pt --seed 7
	$(BIN)/uavtwin train scenarios/agents/train.yaml -o scenarios/agents/ppo.pt --seed 7 --no-prune

clean:
	rm -rf $(VENV) out build *.egg-info
