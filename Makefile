# The README's two commands: `make demo` (a real clustering of USPS) and `make test`.
# Both create or reuse the virtual environment in $(VENV); torch is installed first, pinned,
# so that no other build of it is pulled in by the package's dependencies.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.graphcl-installed

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e '.[test,ogb,plot]'
	@if $(PY) -c 'import torch_scatter' 2>/dev/null; then echo "torch-scatter already installed"; \
	elif $(PY) -m pip install --quiet --no-build-isolation torch-scatter; then echo "torch-scatter installed"; \
	elif [ "$$CI" = "true" ]; then echo "error: torch-scatter failed to build (required under CI=true)"; exit 1; \
	else echo "WARNING: torch-scatter failed to build; graphcl falls back to torch_geometric's scatter"; fi
	touch $(STAMP)

demo: install
	$(PY) experiments/scgc.py --method scgc_star --dataset usps --seeds 0 --out build/demo/scgc_star_usps.json

test: install
	$(PY) -m pytest -q -m "not gpu" -n auto --durations=10

lint: install
	$(VENV)/bin/ruff check graphcl tests experiments

clean:
	rm -rf $(VENV) build *.egg-info
