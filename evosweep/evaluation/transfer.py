"""The second held-out set (``task.transfer_path``): do a member's answers transfer?

The held-out split shares the train split's prompt form, so an adapter can score there by
learning the form's answer shape alone. A second set of other items in another form, read
at the run's start and end only, tells that apart from learning the task.
"""

from __future__ import annotations

import torch

from evosweep.evaluation.answers import exact_share
from evosweep.evaluation.protocol import Evaluator
from evosweep.tasks.task import Task

#: the measure's name: logged as ``heldout/base_transfer_exact`` and ``heldout/final_transfer_exact``
TRANSFER_EXACT = "transfer_exact"


def transfer_measures(evaluator: Evaluator, member: torch.Tensor, task: Task,
                      instruction: str | None = None) -> dict[str, float]:
    """``{"transfer_exact": share}`` of ``member``'s greedy answers to the task's second held-out
    set that are exactly right; ``{}`` when the task has none. One greedy pass of its prompts."""
    if not task.transfer:
        return {}
    answers = evaluator.greedy_answers(member, task.transfer, instruction)
    return {TRANSFER_EXACT: exact_share(answers, [pair.reference for pair in task.transfer])}
