"""The study's storage: default sqlite file, resume, shared counting, heartbeats.

Rerunning a sweep reopens the same study (``load_if_exists``); ``n_trials`` is then
the number of COMPLETE + PRUNED trials the study must hold, whoever ran them. Trials
left RUNNING by a killed sweep stop sending heartbeats and are marked FAIL after the
grace period, which frees their slot for a new trial.
"""

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import TrialState

from .errors import SweeperConfigError

DEFAULT_STORAGE = "sqlite:///outputs/optuna.db"
#: Study user attribute with the pruner spec (plain JSON), rebuilt by each job's reporter.
PRUNER_ATTR = "evosweep.pruner"
DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
DIRECTION_FIELD = "hydra.sweeper.direction"
SQLITE_TIMEOUT_S = 60
OPEN_ATTEMPTS = 5


def storage_url(storage: str | None, base_dir: Path) -> str:
    """``storage`` (default: sqlite under ``outputs/``) with a relative sqlite path made absolute.

    Jobs may run in another folder (``hydra.job.chdir``) or process: they get this URL.
    """
    url = str(storage) if storage else DEFAULT_STORAGE
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        path = (base_dir / url[len(prefix) :]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        url = prefix + str(path)
    elif url.startswith(prefix + "/"):
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)
    return url


def make_storage(url: str, heartbeat_interval: int | None = None,
                 grace_period: int | None = None) -> BaseStorage:
    """An RDB storage for ``url``; sqlite waits for locks instead of failing at once."""
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        engine_kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval or None,
                grace_period=grace_period if heartbeat_interval else None,
            )
        except Exception as error:
            # Two sweeps creating the tables of a new database at once: the loser retries.
            bad_url = isinstance(error, (sqlalchemy.exc.ArgumentError, ImportError))
            if attempt + 1 < OPEN_ATTEMPTS and not bad_url:
                time.sleep(0.5 * (attempt + 1))
                continue
            message = " ".join(str(error).split())[:300]
            raise SweeperConfigError(
                "hydra.sweeper.storage", f"cannot open {url!r}: {message}"
            ) from None
    raise AssertionError("unreachable")


def parse_directions(direction: Any) -> list[str]:
    """``minimize`` / ``maximize`` or a list of them -> lower-case list, errors naming the field."""
    items = list(direction) if isinstance(direction, (list, tuple)) else [direction]
    if not items:
        raise SweeperConfigError(DIRECTION_FIELD, "needs at least one of minimize / maximize")
    out = []
    for item in items:
        name = str(getattr(item, "name", item)).lower()
        if name not in ("minimize", "maximize"):
            raise SweeperConfigError(DIRECTION_FIELD, f"{item!r} is not minimize or maximize")
        out.append(name)
    return out


def open_study(storage: BaseStorage, study_name: str, directions: list[str],
               sampler: optuna.samplers.BaseSampler,
               pruner: optuna.pruners.BasePruner) -> optuna.Study:
    """Create the study or reopen it; an existing study must have the same directions."""
    study = optuna.create_study(
        storage=storage, study_name=study_name, directions=directions,
        sampler=sampler, pruner=pruner, load_if_exists=True,
    )
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        raise SweeperConfigError(
            DIRECTION_FIELD,
            f"study {study_name!r} already exists with directions {stored}, not {directions}; "
            "set hydra.sweeper.study_name to start a new study",
        )
    return study


def count_states(study: optuna.Study) -> Counter[TrialState]:
    """How many of the study's trials are in each state (all processes together)."""
    return Counter(t.state for t in study.get_trials(deepcopy=False))


def n_done(counts: Counter[TrialState]) -> int:
    """Trials that count toward ``n_trials``: COMPLETE and PRUNED."""
    return sum(counts[s] for s in DONE_STATES)


def is_surplus(study: optuna.Study, trial_number: int, n_trials: int) -> bool:
    """True when ``n_trials`` live or done trials were asked before this one (a race lost)."""
    ahead = [
        t for t in study.get_trials(deepcopy=False, states=(*DONE_STATES, TrialState.RUNNING))
        if t.number < trial_number
    ]
    return len(ahead) >= n_trials


def fail_stale_trials(study: optuna.Study) -> None:
    """Mark FAIL the RUNNING trials whose sweep stopped sending heartbeats."""
    optuna.storages.fail_stale_trials(study)  # a no-op without heartbeats


class Heartbeat:
    """Background thread recording a heartbeat for every trial this process runs."""

    def __init__(self, storage: BaseStorage, interval_s: float | None) -> None:
        self._storage = storage
        self._enabled = (
            isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None
        )
        self._interval = interval_s or 10.0
        self._trial_ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="optuna-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def add(self, trial_id: int) -> None:
        """Start beating for ``trial_id`` (beats once right away)."""
        with self._lock:
            self._trial_ids.add(trial_id)
        self._beat(trial_id)

    def discard(self, trial_id: int) -> None:
        """Stop beating for ``trial_id``."""
        with self._lock:
            self._trial_ids.discard(trial_id)

    def _beat(self, trial_id: int) -> None:
        if self._enabled:
            try:
                self._storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
            except Exception:  # a missed beat only delays; the next one retries
                pass

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                ids = list(self._trial_ids)
            for trial_id in ids:
                self._beat(trial_id)
