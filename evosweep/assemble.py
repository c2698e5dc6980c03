"""Build a run's parts from validated settings: task, frozen model, LoRA layout, evaluator, algorithm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from evosweep.algorithms.coevolution import PromptCoevolution
from evosweep.algorithms.context import AlgorithmContext
from evosweep.distributed.pool import WorkerPool
from evosweep.distributed.pooled_evaluator import PooledEvaluator, start_pool
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.device import resolve_device
from evosweep.models.loading import LoadedModel, load_model
from evosweep.settings.build import RunSettings
from evosweep.tasks.task import Task, load_task


@dataclass
class RunParts:
    """Everything the generation loop touches."""

    task: Task
    loaded: LoadedModel
    layout: LoraLayout
    evaluator: PopulationEvaluator
    initial_member: torch.Tensor  # (D,): the unchanged adapter, i.e. the base model's behaviour
    algorithm: Any
    prompts: PromptCoevolution | None  # prompts=coevolve, else None

    @property
    def instruction(self) -> str | None:
        """The prompt variant to wrap prompts in: the best evolved one, or None (the config's)."""
        return None if self.prompts is None else self.prompts.best


def assemble(settings: RunSettings, generator: torch.Generator) -> RunParts:
    """Load and wire the parts; the task first, so a bad file fails before the model loads."""
    task = load_task(settings.task)
    device = resolve_device(settings.device)
    pool = start_pool(settings) if settings.eval.workers else None  # eval.workers: Ray actors
    try:
        return _wire(settings, generator, task, device, pool)
    except BaseException:
        if pool is not None:  # a model that fails to load must not leave the actors running
            pool.close()
        raise


def _wire(settings: RunSettings, generator: torch.Generator, task: Task, device: str,
          pool: WorkerPool | None) -> RunParts:
    loaded = load_model(settings.model, device)
    layout = LoraLayout.from_model(loaded.model, settings.model.lora)
    lora = BatchedLora(loaded.model, layout)
    if pool is None:
        evaluator = PopulationEvaluator(loaded, lora, settings.reward, settings.eval)
    else:
        evaluator = PooledEvaluator(loaded, lora, settings.reward, settings.eval, pool)
    initial = layout.initial_member(generator)  # drawn either way: same random stream
    if settings.model.lora.init_adapter:
        initial = layout.load_adapter(settings.model.lora.init_adapter)
    context = AlgorithmContext(
        initial_member=initial, generator=generator,
        selection=settings.selection, crossover=settings.crossover,
        mutation=settings.mutation, schedule=settings.schedule, loaded=loaded, layout=layout,
        lora=lora, evaluator=evaluator, reward=settings.reward, train_pairs=task.train,
    )
    algorithm = settings.algorithm.build(context)
    prompts = PromptCoevolution.build(settings.prompts, settings.text_operators, settings.model.system_prompt,
                                      task.train, evaluator, context.initial_member, settings.seed)
    return RunParts(task, loaded, layout, evaluator, context.initial_member, algorithm, prompts)
