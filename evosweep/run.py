"""One evosweep run: load, evolve, track, return the objective.

The loop is CleanRL-style: one readable function, metric names namespaced
(``fitness/*``, ``heldout/*``, ``perf/*``). Algorithms never see the tracker.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from evosweep.algorithms.protocol import Algorithm, TellsScoresPerPrompt
from evosweep.assemble import assemble
from evosweep.errors import TrackingError
from evosweep.evaluation.evaluator import Evaluation
from evosweep.evaluation.heldout import CheckedMember, HeldoutCheck, check_heldout
from evosweep.evaluation.member_groups import evaluate_in_groups
from evosweep.evaluation.protocol import Evaluator
from evosweep.evaluation.transfer import transfer_measures
from evosweep.finish import finish_run
from evosweep.rewards.lifecycle import RunScopedReward
from evosweep.settings.build import RunSettings, build_settings, flat_params
from evosweep.state.checkpoint import capture_rng, restore_rng, resumable_checkpoint, save_checkpoint
from evosweep.state.folder_lock import folder_lock
from evosweep.state.relog import log_generation, relog_missing
from evosweep.tasks.minibatch import TrainBatches
from evosweep.testing_hooks import kill_point
from evosweep.tracking.datasets import task_datasets
from evosweep.tracking.mlflow_tracker import NullTracker, make_tracker
from evosweep.tracking.provenance import default_run_name, provenance_tags

log = logging.getLogger("evosweep")


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch and python; return the generator the algorithm draws from."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def run(cfg: DictConfig, output_dir: Path) -> float:
    """Evolve LoRA adapters as ``cfg`` says; return the final best's held-out reward.

    A checkpoint of the same config in ``output_dir`` is continued (``resume=true``
    or simply rerunning the command); a finished one returns its result at once.
    Another live run writing ``output_dir`` stops this one before it writes anything
    (:func:`~evosweep.state.folder_lock.folder_lock`).
    """
    settings = build_settings(cfg)  # a bad config fails before the folder is touched
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(output_dir):
        return _run(cfg, settings, output_dir)


def _run(cfg: DictConfig, settings: RunSettings, output_dir: Path) -> float:
    """:func:`run` inside its folder's lock."""
    params = flat_params(cfg)
    checkpoint = resumable_checkpoint(output_dir, params, settings.resume)
    if checkpoint is not None and "final" in checkpoint:
        log.info("%s already finished; held-out final %.4f", output_dir, checkpoint["final"])
        return float(checkpoint["final"])
    # the study and the tracking store first: one that does not answer fails before the model loads
    reporter = _trial_reporter(settings)
    if settings.tracking.run_name is None:  # the runs table shows es-fr_en-s0, not a random slug
        settings.tracking.run_name = default_run_name(settings.algorithm.name,
                                                      settings.task.name, settings.seed)
    tracker = make_tracker(settings.tracking)
    parts = assemble(settings, seed_everything(settings.seed))
    algorithm, evaluator, task = parts.algorithm, parts.evaluator, parts.task
    batches = TrainBatches(task.train, settings.task.minibatch, settings.seed)
    scoped = settings.reward if isinstance(settings.reward, RunScopedReward) else None
    stage = scoped.set_stage if scoped is not None else _no_stage  # reward=human_web shows it

    def save(**extra) -> None:
        save_checkpoint(output_dir, {
            "algorithm": algorithm.state_dict(), "history": history, "rl_history": rl_history,
            "base": base, "base_answers": base_answers, "rng": capture_rng(),
            "mlflow_run_id": tracker.run_id, "config": params,
            "train_batches": batches.state_dict(),
            "prompts": parts.prompts.state_dict() if parts.prompts else None, **extra,
        })

    try:  # until the generation loop's own try: a failure here must not leave workers or the page up
        if scoped is not None:
            scoped.open_run(output_dir)  # before the base check, which already asks for ratings
        if checkpoint is not None:
            algorithm.load_state_dict(checkpoint["algorithm"])
            history, rl_history, base = checkpoint["history"], checkpoint["rl_history"], checkpoint["base"]
            base_answers = checkpoint.get("base_answers")  # None in checkpoints from before it was kept
            restore_rng(checkpoint["rng"])
            batches.load_state_dict(checkpoint["train_batches"])
            if parts.prompts is not None:
                parts.prompts.load_state_dict(checkpoint["prompts"])
            tracker.start({}, {}, run_id=checkpoint.get("mlflow_run_id"))
            relog_missing(tracker, checkpoint)
            log.info("resumed from %s at generation %d", output_dir, algorithm.generation)
        else:
            history, rl_history = [], []
            stage("base check (held-out answers of the unchanged model)")
            base_check = check_heldout(evaluator, parts.initial_member, task)
            base_check.measures.update(transfer_measures(evaluator, parts.initial_member, task))
            base, base_answers = base_check.metrics("heldout/base_"), base_check.answers
            base["heldout/base"] = base.pop("heldout/base_best")
            tracker.start(params, {"evosweep.output_dir": str(output_dir), **provenance_tags(),
                                   **_trial_tags(settings)})
            tracker.log_datasets(task_datasets(task, settings.task.train_path, settings.task.eval_path,
                                               settings.task.transfer_path))
            save()  # generation 0: a kill from here on resumes into the same tracker run
            tracker.log_metrics(base, step=0)
            OmegaConf.save(cfg, output_dir / "config_resolved.yaml", resolve=True)
            tracker.log_artifact(output_dir / "config_resolved.yaml", "config")
    except BaseException:
        _release(evaluator, scoped, tracker)
        if tracker.run_id is not None:
            tracker.end("FAILED")
        raise

    total = settings.algorithm.generations
    status = "FAILED"
    try:
        limit = settings.time_limit_s  # under a time budget the bar counts generations, no total
        generations = range(algorithm.generation, total)
        bar = tqdm(generations if limit is None else iter(generations), initial=algorithm.generation,
                   total=total if limit is None else None, desc="generations", unit="gen", dynamic_ncols=True)
        shown: dict[str, str] = {}  # the last held-out check, in the progress bar
        last_check: CheckedMember | None = None  # the final check reuses it when nothing moved since
        for generation in bar:
            started, started_cpu = time.perf_counter(), time.process_time()
            stage(f"generation {generation}")
            population = algorithm.ask()  # (P, D)
            train = batches.next_groups(settings.task.minibatch_groups)  # G draws of N pairs
            prompt_metrics: dict[str, float] = {}
            if parts.prompts is None:
                evaluation = evaluate_in_groups(evaluator, population, train)  # scores (P, N)
            else:  # one pass: adapters with the best prompt, prompt variants with the best adapter
                evaluation, prompt_metrics = parts.prompts.evaluate(population, algorithm.best_member(),
                                                                    train[0])
            evaluated = time.perf_counter()
            extra = {**tell(algorithm, evaluation, len(train)), **prompt_metrics}
            kill_point("generation.told", generation)  # tests only, as below
            steps = algorithm.step_metrics()
            heldout = None
            if heldout_due(generation, total, settings.eval.heldout_every):
                stage(f"held-out check after generation {generation}")
                checked = algorithm.best_member().clone()
                heldout = check_heldout(evaluator, checked, task, parts.instruction)
                last_check = CheckedMember(checked, parts.instruction, heldout)
            row = {"generation": generation,
                   **generation_metrics(evaluation.fitness, evaluation.scores.numel(), heldout,
                                        evaluated - started, extra),
                   "perf/generation_s": time.perf_counter() - started,
                   "perf/generation_cpu_s": time.process_time() - started_cpu}
            history.append(row)
            rl_history.extend(steps)
            save()  # before logging: the tracker never gets ahead of the checkpoint
            kill_point("generation.saved", generation)  # tests only (evosweep/testing_hooks.py)
            log_generation(tracker, row, steps)
            if heldout is not None:
                shown = {"heldout": f"{heldout.reward:.4f}", "exact": f"{heldout.exact:.0%}",
                         **task.measures.progress_fields(heldout.measures)}  # e.g. countdown's format
            if limit is not None:  # e.g. budget=120/300 cpu-s
                shown["budget"] = (f"{spent_s(history, settings.time_limit_clock):.0f}/{limit:g} "
                                   f"{settings.time_limit_clock}-s")
            bar.set_postfix(best=f"{row['fitness/best']:.4f}", **shown)
            if reporter is not None and heldout is not None:
                reporter.report(generation, heldout.reward)
            if out_of_time(history, settings.time_limit_s, settings.time_limit_clock):
                log.info("time_limit_s=%s (%s clock) reached after generation %d", settings.time_limit_s,
                         settings.time_limit_clock, generation)
                break
        bar.close()
        stage("final check")
        final = finish_run(settings, output_dir, parts, history, base, tracker, base_answers, last_check)
        save(final=final)
        status = "FINISHED"
        tracker.set_tags({"optuna.state": "COMPLETE"} if reporter else {})
        return final
    except TrackingError as error:
        status = "FAILED"
        raise TrackingError(error.field, f"{error.message}; the checkpoint in {output_dir} is intact: "
                            f"once the store answers, rerun with hydra.run.dir={output_dir} "
                            "to resume") from None
    except BaseException as error:
        pruned = reporter is not None and reporter.is_pruned(error)  # only a reporter prunes
        status = "KILLED" if pruned or isinstance(error, KeyboardInterrupt) else "FAILED"
        if reporter is not None:
            tracker.set_tags({"optuna.state": "PRUNED" if pruned else "FAIL"})
        raise
    finally:
        _release(evaluator, scoped, tracker)
        tracker.end(status)


