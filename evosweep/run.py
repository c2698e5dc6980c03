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

from evosweep.algorithms.context import AlgorithmContext
from evosweep.checkpoint import capture_rng, restore_rng, resumable_checkpoint, save_checkpoint
from evosweep.config import RunSettings, build_settings, flat_params
from evosweep.evaluate import PopulationEvaluator
from evosweep.lora_batch import BatchedLora
from evosweep.models import load_model, resolve_device
from evosweep.plots import plot_fitness_curve
from evosweep.population import LoraLayout
from evosweep.resume import log_generation, relog_missing
from evosweep.summary import sample_table, summary_table
from evosweep.tasks import load_task
from evosweep.tracking import make_tracker

log = logging.getLogger("evosweep")


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch and python; return the generator the algorithm draws from."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _trial_tags(settings: RunSettings) -> dict[str, str]:
    trial = settings.optuna_trial or {}
    tags = {}
    if trial.get("mlflow_parent_run_id"):
        tags["mlflow.parentRunId"] = str(trial["mlflow_parent_run_id"])
    if trial.get("trial_number") is not None:
        tags["optuna.trial_number"] = str(trial["trial_number"])
    return tags


def run(cfg: DictConfig, output_dir: Path) -> float:
    """Evolve LoRA adapters as ``cfg`` says; return the final best's held-out reward.

    A checkpoint of the same config in ``output_dir`` is continued (``resume=true``
    or simply rerunning the command); a finished one returns its result at once.
    """
    settings = build_settings(cfg)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    params = flat_params(cfg)
    checkpoint = resumable_checkpoint(output_dir, params, settings.resume)
    if checkpoint is not None and "final" in checkpoint:
        log.info("%s already finished; held-out final %.4f", output_dir, checkpoint["final"])
        return float(checkpoint["final"])
    generator = seed_everything(settings.seed)

    task = load_task(settings.task)  # before the model: a bad file fails in a second, not 20
    device = resolve_device(settings.device)
    loaded = load_model(settings.model, device)
    layout = LoraLayout.from_model(loaded.model, settings.model.lora)
    lora = BatchedLora(loaded.model, layout)
    evaluator = PopulationEvaluator(loaded, lora, settings.reward, settings.eval)
    context = AlgorithmContext(
        initial_member=layout.initial_member(generator), generator=generator,
        selection=settings.selection, crossover=settings.crossover,
        mutation=settings.mutation, schedule=settings.schedule, loaded=loaded, layout=layout,
        lora=lora, evaluator=evaluator, reward=settings.reward, train_pairs=task.train,
    )
    algorithm = settings.algorithm.build(context)
    reporter = None
    if settings.optuna_trial is not None:
        from evosweep.trial_report import TrialReporter

        reporter = TrialReporter.from_config(settings.optuna_trial)
        if settings.tracking.run_name is None:
            settings.tracking.run_name = f"trial-{settings.optuna_trial.get('trial_number')}"
    tracker = make_tracker(settings.tracking)

    def save(**extra) -> None:
        save_checkpoint(output_dir, {
            "algorithm": algorithm.state_dict(), "history": history, "rl_history": rl_history,
            "base_heldout": base_heldout, "rng": capture_rng(), "mlflow_run_id": tracker.run_id,
            "config": params, **extra,
        })

    if checkpoint is not None:
        algorithm.load_state_dict(checkpoint["algorithm"])
        history, rl_history = checkpoint["history"], checkpoint.get("rl_history", [])
        base_heldout = checkpoint["base_heldout"]
        restore_rng(checkpoint["rng"])
        tracker.start({}, {}, run_id=checkpoint.get("mlflow_run_id"))
        relog_missing(tracker, checkpoint)
        log.info("resumed from %s at generation %d", output_dir, algorithm.generation)
    else:
        history, rl_history = [], []
        base_heldout = float(evaluator.evaluate(context.initial_member[None], task.heldout).fitness[0])
        tags = {"evosweep.output_dir": str(output_dir), **_trial_tags(settings)}
        tracker.start(params, tags)
        save()  # generation 0: a kill from here on resumes into the same tracker run
        tracker.log_metrics({"heldout/base": base_heldout}, step=0)
        OmegaConf.save(cfg, output_dir / "config_resolved.yaml", resolve=True)
        tracker.log_artifact(output_dir / "config_resolved.yaml", "config")

    total = settings.algorithm.generations
    status = "FAILED"
    try:
        bar = tqdm(range(algorithm.generation, total), initial=algorithm.generation, total=total,
                   desc="generations", unit="gen", dynamic_ncols=True)
        for generation in bar:
            started = time.perf_counter()
            population = algorithm.ask()  # (P, D)
            evaluation = evaluator.evaluate(population, task.train)
            evaluated = time.perf_counter()
            extra = algorithm.tell(evaluation.fitness)
            steps = algorithm.step_metrics() if hasattr(algorithm, "step_metrics") else []
            best = algorithm.best_member()
            heldout = float(evaluator.evaluate(best[None], task.heldout).fitness[0])
            fitness = evaluation.fitness
            failed = fitness.isnan()  # members whose reward failed: counted, left out of the stats
            fitness = fitness[~failed] if not failed.all() else fitness
            evals = evaluation.scores.numel()
            metrics = {
                "fitness/best": float(fitness.max()),
                "fitness/mean": float(fitness.mean()),
                "fitness/std": float(fitness.std()) if fitness.numel() > 1 else 0.0,
                "fitness/failed_members": float(failed.sum()),
                "heldout/best": heldout,
                "perf/evals_per_s": evals / max(evaluated - started, 1e-9),
                "perf/generation_s": time.perf_counter() - started,
                # RL algorithms count the completions they sampled and scored
                "perf/reward_evals": float(evals + extra.get("perf/rl_reward_evals", 0)),
                **extra,
            }
            history.append({"generation": generation, **metrics})
            rl_history.extend(steps)
            save()  # before logging: the tracker never gets ahead of the checkpoint
            log_generation(tracker, history[-1], steps)
            bar.set_postfix(best=f"{metrics['fitness/best']:.4f}", heldout=f"{heldout:.4f}")
            if reporter is not None:
                reporter.report(generation, heldout)
        bar.close()
        final = _finish(settings, output_dir, evaluator, algorithm, task, history,
                        base_heldout, tracker, layout, context.initial_member)
        save(final=final)
        status = "FINISHED"
        tracker.set_tags({"optuna.state": "COMPLETE"} if reporter else {})
        return final
    except BaseException as error:
        pruned = type(error).__name__ == "TrialPruned"
        status = "KILLED" if pruned or isinstance(error, KeyboardInterrupt) else "FAILED"
        if reporter is not None:
            tracker.set_tags({"optuna.state": "PRUNED" if pruned else "FAIL"})
        raise
    finally:
        tracker.end(status)


