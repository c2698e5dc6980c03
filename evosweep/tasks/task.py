"""A task: its train and held-out pairs, and the held-out measures of its kind (``task.measures``).

Sources of the pairs: JSONL files (:func:`~evosweep.tasks.pairs.load_jsonl`), pairs
written inline in the task config, or a generator (a ``_target_`` returning (train,
held-out), as Countdown's). The loop asks the task what to measure in held-out
answers, how to label it and what to headline in the progress bar; it never tests
the task's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evosweep.settings.task import TaskSettings
from evosweep.tasks.kinds import measures_for
from evosweep.tasks.measures import TaskMeasures
from evosweep.tasks.pairs import Pair, inline_pairs, load_jsonl
from evosweep.tasks.text import TEXT_MEASURES


@dataclass
class Task:
    """A named task: a train split (fitness), a held-out split (reporting), the measures of
    held-out answers (text ones unless the task says otherwise) and, optionally, a second
    held-out set checked at the run's start and end (``task.transfer_path``)."""

    name: str
    train: list[Pair]
    heldout: list[Pair]
    measures: TaskMeasures = TEXT_MEASURES
    transfer: list[Pair] = field(default_factory=list)


def load_task(settings: TaskSettings) -> Task:
    """Load train and held-out pairs; with no held-out source, held-out = train."""
    measures = measures_for(settings.measures)  # a wrong kind fails before any file is read
    if settings.generator is not None:
        from evosweep.settings.instantiate import build

        train, heldout = build("task.generator", settings.generator)
    else:
        if settings.train_path is not None:
            train = load_jsonl(settings.train_path)
        else:
            train = inline_pairs(settings.train_pairs, "task.train_pairs")
        if settings.eval_path is not None:
            heldout = load_jsonl(settings.eval_path)
        else:
            heldout = inline_pairs(settings.eval_pairs, "task.eval_pairs")
    heldout = heldout or list(train)
    return Task(
        name=settings.name,
        train=train[: settings.max_train],
        heldout=heldout[: settings.max_eval],
        measures=measures,
        transfer=load_jsonl(settings.transfer_path) if settings.transfer_path is not None else [],
    )
