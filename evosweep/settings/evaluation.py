"""``eval.*``: how members are evaluated (batching, decoding)."""

from __future__ import annotations

from dataclasses import dataclass

from evosweep.errors import ConfigError
from evosweep.settings.checks import require_non_negative, require_positive


@dataclass
class EvalSettings:
    """How members are evaluated (``eval.*``)."""

    batch_size: int = 64
    max_new_tokens: int = 20
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    # run the prompts' common head (chat template, system prompt) once per member
    share_prompt_prefix: bool = True
    # run the frozen decoder layers below the first adapted one (model.lora.layers) once for
    # all members instead of once per member: the likelihood pass and generation's prefill
    share_bottom: bool = True
    # log heldout/kl: KL(adapted || base) per token of the best member's held-out answers
    heldout_kl: bool = True
    # check the best member on held-out every N generations (and after the last); the
    # check's greedy answers can cost more than a generation's likelihood scoring
    heldout_every: int = 5
    # 0: evaluate in this process; N >= 1: spread each generation over N Ray actors
    workers: int = 0
    # GPUs each actor reserves (fractions share a GPU); 0: actors run on CPU
    gpus_per_worker: float = 0.0

    def __post_init__(self) -> None:
        require_positive("eval.batch_size", self.batch_size)
        require_positive("eval.max_new_tokens", self.max_new_tokens)
        require_positive("eval.temperature", self.temperature)
        require_positive("eval.heldout_every", self.heldout_every)
        require_non_negative("eval.top_p", self.top_p)
        require_non_negative("eval.workers", self.workers)
        require_non_negative("eval.gpus_per_worker", self.gpus_per_worker)
        if self.heldout_every != int(self.heldout_every):
            raise ConfigError("eval.heldout_every", f"must be a whole number of generations, got "
                              f"{self.heldout_every!r}")
        if self.workers != int(self.workers):
            raise ConfigError("eval.workers", f"must be a whole number of actors, got {self.workers!r}")
        if self.gpus_per_worker and not self.workers:
            raise ConfigError("eval.gpus_per_worker", "needs eval.workers >= 1 (actors to put on GPUs)")