def _finish(settings, output_dir, evaluator, algorithm, task, history, base_heldout,
            tracker, layout, initial_member) -> float:
    """Save the best adapter, plot, sample answers, print the summary; return the objective."""
    best = algorithm.best_member()
    final = float(evaluator.evaluate(best[None], task.heldout).fitness[0])
    tracker.log_metrics({"heldout/final": final}, step=len(history))
    adapter_dir = layout.save_adapter(best, output_dir / "adapters" / "best",
                                      settings.model.name_or_path)
    tracker.log_artifact(adapter_dir, "adapters/best")
    if history:
        plot = plot_fitness_curve(history, output_dir / "fitness_curve.png",
                                  f"{settings.algorithm.name} on {task.name}")
        tracker.log_artifact(plot, "plots")
    pairs = task.heldout
    members = torch.stack([initial_member, best])
    answers = evaluator.generate(members, pairs)
    samples = sample_table([p.prompt for p in pairs], [p.reference for p in pairs],
                           answers[0], answers[1])
    rows = [
        ("task / reward", f"{task.name} / {type(settings.reward).__name__}"),
        ("algorithm", f"{settings.algorithm.name}, P={getattr(settings.algorithm, 'population_size', '-')}"
                      f", {len(history)} generations"),
        ("train best (first -> last gen)",
         f"{history[0]['fitness/best']:.4f} -> {history[-1]['fitness/best']:.4f}" if history else "-"),
        ("held-out base", f"{base_heldout:.4f}"),
        ("held-out final best", f"{final:.4f} ({final - base_heldout:+.4f})"),
        ("reward evals", f"{sum(row['perf/reward_evals'] for row in history):.0f}"),
        ("adapter", str(adapter_dir)),
    ]
    text = f"{summary_table(rows)}\n\nHeld-out answers (greedy):\n\n{samples}\n"
    (output_dir / "summary.md").write_text(text)
    tracker.log_artifact(output_dir / "summary.md", "summary")
    print("\n" + text, flush=True)
    return final
