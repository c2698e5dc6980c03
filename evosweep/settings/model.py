"""``model.*``: which frozen base model to load, how to prompt it, and its LoRA layout."""

from __future__ import annotations

from dataclasses import dataclass, field

from evosweep.errors import ConfigError
from evosweep.settings.checks import require_choice, require_non_negative, require_positive

DTYPES = ("float32", "float16", "bfloat16", "float64")


@dataclass
class LoraSettings:
    """``model.lora.*``: the LoRA layout attached to the frozen model (peft's LoraConfig fields)."""

    r: int = 8
    alpha: float = 16.0
    # applied where gradients flow (the pg/sft trainers' forward); evaluation is deterministic
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["c_attn", "c_proj"])
    # start from a saved peft adapter folder (e.g. an sft run's adapters/best); null = peft's init
    init_adapter: str | None = None

    def __post_init__(self) -> None:
        require_positive("model.lora.r", self.r)
        require_positive("model.lora.alpha", self.alpha)
        require_non_negative("model.lora.dropout", self.dropout)
        if self.dropout >= 1:
            raise ConfigError("model.lora.dropout", f"must be < 1, got {self.dropout}")
        if not self.target_modules:
            raise ConfigError("model.lora.target_modules", "list at least one module name")

    @property
    def scaling(self) -> float:
        """The factor peft applies to B @ A (alpha / r)."""
        return self.alpha / self.r


@dataclass
class ModelSettings:
    """``model.*``: which base model to load and how to prompt it."""

    name_or_path: str = "builtin:tiny-gpt2"
    gguf_file: str | None = None
    dtype: str = "float32"
    chat_template: bool = False
    system_prompt: str | None = None
    trust_remote_code: bool = False
    lora: LoraSettings = field(default_factory=LoraSettings)

    def __post_init__(self) -> None:
        if isinstance(self.lora, dict):
            self.lora = LoraSettings(**self.lora)
        require_choice("model.dtype", self.dtype, DTYPES)
