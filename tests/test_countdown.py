"""Countdown: the safe arithmetic parser, the verifier reward, and the seeded task generator."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from test_rewards_runs import SHORT, run_in_range

from evosweep.errors import ConfigError
from evosweep.rewards import countdown_verifier
from evosweep.rewards.arithmetic import ExpressionError, evaluate
from evosweep.rewards.countdown_verifier import CountdownReward
from evosweep.settings.build import build_settings
from evosweep.tasks.countdown import CountdownProblem, countdown_splits
from evosweep.tasks.task import load_task

PROBLEM = CountdownProblem(numbers=(3, 7, 25), target=46)
REFERENCE = PROBLEM.to_reference()


def score(completion: str, **kwargs) -> float:
    return CountdownReward(**kwargs)([completion], [REFERENCE])[0]


def test_evaluate_is_exact_and_respects_precedence():
    assert evaluate("2 + 3 * 4").value == 14
    assert evaluate("(2 + 3) * 4").value == 20
    assert evaluate("7 / 2").value == Fraction(7, 2)
    assert evaluate("-(3 - 10)").numbers == (3, 10)
    assert evaluate(" 8/(3-8/3) ").value == 24  # exact, no float rounding


@pytest.mark.parametrize("text", ["", "2 +", "(1 + 2", "1 + 2)", "3 x 4", "abs(-3)", "1.5 * 2",
                                  "__import__('os')", "2 ** 3", "2 ^ 3", "1 = 1"])
def test_evaluate_rejects_anything_outside_the_grammar(text):
    with pytest.raises(ExpressionError):
        evaluate(text)


def test_correct_expression_scores_one_plus_format():
    assert score("<answer>25 + 3 * 7</answer>") == pytest.approx(1.1)
    assert score("I think <answer>(7 * 3) + 25 = 46</answer>") == pytest.approx(1.1)
    assert score("<answer>1</answer> no wait <answer>25 + 21</answer>") == pytest.approx(0.1)


def test_wrong_malformed_and_missing_answers_get_partial_or_no_credit():
    assert score("<answer>25 + 7 + 3</answer>") == pytest.approx(0.1)  # wrong value
    assert score("<answer>twenty five plus</answer>") == pytest.approx(0.05)  # malformed
    assert score("25 + 3 * 7") == 0.0  # no answer tags
    assert score("<answer>25 + 3 * 7") == 0.0  # unclosed tag


def test_numbers_must_be_given_and_used_at_most_once():
    assert score("<answer>25 + 25 - 4</answer>") == pytest.approx(0.1)  # 25 twice, 4 not given
    assert score("<answer>46</answer>") == pytest.approx(0.1)  # 46 is not one of the numbers
    subset = CountdownReward()(["<answer>25 * 3 + 7</answer>"],
                               [CountdownProblem((3, 7, 25, 9), 82).to_reference()])
    assert subset == [pytest.approx(1.1)]  # 9 unused: fine by default
    assert CountdownReward(use_all=True)(["<answer>25 * 3 + 7</answer>"],
                                         [CountdownProblem((3, 7, 25, 9), 82).to_reference()]) == [0.1]


def test_closeness_gives_partial_credit_to_near_misses_only():
    # 46 from (3, 7, 25): 25 + 7 + 3 = 35 misses by 11 of 46; 25 * 3 = 75 misses by 29
    near, far = "<answer>25 + 7 + 3</answer>", "<answer>25 * 3</answer>"
    assert score(near, closeness_weight=0.5) == pytest.approx(0.1 + 0.5 * (1 - 11 / 46))
    assert score(far, closeness_weight=0.5) == pytest.approx(0.1 + 0.5 * (1 - 29 / 46))
    assert score("<answer>25 * 7 * 3</answer>", closeness_weight=0.5) == pytest.approx(0.1)  # clipped at 0
    assert score("<answer>25 + 3 * 7</answer>", closeness_weight=0.5) == pytest.approx(1.1)  # right: no extra
    assert score("<answer>46 - 1</answer>", closeness_weight=0.5) == pytest.approx(0.1)  # numbers not given
    assert score("<answer>twenty</answer>", closeness_weight=0.5) == pytest.approx(0.05)
    assert score(near) == pytest.approx(0.1)  # off by default


@pytest.mark.parametrize("weight", [-0.1, 1.0, 2.0])
def test_closeness_weight_must_leave_a_right_answer_on_top(weight):
    with pytest.raises(ConfigError, match="reward.closeness_weight"):
        CountdownReward(closeness_weight=weight)


def test_division_by_zero_is_a_wrong_answer_not_a_crash():
    assert score("<answer>25 / (7 - 7)</answer>") == pytest.approx(0.05)
    assert score("<answer>(25 + 21) / (3 - 3)</answer>") == pytest.approx(0.05)


#: model text that would be slow or huge with an unguarded evaluator, and the limit that refuses it
ADVERSARIAL = [
    ("25 ** 99999999999", "more than 6 digits"),
    ("25 ** 999", "unexpected '\\*'"),  # no power operator
    ("9^9^9^9^9", "character '\\^' is not allowed"),
    ("(" * 5000 + "3" + ")" * 5000, "longer than 200 characters"),
    ("-" * 5000 + "3", "longer than 200 characters"),
    ("9" * 100000, "longer than 200 characters"),
    ("1 = " * 20000 + "46", "longer than 200 characters"),
    ("(" * 40 + "3" + ")" * 40, "nested deeper than 32 levels"),
    ("1234567 + 1", "more than 6 digits"),
]


@pytest.mark.parametrize("text,refusal", ADVERSARIAL)
def test_adversarial_expressions_are_refused_by_a_limit(text, refusal, monkeypatch):
    """Each is refused by the grammar or a size limit before any arithmetic: no slow path.
    The reward goes through the same guarded parser and gets the same refusal."""
    answer = text.rsplit("=", 1)[0] if "=" in text else text  # the verifier drops a restated "= 46"
    with pytest.raises(ExpressionError, match=refusal):
        evaluate(answer)
    refusals: list[str] = []

    def recorded(expression: str):
        try:
            return evaluate(expression)
        except ExpressionError as error:
            refusals.append(str(error))
            raise

    monkeypatch.setattr(countdown_verifier, "evaluate", recorded)
    assert score(f"<answer>{text}</answer>") == pytest.approx(0.05)  # tags around a non-expression
    assert len(refusals) == 1 and re.search(refusal, refusals[0])


def test_the_largest_allowed_expression_stays_small():
    """What passes the limits is at most 200 characters of 6-digit numbers: an exact, quick value."""
    text = " * ".join(["999999"] * 20)  # 177 characters
    assert evaluate(text).value == 999999 ** 20
    assert score(f"<answer>{text}</answer>") == pytest.approx(0.1)  # well formed, wrong


def test_reward_on_a_non_countdown_reference_is_a_config_error():
    with pytest.raises(ConfigError, match="task=countdown"):
        CountdownReward()(["<answer>1</answer>"], ["hello"])


def test_generator_is_seeded_distinct_and_every_problem_has_a_checked_solution():
    train, heldout = countdown_splits(seed=1, train_size=40, heldout_size=20)
    assert (train, heldout) == countdown_splits(seed=1, train_size=40, heldout_size=20)
    assert train != countdown_splits(seed=2, train_size=40, heldout_size=20)[0]
    assert len(train) == 40 and len(heldout) == 20
    assert not {p.reference for p in train} & {p.reference for p in heldout}
    reward = CountdownReward(use_all=True)
    for pair in train + heldout:
        problem = CountdownProblem.from_reference(pair.reference)
        assert 3 <= len(problem.numbers) <= 4 and 1 <= problem.target <= 100
        assert str(problem.target) in pair.prompt and "<answer>" in pair.prompt
        assert reward([f"<answer>{problem.solution}</answer>"], [pair.reference]) == [pytest.approx(1.1)]
        assert pair.target == pair.demonstration == f"<answer>{problem.solution}</answer>"


def test_likelihood_and_sft_learn_from_the_demonstration_not_the_json(tiny_gpt2):
    from evosweep.evaluation.prompts import encode_targets

    (pair,), _ = countdown_splits(seed=0, train_size=1, heldout_size=1)
    encoded = encode_targets(tiny_gpt2, [pair], append_eos=False, device="cpu")
    taught = tiny_gpt2.tokenizer.decode(encoded["input_ids"][0][encoded["targets"][0]])
    assert taught == pair.demonstration and "numbers" not in taught


def test_generator_rejects_impossible_requests():
    with pytest.raises(ConfigError, match="min_numbers"):
        countdown_splits(min_numbers=1)
    with pytest.raises(ConfigError, match="distinct problems"):
        countdown_splits(train_size=50, heldout_size=10, min_numbers=2, max_numbers=2,
                         max_number=3, max_target=3)


def test_task_config_generates_splits(compose_config):
    task = load_task(build_settings(compose_config(["task=countdown", "task.generator.seed=5"])).task)
    assert task.name == "countdown"
    assert len(task.train) == 16 and len(task.heldout) == 32  # max_train: 16


def test_short_countdown_run_on_tiny_gpt2_stays_in_range(compose_config, tmp_path, capsys):
    """Renamed, it is still Countdown: its measures logged, labelled, headlined in the progress bar."""
    overrides = [o for o in SHORT if o != "task=bonjour"] + [
        "task=countdown", "task.name=countdown_hard", "reward=countdown",
        "task.max_train=2", "task.max_eval=2"]
    history = run_in_range(compose_config(overrides), tmp_path)
    assert {"heldout/format", "heldout/accuracy"} <= set(history[-1]) and "heldout/chrf" not in history[-1]
    assert "format=" in capsys.readouterr().err
    assert "held-out answers well formed" in (tmp_path / "summary.md").read_text()
