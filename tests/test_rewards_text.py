"""Text rewards score whole batches, stay in their documented range, and rank better answers higher."""

from __future__ import annotations

import random
import string

import pytest

from evosweep.errors import ConfigError
from evosweep.rewards.composite import CompositeReward
from evosweep.rewards.embedding import EmbeddingReward
from evosweep.rewards.length import LengthDistance, LengthPenalty
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.rewards.sacrebleu_metrics import BleuReward, ChrfReward
from evosweep.rewards.sentiment import SentimentReward
from evosweep.settings.build import build_settings

REFERENCES = ["the cat sits on the mat", "good morning to you", "hello"]


def random_strings(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(string.ascii_letters + "  ") for _ in range(len(r))) for r in REFERENCES]


def in_range(scores: list[float], reward) -> bool:
    low, high = reward.value_range
    return all(low - 1e-6 <= s <= high + 1e-6 for s in scores)


@pytest.mark.parametrize("make", [BleuReward, ChrfReward, EmbeddingReward], ids=["bleu", "chrf", "embedding"])
def test_exact_reference_beats_a_random_string(make):
    reward = make()
    exact = reward(REFERENCES, REFERENCES)
    noise = reward(random_strings(), REFERENCES)
    assert in_range(exact + noise, reward)
    assert all(e > n for e, n in zip(exact, noise, strict=True))
    assert exact == pytest.approx([1.0] * 3, abs=1e-5)


def test_embedding_ranks_a_paraphrase_above_an_unrelated_sentence():
    reward = EmbeddingReward()
    close, far = reward(["a kitten is sitting on the rug", "stock prices fell sharply today"],
                        [REFERENCES[0], REFERENCES[0]])
    assert 0.3 < close < 1.0 and far < close - 0.3


def test_embedding_encodes_each_distinct_text_once_in_one_batch(monkeypatch):
    reward = EmbeddingReward()
    model = reward.model
    calls = []
    original = model.encode

    def recording(texts, **kwargs):
        calls.append(list(texts))
        return original(texts, **kwargs)

    monkeypatch.setattr(model, "encode", recording)
    reward(["hello", "hi", "hello"], ["hello", "hello", "hello"])
    assert calls == [["hello", "hi"]]
    assert EmbeddingReward().model is model  # loaded once per process


def test_sentiment_prefers_positive_text():
    reward = SentimentReward()
    happy, neutral, sad = reward(["What a wonderful, lovely day!", "The bus leaves at noon.",
                                  "This is awful and I hate it."], [""] * 3)
    assert in_range([happy, neutral, sad], reward)
    assert happy > 0.5 > neutral > -0.5 > sad
    assert SentimentReward(score="pos").value_range == (0.0, 1.0)
    with pytest.raises(ConfigError, match="reward.score"):
        SentimentReward(score="happiness")


def test_conciseness_is_minus_the_length_distance_in_characters_or_words(compose_config):
    chars = LengthDistance()
    assert chars(["  hello ", "hello there", "hi"], ["hello", "hello", "hello"]) == [0.0, -6.0, -3.0]
    assert LengthDistance(unit="words")(["the big cat", "cat"], ["cat", "cat"]) == [-2.0, 0.0]
    with pytest.raises(ConfigError, match="reward.unit"):
        LengthDistance(unit="tokens")
    assert type(build_settings(compose_config(["reward=conciseness"])).reward).__name__ == "LengthDistance"


def test_length_penalty_from_the_reference_or_a_word_budget():
    relative = LengthPenalty()
    assert relative(["one two", "one two three four", "one", "a " * 50],
                    ["x y", "x y", "x y", "x y"]) == [0.0, -1.0, -0.5, -1.0]
    budget = LengthPenalty(max_words=4)
    assert budget(["a b", "a b c d e f"], ["", ""]) == [0.0, -0.5]
    with pytest.raises(ConfigError, match="reward.max_words"):
        LengthPenalty(max_words=0)


def test_composite_is_the_weighted_sum_of_its_terms():
    chrf, length = ChrfReward(), LengthPenalty()
    composite = CompositeReward([{"weight": 1.0, "reward": chrf}, {"weight": 0.1, "reward": length}])
    texts = ["the cat sat on a mat", "good", "hello hello hello"]
    expected = [c + 0.1 * p for c, p in zip(chrf(texts, REFERENCES), length(texts, REFERENCES), strict=True)]
    assert composite(texts, REFERENCES) == pytest.approx(expected)
    assert composite.value_range == pytest.approx((-0.1, 1.0))
    assert CompositeReward([{"weight": -2.0, "reward": chrf}]).value_range == (-2.0, 0.0)


@pytest.mark.parametrize("terms,field", [
    ([], "reward.terms"),
    ([{"weight": 1.0}], "reward.terms[0]"),
    ([{"weight": 1.0, "reward": "chrf"}], "reward.terms[0].reward"),
    ([{"weight": 1.0, "reward": LikelihoodReward()}], "reward.terms[0].reward"),
])
def test_composite_rejects_bad_terms(terms, field):
    with pytest.raises(ConfigError) as error:
        CompositeReward(terms)
    assert error.value.field == field


def test_composite_config_builds_nested_rewards_from_yaml(compose_config):
    reward = build_settings(compose_config(["reward=composite", "model=tiny-gpt2"])).reward
    assert [type(r).__name__ for r in reward.rewards] == ["ChrfReward", "LengthPenalty"]
    assert reward.weights == [1.0, 0.1]
    exact, wordy = reward([REFERENCES[2], "hello and more words"], [REFERENCES[2]] * 2)
    assert exact == pytest.approx(1.0) and wordy < exact


def test_exact_match_normalises_case_punctuation_and_spaces():
    from evosweep.evaluation.answers import exact_share, mean_words
    from evosweep.rewards.exact_match import ExactMatchReward, normalize_answer

    assert normalize_answer("  The  Cat. ") == "the cat"
    reward = ExactMatchReward()
    answers, references = ["Cat!", "the cat", "a cat", "«cat»"], ["cat", "The cat", "cat", "cat"]
    assert reward(answers, references) == [1.0, 1.0, 0.0, 1.0]
    assert exact_share(["Cat", "dog"], ["cat", "cat"]) == 0.5
    assert mean_words(["one two", "three"]) == 1.5


@pytest.mark.parametrize("variant", ["rouge1", "rouge2", "rougeL"])
def test_rouge_equals_the_library_on_known_pairs(variant):
    from rouge_score.rouge_scorer import RougeScorer

    from evosweep.rewards.rouge import RougeReward

    answers = ["the cat sat on the mat", "a dog", "", "Hello there, friend"]
    references = ["the cat is on the mat", "the dog barks", "something", "hello friend"]
    scorer = RougeScorer([variant])
    expected = [scorer.score(r, a)[variant].fmeasure for a, r in zip(answers, references, strict=True)]
    assert RougeReward(variant)(answers, references) == expected
    sat, on_mat = ["the cat sat on the mat"], ["the cat is on the mat"]  # 5 of 6 words, 3 of 5 bigrams
    assert RougeReward("rouge1")(sat, on_mat) == [pytest.approx(5 / 6)]
    assert RougeReward("rouge2")(sat, on_mat) == [pytest.approx(0.6)]


def test_rouge_variant_is_checked():
    from evosweep.errors import ConfigError
    from evosweep.rewards.rouge import RougeReward

    with pytest.raises(ConfigError, match="reward.variant"):
        RougeReward("rougeW")
