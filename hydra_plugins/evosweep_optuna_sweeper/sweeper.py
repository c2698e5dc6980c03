"""The Hydra Sweeper: validate, open the study, run trials, record the results."""

import logging
import warnings
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from sqlalchemy.exc import SQLAlchemyError

from evosweep.errors import one_line
from evosweep.sweep.optuna_specs import PRUNER_ATTR
from evosweep.tracking.db_urls import with_driver
from evosweep.tracking.preflight import check_tracking_store
from evosweep.tracking.store import tracking_errors

from .errors import SweeperConfigError, as_sweeper_errors
from .mlflow_parent import SweepTracker, SweepTrackingSettings
from .outcome import TrialOutcome
from .plan import SweepPlan, build_plan
from .results import save_results, summarize
from .search_space import format_value, trial_overrides
from .study import Heartbeat, make_storage, open_study
from .trial_loop import TrialLoop

log = logging.getLogger(__name__)

SPACE_ATTR = "evosweep.search_space"
BOUND_ATTR = "evosweep.searched_on"
#: what a study's trials were measured on: resuming it with other values is refused
BOUND_KEYS = {"model": "model.name_or_path", "task": "task.name", "reward": "hydra.runtime.choices.reward"}


def searched_on(config: DictConfig) -> dict[str, str]:
    """The model, task and reward a sweep's trials run on (those the config has)."""
    values = {name: OmegaConf.select(config, key, default=None, throw_on_missing=False)
              for name, key in BOUND_KEYS.items()}
    return {name: str(value) for name, value in values.items() if value is not None}
_SERIAL_LAUNCHERS = ("BasicLauncher",)  # run jobs in this process: one at a time


