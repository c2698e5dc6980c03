"""The study's storage: default sqlite file, resume, shared counting, heartbeats.

Rerunning a sweep reopens the same study (``load_if_exists``); ``n_trials`` is then
the number of COMPLETE + PRUNED trials the study must hold, whoever ran them. Trials
left RUNNING by a killed sweep stop sending heartbeats and are marked FAIL after the
grace period, which frees their slot for a new trial.
"""

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage
from optuna.storages._rdb import models
from optuna.trial import TrialState
from sqlalchemy import orm, select
from sqlalchemy.exc import SQLAlchemyError

from evosweep.sweep.optuna_specs import open_storage
from evosweep.tracking.store import absolute_store_uri

from .errors import SweeperConfigError, as_sweeper_errors

DEFAULT_STORAGE = "sqlite:///outputs/optuna.db"
DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
DIRECTION_FIELD = "hydra.sweeper.direction"


def storage_url(storage: str | None, base_dir: Path) -> str:
    """``storage`` (default: sqlite under ``outputs/``) with a relative sqlite path made absolute.

    Jobs may run in another folder (``hydra.job.chdir``) or process: they get this URL.
    """
    return absolute_store_uri(str(storage) if storage else DEFAULT_STORAGE, base_dir)


def make_storage(url: str, heartbeat_interval: int | None = None,
                 grace_period: int | None = None) -> BaseStorage:
    """An RDB storage for ``url`` (see evosweep.sweep.optuna_specs.open_storage)."""
    with as_sweeper_errors():
        return open_storage(url, "hydra.sweeper.storage", heartbeat_interval, grace_period)


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


def fail_stale_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Mark FAIL the RUNNING trials whose sweep stopped sending heartbeats; return them.

    A trial another process finished as FAIL at the same moment may be among those
    returned: callers only record the FAIL state, which holds for both.
    """
    # the study's storage (RDBStorage inside Optuna's cache) holds the heartbeat setting
    interval = getattr(study._storage, "get_heartbeat_interval", None)  # noqa: SLF001
    if interval is None or interval() is None:
        return []
    running = {t._trial_id for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}  # noqa: SLF001
    if not running:
        return []
    optuna.storages.fail_stale_trials(study)
    _fail_never_beaten(study)
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
            if t._trial_id in running]  # noqa: SLF001


def _fail_never_beaten(study: optuna.Study) -> None:
    """Mark FAIL the RUNNING trials that never got a heartbeat and started over a grace period ago.

    A sweep killed between asking a trial and its first beat leaves a RUNNING trial that
    Optuna's own check never fails (it only looks at trials with a heartbeat record): a
    resumed sweep would wait for it forever. Live sweeps beat right after asking.
    """
    backend = getattr(study._storage, "_backend", study._storage)  # noqa: SLF001 - under Optuna's cache
    if not isinstance(backend, RDBStorage) or backend.heartbeat_interval is None:
        return
    grace_s = backend.grace_period or 2 * backend.heartbeat_interval
    cutoff = datetime.now() - timedelta(seconds=grace_s)  # trials' start times are local, naive
    old = [t._trial_id for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))  # noqa: SLF001
           if t.datetime_start is not None and t.datetime_start < cutoff]
    if not old:
        return
    with orm.Session(backend.engine) as session:
        beaten = set(session.scalars(select(models.TrialHeartbeatModel.trial_id)
                                     .where(models.TrialHeartbeatModel.trial_id.in_(old))))
    orphans = [trial_id for trial_id in old if trial_id not in beaten]
    for trial_id in orphans:
        try:
            study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL)  # noqa: SLF001
        except optuna.exceptions.UpdateFinishedTrialError:  # another process finished it first
            pass


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
            except SQLAlchemyError:  # a missed beat only delays; the next one retries
                pass

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                ids = list(self._trial_ids)
            for trial_id in ids:
                self._beat(trial_id)
