"""The reward-model reward on a tiny classifier built and trained in code, saved to a temp folder."""

from __future__ import annotations

import json

import pytest
import torch
from test_rewards_runs import SHORT, run_in_range
from transformers import GPT2Config, GPT2ForSequenceClassification

from evosweep.errors import ConfigError, ModelLoadError
from evosweep.models.tiny import byte_level_tokenizer
from evosweep.rewards import reward_model as reward_model_module
from evosweep.rewards.reward_model import RewardModelReward
from evosweep.settings.build import build_settings

LIKED = ["great", "this is great", "great work", "so great", "a great day"]
DISLIKED = ["awful", "this is awful", "awful work", "so awful", "an awful day"]


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    """A 1-layer GPT-2 classifier (labels negative/positive) trained to like 'great'."""
    torch.manual_seed(0)
    tokenizer = byte_level_tokenizer()
    config = GPT2Config(vocab_size=257, n_positions=128, n_embd=32, n_layer=1, n_head=2, num_labels=2,
                        id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1},
                        pad_token_id=256, eos_token_id=256, bos_token_id=256)
    model = GPT2ForSequenceClassification(config)
    batch = tokenizer(LIKED + DISLIKED, padding=True, return_tensors="pt")
    labels = torch.tensor([1] * len(LIKED) + [0] * len(DISLIKED))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        optimizer.zero_grad()
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
    folder = tmp_path_factory.mktemp("classifier")
    model.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def test_scores_follow_what_the_classifier_learned(classifier_dir):
    reward = RewardModelReward(classifier_dir, label="positive", activation="softmax")
    liked, disliked = reward(["really great", "really awful"], ["", ""], ["Review:", "Review:"])
    assert reward.value_range == (0.0, 1.0)
    assert 0.0 <= disliked < 0.5 < liked <= 1.0


def test_label_by_name_or_index_and_raw_logits_match_the_model(classifier_dir):
    texts = ["great", "awful", "something else entirely, and longer"]
    by_name = RewardModelReward(classifier_dir, label="positive", include_prompt=False)
    by_index = RewardModelReward(classifier_dir, label=1, include_prompt=False)
    last = RewardModelReward(classifier_dir, label=-1, include_prompt=False)
    assert by_name(texts, [""] * 3) == by_index(texts, [""] * 3) == last(texts, [""] * 3)
    assert by_name.value_range == (float("-inf"), float("inf"))
    model = GPT2ForSequenceClassification.from_pretrained(classifier_dir).eval()
    with torch.no_grad():
        direct = [model(**by_name.tokenizer(t, return_tensors="pt")).logits[0, 1].item() for t in texts]
    assert by_name(texts, [""] * 3) == pytest.approx(direct, abs=1e-4)


def test_batches_of_any_size_give_the_same_scores(classifier_dir):
    texts = ["great", "an awful, awful day", "ok", "this is great work", "so"]
    prompts = ["Q: a", "Q: bb", "Q: ccc", "Q:", "Q: a longer prompt"]
    one = RewardModelReward(classifier_dir, label=1, activation="sigmoid", batch_size=1)
    many = RewardModelReward(classifier_dir, label=1, activation="sigmoid", batch_size=16)
    assert one(texts, [""] * 5, prompts) == pytest.approx(many(texts, [""] * 5, prompts), abs=1e-5)


def test_the_prompt_is_read_only_when_asked(classifier_dir):
    with_prompt = RewardModelReward(classifier_dir, label=1)
    without = RewardModelReward(classifier_dir, label=1, include_prompt=False)
    assert without(["great"], [""], ["awful awful"]) == without(["great"], [""], ["so great"])
    assert with_prompt(["great"], [""], ["awful awful"]) != with_prompt(["great"], [""], ["so great"])


def test_bad_settings_stop_at_start(classifier_dir, tmp_path):
    with pytest.raises(ConfigError, match="reward.model"):
        RewardModelReward(None)
    with pytest.raises(ConfigError, match="negative=0, positive=1"):
        RewardModelReward(classifier_dir, label="happy")
    with pytest.raises(ConfigError, match="reward.label"):
        RewardModelReward(classifier_dir, label=2)
    with pytest.raises(ConfigError, match="reward.activation"):
        RewardModelReward(classifier_dir, activation="tanh")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        RewardModelReward(str(tmp_path / "missing"))


def test_remote_code_never_runs_by_default(tmp_path):
    marker = tmp_path / "ran.txt"
    (tmp_path / "custom.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "custom-classifier",
        "auto_map": {"AutoConfig": "custom.Config",
                     "AutoModelForSequenceClassification": "custom.Model"},
    }))
    with pytest.raises(ModelLoadError, match="trust_remote_code"):
        RewardModelReward(str(tmp_path))
    assert not marker.exists()


def test_trust_remote_code_is_passed_only_when_set(classifier_dir, monkeypatch):
    seen = []
    original = reward_model_module.AutoModelForSequenceClassification.from_pretrained

    def recording(location, **kwargs):
        seen.append(kwargs["trust_remote_code"])
        return original(location, **kwargs)

    monkeypatch.setattr(reward_model_module.AutoModelForSequenceClassification, "from_pretrained", recording)
    RewardModelReward(classifier_dir)
    RewardModelReward(classifier_dir, trust_remote_code=True)
    assert seen == [False, True]


def test_short_run_with_the_reward_model_stays_in_range(classifier_dir, compose_config, tmp_path):
    cfg = compose_config(SHORT + ["reward=reward_model", f"reward.model={classifier_dir}",
                                  "reward.label=positive", "reward.activation=sigmoid"])
    assert build_settings(cfg).reward.value_range == (0.0, 1.0)
    run_in_range(cfg, tmp_path)
