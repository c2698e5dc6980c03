"""What a person sees in answers: right or not, how long, on topic, well formed.

Every text task gets ``exact`` and ``answer_words``; a task's own measures come on
top (:func:`answer_measures`): chrF and characters for translation-like tasks, the
share of well-formed and of correct answers for Countdown.
"""

from __future__ import annotations

from sacrebleu.metrics import CHRF

from evosweep.rewards.countdown_verifier import judge
from evosweep.rewards.exact_match import ExactMatchReward
from evosweep.tasks.countdown import CountdownProblem

_EXACT = ExactMatchReward()
_CHRF = CHRF()


def exact_share(answers: list[str], references: list[str]) -> float:
    """Share of answers equal to their reference (see :class:`ExactMatchReward`)."""
    if not answers:
        return 0.0
    return sum(_EXACT(answers, references)) / len(answers)


def mean_words(answers: list[str]) -> float:
    """Mean number of whitespace-separated words per answer."""
    return sum(len(answer.split()) for answer in answers) / max(len(answers), 1)


def text_measures(answers: list[str], references: list[str]) -> dict[str, float]:
    """``chrf``: mean sentence chrF / 100 against the references (on topic or not);
    ``answer_chars``: mean characters per stripped answer."""
    count = max(len(answers), 1)
    chrf = sum(_CHRF.sentence_score(answer.strip(), [reference]).score
               for answer, reference in zip(answers, references, strict=True)) / 100
    return {"chrf": chrf / count, "answer_chars": sum(len(a.strip()) for a in answers) / count}


def countdown_measures(answers: list[str], references: list[str]) -> dict[str, float]:
    """``format``: share of answers whose last ``<answer>`` holds an expression that
    evaluates; ``accuracy``: share that reach the target with the given numbers."""
    verdicts = [judge(answer, CountdownProblem.from_reference(reference))
                for answer, reference in zip(answers, references, strict=True)]
    count = max(len(verdicts), 1)
    return {"format": sum(v.form == 1.0 for v in verdicts) / count,
            "accuracy": sum(v.correct for v in verdicts) / count}


#: task name -> its measures (any other task: :func:`text_measures`)
TASK_MEASURES = {"countdown": countdown_measures}


def answer_measures(task_name: str, answers: list[str], references: list[str]) -> dict[str, float]:
    """The task's own measures of ``answers`` (see :data:`TASK_MEASURES`)."""
    return TASK_MEASURES.get(task_name, text_measures)(answers, references)