def _no_stage(_stage: str) -> None:
    """Stages matter only to run-scoped rewards."""


def _release(evaluator: Evaluator, reward: RunScopedReward | None, tracker: NullTracker) -> None:
    """Whatever ended the run: stop the evaluation workers (``eval.workers``), close a run-scoped
    reward and log its files (e.g. ratings.jsonl) as artifacts."""
    evaluator.close()
    if reward is None:
        return
    for path in reward.close_run():
        if tracker.run_id is None:  # ended before the tracker started: the file stays in the run folder
            continue
        try:
            tracker.log_artifact(path, "human_feedback")
        except TrackingError as error:  # the file stays in the run folder
            log.warning("could not log %s to the tracker: %s", path, error)


def tell(algorithm: Algorithm, evaluation: Evaluation, groups: int = 1) -> dict[str, float]:
    """Give the algorithm the generation's scores: per prompt where it takes them (``groups``
    member groups, each on its own prompts), else the mean."""
    if isinstance(algorithm, TellsScoresPerPrompt):
        return algorithm.tell_scores(evaluation.scores, groups)
    return algorithm.tell(evaluation.fitness)


def heldout_due(generation: int, total: int, every: int) -> bool:
    """Whether generation ``generation`` (0-based) of ``total`` gets a held-out check."""
    return (generation + 1) % every == 0 or generation == total - 1


