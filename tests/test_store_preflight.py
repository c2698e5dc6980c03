"""Stores that do not answer are named in one line within seconds; dropped connections are survived."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from evosweep.errors import ConfigError
from evosweep.sweep.optuna_specs import open_storage
from evosweep.tracking.db_urls import CONNECT_TIMEOUT_S, with_connect_timeout, with_driver
from evosweep.tracking.preflight import HEALTH_TIMEOUT_S
from evosweep.tracking.store import open_mlflow_client

REPO = Path(__file__).resolve().parent.parent
NOBODY = "127.0.0.1:1"  # nothing listens on port 1


class Attempts:
    """Connection attempts through a patched connect function: the timeout each one was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str, timeout_key: str) -> None:
        self.timeouts: list[float | None] = []
        real = getattr(owner, name)

        def counted(*args, **kwargs):
            self.timeouts.append(kwargs.get(timeout_key, args[1] if len(args) > 1 else None))
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)


def _raises_at_once(call, field: str, *words: str, attempts: Attempts,
                    timeouts: list[float | None]) -> str:
    """``call`` raises one ConfigError line naming ``field`` after the connection attempts given
    by their timeouts (one at most: no retries, no back-off): "within seconds" without a clock."""
    with pytest.raises(ConfigError) as caught:
        call()
    assert attempts.timeouts == timeouts
    assert caught.value.field == field
    assert "\n" not in str(caught.value)
    for word in words:
        assert word in str(caught.value)
    return str(caught.value)


def test_postgres_urls_get_psycopg_and_a_connect_timeout() -> None:
    assert with_driver("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert with_driver("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    for kept in ("postgresql+psycopg://u@h/db", "sqlite:///x.db", "http://127.0.0.1:5000"):
        assert with_driver(kept) == kept
    assert with_connect_timeout("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db?connect_timeout=5"
    assert with_connect_timeout("postgresql+psycopg://u@h/db?sslmode=require").endswith("&connect_timeout=5")
    assert with_connect_timeout("sqlite:///x.db") == "sqlite:///x.db"


def test_no_mlflow_server_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = Attempts(monkeypatch, socket, "create_connection", "timeout")
    _raises_at_once(lambda: open_mlflow_client(f"http://{NOBODY}"), "tracking.uri",
                    f"no MLflow server answers at http://{NOBODY}", "make server",
                    attempts=attempts, timeouts=[HEALTH_TIMEOUT_S])


def test_an_unreachable_database_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    psycopg = pytest.importorskip("psycopg")
    for call, field, words in [
        (lambda: open_storage(f"postgresql://postgres@{NOBODY}/x"), "hydra.sweeper.storage",
         ("cannot connect", "postgresql+psycopg://")),
        (lambda: open_mlflow_client(f"postgresql://postgres@{NOBODY}/x"), "tracking.uri",
         ("cannot connect",)),
    ]:
        attempts = Attempts(monkeypatch, psycopg, "connect", "connect_timeout")
        _raises_at_once(call, field, *words, attempts=attempts, timeouts=[CONNECT_TIMEOUT_S])
        monkeypatch.undo()


def test_a_driver_that_is_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = Attempts(monkeypatch, socket, "create_connection", "timeout")
    _raises_at_once(lambda: open_storage(f"postgresql+psycopg2://postgres@{NOBODY}/x"),
                    "hydra.sweeper.storage", "cannot use", "postgresql+psycopg://",
                    attempts=attempts, timeouts=[])  # nothing tried


def test_a_bare_postgresql_url_uses_psycopg_and_survives_dropped_connections(postgres) -> None:
    url = postgres.create_database("dropped").replace("postgresql+psycopg://", "postgresql://")
    storage = open_storage(url)
    assert storage.engine.pool.size() == 2 and storage.engine.pool._pre_ping  # noqa: SLF001
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    assert postgres.terminate_backends("dropped") >= 1  # the pool's idle connections die
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4


def _evosweep(*overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_ENABLE_TELEMETRY": "false"}
    return subprocess.run([sys.executable, "-m", "evosweep", *overrides], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_run_names_a_missing_server_before_loading_the_model(tmp_path: Path) -> None:
    """The model path does not exist either: the store is checked first, in one line."""
    done = _evosweep("model=tiny-gpt2", "model.name_or_path=/nonexistent/model", "tracking=mlflow",
                     f"tracking.uri=http://{NOBODY}", f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"evosweep: error: tracking.uri: no MLflow server answers at http://{NOBODY} "
        "([Errno 111] Connection refused); start one with `make server` "
        "(or use a local store: sqlite:///outputs/mlflow.db)"
    ]


def test_a_sweep_names_an_unreachable_study_storage(tmp_path: Path) -> None:
    done = _evosweep("-m", "hparams_search=ga_optuna", "model=tiny-gpt2", "tracking=none",
                     f"hydra.sweeper.storage=postgresql://postgres@{NOBODY}/x",
                     f"hydra.sweep.dir={tmp_path / 'multirun'}")
    assert done.returncode == 1
    lines = [line for line in done.stderr.strip().splitlines() if "HYDRA_FULL_ERROR" not in line]
    assert "Traceback" not in done.stderr
    assert lines[0].startswith(f"hydra.sweeper.storage: cannot connect to postgresql+psycopg://postgres@{NOBODY}/x")


def test_a_sweep_names_a_missing_tracking_server_before_it_creates_the_study(tmp_path: Path) -> None:
    storage = tmp_path / "optuna.db"
    done = _evosweep("-m", "hparams_search=ga_optuna", "model=tiny-gpt2", "tracking=mlflow",
                     f"tracking.uri=http://{NOBODY}", f"hydra.sweeper.storage=sqlite:///{storage}",
                     f"hydra.sweep.dir={tmp_path / 'multirun'}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"tracking.uri: no MLflow server answers at http://{NOBODY}" in done.stderr
    assert not storage.exists()  # no empty study left behind