class EvosweepOptunaSweeper(Sweeper):
    """Optuna sweeper with pruning, resume and shared studies (see ``config.py`` for fields)."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> dict[str, Any]:
        """Run the study to ``n_trials`` finished trials; returns the results summary."""
        assert self.config is not None
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
        plan = build_plan(self.fields, arguments, self.config,
                          getattr(self.task_function, "__module__", None))
        self._check_composes(plan)
        tracking = self._tracking_settings()
        if tracking is not None:  # a dead tracking store stops the sweep before the study exists
            with as_sweeper_errors():
                check_tracking_store(with_driver(tracking.uri))
        storage = make_storage(plan.storage_url, plan.heartbeat_interval, plan.grace_period)
        study = open_study(storage, plan.study_name, plan.directions, plan.sampler, plan.pruner)
        self._record_study_settings(study, plan)
        tracker = self._tracker(tracking, study, plan)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        self._save_multirun_config(sweep_dir)
        n_workers = self._n_workers(plan)
        log.info("Study %r in %s; sampler %s, pruner %s, directions %s, %d worker(s)",
                 plan.study_name, plan.storage_url, type(plan.sampler).__name__,
                 type(plan.pruner).__name__, plan.directions, n_workers)
        for name, text in plan.space.describe().items():
            log.info("  %s: %s", name, text)

        def on_finished(trial: optuna.trial.FrozenTrial, outcome: TrialOutcome) -> None:
            if tracker is not None:
                tracker.trial_finished(trial)

        status = "FAILED"
        try:
            with Heartbeat(storage, plan.heartbeat_interval) as heartbeat:
                loop = TrialLoop(
                    study, plan, self._launch_one,
                    lambda trial: self._overrides(trial, plan, tracker),
                    on_finished, heartbeat, n_workers,
                )
                loop.run()
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            summary, path = self._finish(study, plan, sweep_dir, tracker, status)
        log.info("Best: %s", {k: summary[k] for k in ("best_params", "best_value") if k in summary})
        log.info("Results: %s", path)
        return summary

    def _finish(self, study: optuna.Study, plan: SweepPlan, sweep_dir: Path,
                tracker: SweepTracker | None, status: str) -> tuple[dict[str, Any], Path | None]:
        """Write optimization_results.yaml and close the parent run; never masks an error."""
        summary: dict[str, Any] = {}
        path = None
        try:
            summary = summarize(study, plan.space)
            path = save_results(summary, sweep_dir)
            if tracker is not None:
                tracker.finish(summary, path, status=status)
        except (*tracking_errors(), SQLAlchemyError) as error:
            log.warning("could not record the sweep's results: %s: %s", type(error).__name__, error)
        return summary, path

    def _launch_one(self, overrides: list[str], job_idx: int) -> JobReturn:
        """Launch one job; its number (and so its folder) is the trial number: never reused."""
        returns = self.launcher.launch([overrides], initial_job_idx=job_idx)
        return list(returns)[0]

    def _overrides(self, trial: optuna.trial.Trial, plan: SweepPlan,
                   tracker: SweepTracker | None) -> list[str]:
        """The trial's parameters, then the ``optuna_trial`` node the job reports through."""
        if plan.custom_search_space is not None:
            assert self.config is not None
            plan.custom_search_space(self.config, trial)
        reporting = {
            "storage": plan.storage_url,
            "study_name": plan.study_name,
            "trial_id": trial._trial_id,  # noqa: SLF001 - the storage key the job reports to
            "trial_number": trial.number,
            "mlflow_parent_run_id": tracker.parent_run_id if tracker is not None else None,
        }
        return [
            *trial_overrides(plan.space, trial.params),
            *(f"++optuna_trial.{key}={format_value(value)}" for key, value in reporting.items()),
        ]

    def _check_composes(self, plan: SweepPlan) -> None:
        """Compose the job config with every choice and both ends of every range, up front.

        Each check sets all parameters (the others at their first choice or low end), so
        an option that cannot take another parameter (a group without that field) shows too.
        """
        from optuna.distributions import CategoricalDistribution

        values = {
            name: (list(dist.choices) if isinstance(dist, CategoricalDistribution)
                   else [dist.low, dist.high])  # type: ignore[attr-defined]
            for name, dist in plan.space.distributions.items()
        }
        base = {name: options[0] for name, options in values.items()}
        checks = [("", base)] + [
            (name, {**base, name: value})
            for name, options in values.items() for value in options[1:]
        ]
        for name, params in checks:
            error = self._compose_error(plan, params)
            if error is None:
                continue
            if not name:  # the first combination: find the parameter that fails on its own
                alone = [n for n in base if self._compose_error(plan, {n: base[n]}) is not None]
                name = alone[0] if alone else ""
            field = f"hydra.sweeper.params.{name}" if name else "hydra.sweeper.params"
            shown = ", ".join(f"{k}={format_value(v)}" for k, v in params.items())
            raise SweeperConfigError(field, f"[{shown}] does not compose: {error}")

    def _compose_error(self, plan: SweepPlan, params: dict[str, Any]) -> str | None:
        try:
            self.validate_batch_is_legal([trial_overrides(plan.space, params)])
        except (HydraException, OmegaConfBaseException) as error:
            return one_line(error)
        return None

    def _record_study_settings(self, study: optuna.Study, plan: SweepPlan) -> None:
        assert self.config is not None
        searched = searched_on(self.config)
        bound = study.user_attrs.get(BOUND_ATTR)
        if bound is not None and bound != searched:
            changed = ", ".join(f"{key} {bound.get(key)!r} -> {searched.get(key)!r}"
                                for key in sorted(set(bound) | set(searched))
                                if bound.get(key) != searched.get(key))
            raise SweeperConfigError(
                "hydra.sweeper.study_name",
                f"study {plan.study_name!r} searched something else ({changed}); its trials "
                "would mislead this search: name a new study with hydra.sweeper.study_name=...")
        study.set_user_attr(BOUND_ATTR, searched)
        space = plan.space.describe()
        previous = study.user_attrs.get(SPACE_ATTR)
        if previous is not None and previous != space:
            log.warning("Study %r was run with another search space %s; continuing it with %s. "
                        "Set hydra.sweeper.study_name for a new study.", plan.study_name,
                        previous, space)
        study.set_user_attr(SPACE_ATTR, space)
        study.set_user_attr(PRUNER_ATTR, plan.pruner_spec)

    def _tracking_settings(self) -> SweepTrackingSettings | None:
        """The jobs' tracking store (None: tracking off), relative paths from the launch folder."""
        assert self.config is not None
        base_dir = Path(str(OmegaConf.select(self.config, "hydra.runtime.cwd", default=".")))
        return SweepTrackingSettings.from_job_config(self.config, base_dir)

    def _tracker(self, settings: SweepTrackingSettings | None, study: optuna.Study,
                 plan: SweepPlan) -> SweepTracker | None:
        if settings is None:
            return None
        with as_sweeper_errors():  # a tracking store that does not answer: one line
            tracker = SweepTracker(settings, study)
        tracker.log_sweep_settings({
            "study_name": plan.study_name, "storage": plan.storage_url,
            "sampler": type(plan.sampler).__name__, "pruner": plan.pruner_spec,
            "directions": plan.directions, "n_trials": plan.n_trials, "n_jobs": plan.n_jobs,
            **{f"params.{k}": v for k, v in plan.space.describe().items()},
        })
        return tracker

    def _n_workers(self, plan: SweepPlan) -> int:
        if type(self.launcher).__name__ in _SERIAL_LAUNCHERS and plan.n_jobs > 1:
            log.warning("hydra.sweeper.n_jobs=%d but %s runs one job at a time in this process; "
                        "use `hydra/launcher=joblib` to run trials in parallel",
                        plan.n_jobs, type(self.launcher).__name__)
            return 1
        return plan.n_jobs

    def _save_multirun_config(self, sweep_dir: Path) -> None:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        path = sweep_dir / "multirun.yaml"
        if not path.exists():  # a resumed sweep in the same folder keeps the first record
            OmegaConf.save(self.config, path)
