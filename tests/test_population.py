"""The flat (P, D) layout maps exactly onto peft's LoRA tensors."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel

from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.settings.model import LoraSettings
from evosweep.settings.model_conf import model_settings


def test_layout_covers_every_target_module(tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    names = [slot.module_name for slot in layout.slots]
    # 2 layers x (attn.c_attn, attn.c_proj, mlp.c_proj)
    assert len(names) == 6
    assert all(slot.is_conv1d for slot in layout.slots)
    assert layout.dim == sum(4 * (s.in_features + s.out_features) for s in layout.slots)


def test_initial_member_leaves_the_model_unchanged(tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(0))
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    before = tiny_gpt2.model(ids).logits
    lora = BatchedLora(tiny_gpt2.model, layout)
    with lora.members(member[None]):
        after = tiny_gpt2.model(ids).logits
    torch.testing.assert_close(before, after)


def test_saved_adapter_reloads_with_peft_and_gives_the_same_logits(tmp_path, tiny_gpt2):
    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    member = layout.initial_member(torch.Generator().manual_seed(1))
    member += torch.randn(layout.dim, generator=torch.Generator().manual_seed(2)) * 0.05
    ids = torch.tensor([[10, 20, 30, 40, 50, 60]])
    lora = BatchedLora(tiny_gpt2.model, layout)
    with lora.members(member[None]):
        evolved_logits = tiny_gpt2.model(ids).logits
    lora.detach()
    folder = layout.save_adapter(member, tmp_path / "adapter", "builtin:tiny-gpt2")
    assert (folder / "adapter_config.json").is_file()
    assert (folder / "adapter_model.safetensors").is_file()

    fresh = load_model(model_settings("tiny-gpt2"))
    peft_model = PeftModel.from_pretrained(fresh.model, str(folder)).eval()
    with torch.no_grad():
        peft_logits = peft_model(ids).logits
        with peft_model.disable_adapter():
            base_logits = peft_model(ids).logits
    torch.testing.assert_close(peft_logits, evolved_logits, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(peft_logits, base_logits, atol=1e-4)  # the adapter does something


def test_peft_state_round_trip(tiny_llama):
    layout = LoraLayout.from_model(tiny_llama.model, tiny_llama.settings.lora)
    member = torch.randn(layout.dim, generator=torch.Generator().manual_seed(3))
    restored = layout.member_from_peft_state(layout.peft_state_dict(member))
    assert torch.equal(restored, member)


def test_a_run_can_start_from_a_saved_adapter(compose_config, tmp_path):
    """model.lora.init_adapter: a finished run's adapters/best becomes the next run's start."""
    from conftest import TINY_RUN

    from evosweep.run import run
    from evosweep.state.checkpoint import load_checkpoint

    run(compose_config(TINY_RUN + ["algorithm.mutation_scale=0.1"]), tmp_path / "first")
    saved = tmp_path / "first" / "adapters" / "best"
    run(compose_config(TINY_RUN + [f"model.lora.init_adapter={saved}", "algorithm.generations=1"]),
        tmp_path / "second")
    second = load_checkpoint(tmp_path / "second")
    # generation 0's held-out check of the start is the first run's final best
    assert second["base"]["heldout/base"] == load_checkpoint(tmp_path / "first")["final"]


def test_a_mismatched_adapter_is_named(tiny_gpt2, tmp_path):
    from evosweep.errors import ConfigError

    layout = LoraLayout.from_model(tiny_gpt2.model, tiny_gpt2.settings.lora)
    with pytest.raises(ConfigError, match="not found"):
        layout.load_adapter(tmp_path / "nothing")
    other = LoraLayout.from_model(tiny_gpt2.model, LoraSettings(r=2, alpha=4, target_modules=["c_attn"]))
    folder = other.save_adapter(other.initial_member(torch.Generator().manual_seed(0)), tmp_path / "r2", None)
    with pytest.raises(ConfigError, match="the layout needs"):
        layout.load_adapter(folder)
