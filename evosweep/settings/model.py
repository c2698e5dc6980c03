"""``model.*``: which frozen base model to load, how to prompt it, and its LoRA layout."""

from __future__ import annotations

from dataclasses import dataclass

from evosweep.errors import ConfigError
from evosweep.settings.checks import require_choice, require_non_negative, require_positive

DTYPES = ("auto", "float32", "float16", "bfloat16", "float64")


@dataclass(kw_only=True)
class LoraSettings:
    """``model.lora.*``: the LoRA layout attached to the frozen model (peft's LoraConfig fields).

    The layout of a model (r, alpha, target_modules) has no default: each conf/model/*.yaml
    gives its own. The other defaults equal every model file's (tests/test_defaults_agree.py).
    """

    r: int
    alpha: float
    # applied where gradients flow (the pg/sft trainers' forward); evaluation is deterministic
    dropout: float = 0.05
    target_modules: list[str]
    # start from a saved peft adapter folder (e.g. an sft run's adapters/best); null = peft's init
    init_adapter: str | None = None
    # decoder layers that carry adapters: null = all, an int K = the top K, a list = those
    # indices (peft's layers_to_transform); the frozen layers below are computed once for all members
    layers: int | list[int] | None = None

    def __post_init__(self) -> None:
        require_positive("model.lora.r", self.r)
        require_positive("model.lora.alpha", self.alpha)
        require_non_negative("model.lora.dropout", self.dropout)
        if self.dropout >= 1:
            raise ConfigError("model.lora.dropout", f"must be < 1, got {self.dropout}")
        if not self.target_modules:
            raise ConfigError("model.lora.target_modules", "list at least one module name")
        if self.layers is not None and not isinstance(self.layers, int):
            self.layers = [int(index) for index in self.layers]
            if not self.layers:
                raise ConfigError("model.lora.layers", "list at least one layer index, or null for all")

    def layer_indices(self, count: int) -> list[int] | None:
        """The adapted decoder layers of a model with ``count`` layers (None: all of them)."""
        if self.layers is None:
            return None
        if isinstance(self.layers, int):
            if not 1 <= self.layers <= count:
                raise ConfigError("model.lora.layers", f"top {self.layers} layers asked, the model has "
                                                       f"{count}: give 1..{count}, a list, or null")
            return list(range(count - self.layers, count))
        wrong = [index for index in self.layers if not 0 <= index < count]
        if wrong:
            raise ConfigError("model.lora.layers", f"{wrong} out of range: the model's layers are "
                                                   f"0..{count - 1}")
        return sorted(set(self.layers))

    @property
    def scaling(self) -> float:
        """The factor peft applies to B @ A (alpha / r)."""
        return self.alpha / self.r


@dataclass(kw_only=True)
class ModelSettings:
    """``model.*``: which base model to load and how to prompt it.

    What differs between models has no default (each conf/model/*.yaml gives it; outside a
    Hydra run, ``model_conf.model_settings(name)`` reads one); ``dtype`` and
    ``trust_remote_code`` default to every model file's value.
    """

    name_or_path: str
    gguf_file: str | None
    dtype: str = "auto"
    chat_template: bool
    system_prompt: str | None
    trust_remote_code: bool = False
    lora: LoraSettings

    def __post_init__(self) -> None:
        if isinstance(self.lora, dict):
            self.lora = LoraSettings(**self.lora)
        require_choice("model.dtype", self.dtype, DTYPES)
