"""``eval.*``: how members are evaluated (batching, decoding)."""

from __future__ import annotations

from dataclasses import dataclass

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
    # log heldout/kl: KL(adapted || base) per token of the best member's held-out answers
    heldout_kl: bool = True

    def __post_init__(self) -> None:
        require_positive("eval.batch_size", self.batch_size)
        require_positive("eval.max_new_tokens", self.max_new_tokens)
        require_positive("eval.temperature", self.temperature)
        require_non_negative("eval.top_p", self.top_p)
