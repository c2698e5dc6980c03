"""Time the likelihood reward with and without the shared prompt head (docs/performance.md).

Run from the repository root: OMP_NUM_THREADS=1 .venv/bin/python docs/tools/likelihood_head_timing.py
"""

import time

import torch
from omegaconf import OmegaConf

from evosweep.evaluation.evaluator import PopulationEvaluator
from evosweep.lora.batched import BatchedLora
from evosweep.lora.layout import LoraLayout
from evosweep.models.loading import load_model
from evosweep.rewards.likelihood import LikelihoodReward
from evosweep.settings.evaluation import EvalSettings
from evosweep.settings.model import ModelSettings
from evosweep.tasks.pairs import load_jsonl

torch.set_num_threads(1)
settings = ModelSettings(**OmegaConf.to_container(OmegaConf.load("conf/model/smollm2-135m.yaml")))
loaded = load_model(settings)
layout = LoraLayout.from_model(loaded.model, settings.lora)
lora = BatchedLora(loaded.model, layout)
evaluators = {share: PopulationEvaluator(loaded, lora, LikelihoodReward(),
                                         EvalSettings(share_prompt_prefix=share))
              for share in (True, False)}
pairs = load_jsonl("builtin:fr_en_train.jsonl")[:8]
population = layout.initial_member(torch.Generator().manual_seed(0))[None].repeat(32, 1)  # (32, D)
b_entries = layout.b_mask()
noise = torch.randn(32, int(b_entries.sum()), generator=torch.Generator().manual_seed(1))
population[:, b_entries] += 0.03 * noise
for share in (False, True, False, True):
    started = time.perf_counter()
    scores = evaluators[share].evaluate(population, pairs).scores
    seconds = time.perf_counter() - started
    print(f"share_prompt_prefix={share}: {seconds:.2f} s, {scores.numel() / seconds:.1f} evals/s, "
          f"mean {float(scores.mean()):.6f}")
