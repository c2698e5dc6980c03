"""check_adapter: a saved adapter scored with plain peft equals evosweep's own greedy answers."""

from __future__ import annotations

import json

import pytest
import torch

from evosweep.check_adapter import DEFAULT_PAIRS, main
from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.rewards.exact_match import ExactMatchReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model_conf import model_settings
from evosweep.tasks.pairs import load_jsonl


def test_the_second_heldout_set_is_new_words_in_another_form():
    forms = load_jsonl(DEFAULT_PAIRS)
    seen = {pair.reference for name in ("fr_en_train", "fr_en_heldout")
            for pair in load_jsonl(f"builtin:{name}.jsonl")}
    assert len(forms) == 30 and not seen & {pair.reference for pair in forms}
    assert all(pair.prompt.startswith("Translate '") and pair.prompt.endswith("' to English:")
               for pair in forms)


def test_peft_answers_equal_the_batched_evaluators(tmp_path, capsys):
    settings = model_settings("tiny-llama")
    loaded = load_model(settings)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    member[layout.b_mask()] = 0.5 * torch.randn(int(layout.b_mask().sum()),
                                                generator=torch.Generator().manual_seed(1))
    folder = layout.save_adapter(member, tmp_path / "best", settings.name_or_path)
    pairs = load_jsonl(DEFAULT_PAIRS)[:6]
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps({"prompt": p.prompt, "reference": p.reference})
                                                  + "\n" for p in pairs))
    out = tmp_path / "check.json"
    assert main([str(folder), "--model", "tiny-llama", "--pairs", str(tmp_path / "pairs.jsonl"),
                 "--max-new-tokens", "5", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ExactMatchReward(),
                                    EvalSettings(max_new_tokens=5))
    assert result["adapter"] == evaluator.greedy_answers(member, pairs)
    assert result["base"] == evaluator.greedy_answers(layout.initial_member(torch.Generator()), pairs)
    assert result["adapter"] != result["base"]
    assert "exact: base" in capsys.readouterr().out


def test_a_folder_without_an_adapter_is_named(tmp_path):
    with pytest.raises(SystemExit, match="not a peft adapter folder"):
        main([str(tmp_path), "--model", "tiny-llama"])
