"""Shared fixtures: tiny models built in code, composed configs, temp output dirs."""

from __future__ import annotations

import os
from pathlib import Path

# no usage telemetry from MLflow in tests (set before mlflow is imported)
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# one torch thread here and in every process the tests start (Ray actors, sweeps): CPU
# results are bit for bit only between processes that use the same number of threads
os.environ["OMP_NUM_THREADS"] = "1"

import pytest  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from evosweep.models.loading import load_model  # noqa: E402
from evosweep.settings.model_conf import model_settings  # noqa: E402

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@pytest.fixture
def compose_config():
    """compose(overrides) -> DictConfig from the project's conf/ (no Hydra run dir)."""

    def _compose(overrides: list[str] | None = None):
        with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR):
            return compose(config_name="config", overrides=list(overrides or []),
                           return_hydra_config=False)

    return _compose


@pytest.fixture
def tiny_gpt2():
    """A tiny GPT-2 (Conv1D layout) with LoRA on c_attn and c_proj: conf/model/tiny-gpt2.yaml."""
    return load_model(model_settings("tiny-gpt2"))


@pytest.fixture
def tiny_llama():
    """A tiny Llama (q/k/v/o/down_proj layout): conf/model/tiny-llama.yaml."""
    return load_model(model_settings("tiny-llama"))


#: per-generation metrics that measure the clock, not the search: left out of bit-for-bit comparisons
TIMING = ("perf/generation_s", "perf/generation_cpu_s", "perf/evals_per_s")

TINY_RUN = [
    "model=tiny-gpt2",
    "algorithm=ga",
    "task=bonjour",
    "tracking=none",
    "algorithm.population_size=6",
    "algorithm.generations=4",
    "eval.max_new_tokens=4",
    "eval.heldout_every=1",  # the tests read held-out metrics at every generation
]


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on 127.0.0.1 for the session (`.ci/run` installs PostgreSQL)."""
    from live_servers import PostgresServer, postgres_bin_dir

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql-15; .ci/run does it)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(postgres, tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1: PostgreSQL backend, proxied artifact folder."""
    from live_servers import MlflowServer

    folder = tmp_path_factory.mktemp("mlflow-server")
    server = MlflowServer(postgres.create_database("mlflow_session"), folder / "artifacts",
                          folder / "server.log").start()
    yield server
    server.stop()