def generation_metrics(fitness: torch.Tensor, evals: int, heldout: HeldoutCheck | None, eval_s: float,
                       extra: dict[str, float]) -> dict[str, float]:
    """One generation's metrics; members whose reward failed (NaN) are counted, not averaged.
    ``heldout`` None: no check this generation (``eval.heldout_every``), no ``heldout/*``."""
    failed = fitness.isnan()
    scored = fitness[~failed] if not failed.all() else fitness
    return {
        "fitness/best": float(scored.max()),
        "fitness/mean": float(scored.mean()),
        "fitness/std": float(scored.std()) if scored.numel() > 1 else 0.0,
        "fitness/failed_members": float(failed.sum()),
        **(heldout.metrics() if heldout is not None else {}),
        # the evaluation pass also scored the prompt variants (prompts=coevolve)
        "perf/evals_per_s": (evals + extra.get("perf/prompt_reward_evals", 0)) / max(eval_s, 1e-9),
        # RL steps and prompt variants count the texts they had scored (perf/*_reward_evals)
        "perf/reward_evals": float(evals + sum(value for key, value in extra.items()
                                               if key.endswith("_reward_evals"))),
        **extra,
    }


def spent_s(history: list[dict[str, float]], clock: str = "wall") -> float:
    """The generations' wall (or CPU) seconds so far: what ``time_limit_s`` counts."""
    key = "perf/generation_cpu_s" if clock == "cpu" else "perf/generation_s"
    return sum(row.get(key, row["perf/generation_s"]) for row in history)


def out_of_time(history: list[dict[str, float]], limit_s: float | None, clock: str = "wall") -> bool:
    """True once the generations' wall (or CPU) seconds reach ``time_limit_s`` (None: never)."""
    return limit_s is not None and spent_s(history, clock) >= limit_s


def _trial_reporter(settings: RunSettings):
    """The Optuna trial's reporter inside a sweep (its runs are named trial-N), else None."""
    if settings.optuna_trial is None:
        return None
    from evosweep.sweep.pruning import TrialReporter

    if settings.tracking.run_name is None:
        settings.tracking.run_name = f"trial-{settings.optuna_trial.get('trial_number')}"
    return TrialReporter.from_config(settings.optuna_trial)


def _trial_tags(settings: RunSettings) -> dict[str, str]:
    trial = settings.optuna_trial or {}
    tags = {}
    if trial.get("mlflow_parent_run_id"):
        tags["mlflow.parentRunId"] = str(trial["mlflow_parent_run_id"])
    if trial.get("trial_number") is not None:
        tags["optuna.trial_number"] = str(trial["trial_number"])
    return tags

