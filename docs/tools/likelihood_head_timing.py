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
cfg = OmegaConf.load("conf/model/smollm2-135m.yaml")
s = ModelSettings(**{k: v for k, v in OmegaConf.to_container(cfg).items()})
loaded = load_model(s)
layout = LoraLayout.from_model(loaded.model, s.lora)
ev = {
    share: PopulationEvaluator(
        loaded,
        BatchedLora(loaded.model, layout) if share else None,
        LikelihoodReward(),
        EvalSettings(share_prompt_prefix=share),
    )
    for share in (True,)
}
lora = ev[True].lora
ev[False] = PopulationEvaluator(loaded, lora, LikelihoodReward(), EvalSettings(share_prompt_prefix=False))
pairs = load_jsonl("builtin:fr_en_train.jsonl")[:8]
pop = layout.initial_member(torch.Generator().manual_seed(0))[None].repeat(32, 1)
pop[:, layout.b_mask()] += 0.03 * torch.randn(32, int(layout.b_mask().sum()))
for share in (False, True, False, True):
    t = time.perf_counter()
    sc = ev[share].evaluate(pop, pairs).scores
    dt = time.perf_counter() - t
    print(share, f"{dt:.2f}s {256 / dt:.1f} evals/s", float(sc.mean()))
