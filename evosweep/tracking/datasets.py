"""A task's train and held-out splits as dataset records (MLflow's Dataset column).

Pure data: the MLflow entities are made in ``mlflow_tracker``, the only module that
imports mlflow. The digest changes when any pair changes, so two runs whose tables
disagree can be told apart by the data they saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from evosweep.tasks.pairs import Pair
from evosweep.tasks.task import Task

SCHEMA = json.dumps({"mlflow_colspec": [{"name": "prompt", "type": "string"},
                                        {"name": "reference", "type": "string"}]})


@dataclass(frozen=True)
class DatasetRecord:
    """One split: ``context`` is MLflow's (``training`` or ``evaluation``)."""

    name: str
    digest: str
    source: str
    schema: str
    profile: str
    context: str


def _digest(pairs: list[Pair]) -> str:
    text = "\n".join(json.dumps([pair.prompt, pair.reference]) for pair in pairs)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def task_datasets(task: Task, train_source: str | None, heldout_source: str | None,
                  transfer_source: str | None = None) -> list[DatasetRecord]:
    """The task's train split (``training``), held-out split and second held-out set, if any
    (both ``evaluation``)."""
    splits = [("train", task.train, train_source, "training"),
              ("heldout", task.heldout, heldout_source, "evaluation")]
    if task.transfer:
        splits.append(("transfer", task.transfer, transfer_source, "evaluation"))
    return [
        DatasetRecord(name=f"{task.name}-{split}", digest=_digest(pairs),
                      source=json.dumps({"uri": source or f"evosweep task {task.name}"}),
                      schema=SCHEMA, profile=json.dumps({"num_rows": len(pairs)}), context=context)
        for split, pairs, source, context in splits
    ]
