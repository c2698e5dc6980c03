"""``n_jobs`` workers, each: ask a trial, launch its job, tell the result, repeat.

No lockstep: a worker asks for its next trial as soon as its own job ends. Counting
goes through the storage, so several sweep processes on one study stop together at
``n_trials`` finished (COMPLETE + PRUNED) trials: a worker waits while the remaining
slots are RUNNING elsewhere, since one of those may fail and need a rerun.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

import optuna
from hydra.core.utils import JobReturn
from omegaconf.errors import OmegaConfBaseException
from optuna.trial import FrozenTrial, TrialState

from evosweep.testing_hooks import kill_point
from evosweep.tracking.store import tracking_errors

from .errors import SweepError
from .outcome import TrialOutcome, outcome_of
from .plan import SweepPlan
from .study import Heartbeat, count_states, fail_stale_trials, is_surplus, n_done

log = logging.getLogger(__name__)

Launch = Callable[[list[str], int], JobReturn]
MakeOverrides = Callable[[optuna.trial.Trial], list[str]]
OnFinished = Callable[[FrozenTrial, TrialOutcome], None]
SURPLUS_ATTR = "evosweep.surplus"


class TrialLoop:
    """Runs trials of ``study`` until it holds ``plan.n_trials`` finished ones."""

    def __init__(self, study: optuna.Study, plan: SweepPlan, launch: Launch,
                 make_overrides: MakeOverrides, on_finished: OnFinished,
                 heartbeat: Heartbeat, n_workers: int, poll_s: float = 1.0) -> None:
        self.study = study
        self.plan = plan
        self.launch = launch
        self.make_overrides = make_overrides
        self.on_finished = on_finished
        self.heartbeat = heartbeat
        self.n_workers = n_workers
        self.poll_s = poll_s
        self.failures = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: BaseException | None = None

    def run(self) -> None:
        """Start the workers, wait for them; re-raise the first error that stopped the sweep."""
        threads = [
            threading.Thread(target=self._worker, name=f"optuna-worker-{i}", daemon=True)
            for i in range(self.n_workers)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        except BaseException:
            self._stop.set()
            raise
        if self._error is not None:
            raise self._error

    def _worker(self) -> None:
        # Samplers may call study.stop() from tell() (the grid sampler, once its grid is
        # done); Optuna allows that only inside its optimize loop, which this loop stands for.
        self.study._thread_local.in_optimize_loop = True  # noqa: SLF001
        try:
            while not self._stop.is_set():
                trial = self._next_trial()
                if trial is None:
                    return
                self._run_trial(trial)
        except BaseException as error:  # a launcher or storage crash: stop everyone
            self._fail(error)

    def _next_trial(self) -> optuna.trial.Trial | None:
        """A new RUNNING trial, or None once the study holds n_trials finished trials."""
        while not self._stop.is_set():
            with self._lock:
                stale = fail_stale_trials(self.study)
            self._record_stale(stale)
            with self._lock:
                counts = count_states(self.study)
                done = n_done(counts)
                if done >= self.plan.n_trials or self.study._stop_flag:  # noqa: SLF001 - study.stop()
                    return None
                if done + counts[TrialState.RUNNING] < self.plan.n_trials:
                    trial = self.study.ask(self.plan.space.distributions)
                    self.heartbeat.add(trial._trial_id)  # noqa: SLF001
                    if not is_surplus(self.study, trial.number, self.plan.n_trials):
                        return trial
                    # Another sweep process asked at the same moment and won the last slot.
                    trial.set_user_attr(SURPLUS_ATTR, True)
                    self.study.tell(trial, state=TrialState.FAIL)
                    self.heartbeat.discard(trial._trial_id)  # noqa: SLF001
            self._stop.wait(self.poll_s)  # the remaining slots run elsewhere: wait for them
        return None

    def _record_stale(self, stale: list[FrozenTrial]) -> None:
        """Trials of a dead process, just marked FAIL: record them (their slots are free again)."""
        for frozen in stale:
            log.info("Trial %d FAIL: its process stopped sending heartbeats", frozen.number)
            try:
                self.on_finished(frozen, TrialOutcome(TrialState.FAIL, message="stale"))
            except tracking_errors() as error:
                log.warning("after trial %d: %s: %s", frozen.number, type(error).__name__, error)

    def _run_trial(self, trial: optuna.trial.Trial) -> None:
        trial_id = trial._trial_id  # noqa: SLF001
        try:
            overrides = self.make_overrides(trial)
            job = self.launch(overrides, trial.number)
            kill_point("sweep.job_returned", trial.number)  # tests only: the result never told
            outcome = outcome_of(job, len(self.plan.directions))
            output_dir = _output_dir(job)
            if output_dir:
                trial.set_user_attr("output_dir", output_dir)
        except Exception as error:  # user code (custom search space) or the launcher: a FAIL trial
            outcome = TrialOutcome(TrialState.FAIL, error=error, message=f"{type(error).__name__}: {error}")
        except BaseException:  # a job's sys.exit(), Ctrl-C: record the trial, then stop
            self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            self.heartbeat.discard(trial_id)
            raise
        frozen = self.study.tell(trial, outcome.values, state=outcome.state, skip_if_finished=True)
        self.heartbeat.discard(trial_id)
        self._log(frozen, outcome)
        try:
            self.on_finished(frozen, outcome)
        except tracking_errors() as error:  # tracking trouble must not lose the sweep
            log.warning("after trial %d: %s: %s", frozen.number, type(error).__name__, error)
        if outcome.state == TrialState.FAIL:
            self._count_failure(frozen, outcome)

    def _count_failure(self, frozen: FrozenTrial, outcome: TrialOutcome) -> None:
        with self._lock:
            self.failures += 1
            rate = self.failures / self.plan.n_trials
        if outcome.config_error:
            self._fail(SweepError(outcome.message))
        elif rate > self.plan.max_failure_rate:
            self._fail(SweepError(
                f"trial {frozen.number} failed ({outcome.message}); {self.failures} failure(s) "
                f"exceed hydra.sweeper.max_failure_rate={self.plan.max_failure_rate}"
            ))

    def _fail(self, error: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = error
        self._stop.set()

    def _log(self, frozen: FrozenTrial, outcome: TrialOutcome) -> None:
        if outcome.state == TrialState.COMPLETE:
            shown: Any = frozen.values if len(frozen.values or []) > 1 else frozen.value
            log.info("Trial %d COMPLETE: %s %s", frozen.number, shown, frozen.params)
        else:
            log.info("Trial %d %s: %s", frozen.number, frozen.state.name, outcome.message)


def _output_dir(job: JobReturn) -> str | None:
    try:
        return str(job.hydra_cfg.hydra.runtime.output_dir)  # type: ignore[union-attr]
    except (AttributeError, OmegaConfBaseException):
        return None
