"""A sweep killed between asking a trial and its first heartbeat leaves a RUNNING trial
without any heartbeat: the next sweep must free its slot, not wait for it forever."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import optuna
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import TrialState
from sqlalchemy import orm

from hydra_plugins.evosweep_optuna_sweeper.study import Heartbeat, fail_stale_trials


def _study(tmp_path: Path) -> tuple[optuna.Study, RDBStorage]:
    storage = RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}", heartbeat_interval=1, grace_period=2)
    return optuna.create_study(storage=storage, study_name="s"), storage


def _started_ago(storage: RDBStorage, trial_id: int, seconds: float) -> None:
    with orm.Session(storage.engine) as session:
        trial = session.get(models.TrialModel, trial_id)
        trial.datetime_start = datetime.now() - timedelta(seconds=seconds)
        session.commit()


def test_a_trial_never_beaten_is_failed_after_the_grace_period(tmp_path: Path) -> None:
    study, storage = _study(tmp_path)
    orphan = study.ask()  # its process died before the first beat
    _started_ago(storage, orphan._trial_id, 10)
    failed = fail_stale_trials(study)
    assert [t.number for t in failed] == [orphan.number]
    assert study.trials[orphan.number].state == TrialState.FAIL


def test_fresh_and_beating_trials_are_left_running(tmp_path: Path) -> None:
    study, storage = _study(tmp_path)
    fresh = study.ask()  # asked a moment ago: its first beat may still be on its way
    beating = study.ask()
    _started_ago(storage, beating._trial_id, 10)
    with Heartbeat(storage, 1) as heartbeat:
        heartbeat.add(beating._trial_id)
        assert fail_stale_trials(study) == []
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states == {fresh.number: TrialState.RUNNING, beating.number: TrialState.RUNNING}
