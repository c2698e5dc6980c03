"""The held-out check of one member: its reward, and what a person reads in its answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from evosweep.evaluation.answers import exact_share, mean_words
from evosweep.evaluation.divergence import kl_to_base
from evosweep.evaluation.protocol import Evaluator
from evosweep.tasks.task import Task


@dataclass
class HeldoutCheck:
    """``reward``: mean held-out reward; ``exact``/``answer_words`` from the greedy answers;
    ``measures``: the task's own (chrF, format, ...: ``task.measures``) and ``kl`` to the base model."""

    reward: float
    exact: float
    answer_words: float
    answers: list[str]
    measures: dict[str, float] = field(default_factory=dict)

    def metrics(self, prefix: str = "heldout/") -> dict[str, float]:
        """``heldout/best``-style names (``prefix`` + best, exact, answer_words, each measure)."""
        return {f"{prefix}best": self.reward, f"{prefix}exact": self.exact,
                f"{prefix}answer_words": self.answer_words,
                **{f"{prefix}{name}": value for name, value in self.measures.items()}}


def check_heldout(evaluator: Evaluator, member: torch.Tensor, task: Task,
                  instruction: str | None = None) -> HeldoutCheck:
    """Score ``member`` (``(D,)``) on the task's held-out pairs and read its greedy answers.

    A greedy text reward's own answers are reused; otherwise (likelihood, sampling)
    the answers cost one extra greedy pass of ``len(task.heldout)`` rows. ``instruction``:
    the prompt variant to wrap the prompts in (None = ``model.system_prompt``).
    The task measures its answers (:attr:`Task.measures <evosweep.tasks.task.Task.measures>`);
    ``eval.heldout_kl`` adds ``kl``, KL(adapted || base) per answer token.
    """
    pairs = task.heldout
    evaluation = evaluator.evaluate(member[None], pairs, None if instruction is None else [instruction])
    if evaluation.completions is not None and not evaluator.settings.do_sample:
        answers = evaluation.completions[0]
    else:
        answers = evaluator.greedy_answers(member, pairs, instruction)
    references = [pair.reference for pair in pairs]
    measures = task.measures(answers, references)
    if evaluator.settings.heldout_kl:
        measures["kl"] = kl_to_base(evaluator.loaded.with_instruction(instruction), evaluator.lora,
                                    member, pairs, answers, evaluator.settings.share_prompt_prefix)
    return HeldoutCheck(float(evaluation.fitness[0]), exact_share(answers, references),
                        mean_words(answers), answers, measures)


@dataclass(frozen=True)
class CheckedMember:
    """A held-out check and what it checked: the member and the prompt variant."""

    member: torch.Tensor
    instruction: str | None
    check: HeldoutCheck


def check_or_reuse(evaluator: Evaluator, member: torch.Tensor, task: Task, instruction: str | None,
                   last: CheckedMember | None) -> HeldoutCheck:
    """``last``'s check when it scored this very member and prompt variant with greedy answers
    (a fresh check would give the same numbers), else a fresh :func:`check_heldout`.

    Sampled answers (``eval.do_sample``) are always checked afresh."""
    if (last is not None and not evaluator.settings.do_sample and last.instruction == instruction
            and torch.equal(last.member, member)):
        return last.check
    return check_heldout(evaluator, member, task, instruction)
