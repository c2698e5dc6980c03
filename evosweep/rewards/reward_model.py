"""A learned reward model, as in RLHF: any Hugging Face sequence classifier scoring (prompt, completion)."""

from __future__ import annotations

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from evosweep.errors import ConfigError, ModelLoadError
from evosweep.models.device import resolve_device
from evosweep.settings.checks import require_choice, require_positive

ACTIVATIONS = ("none", "sigmoid", "softmax")


def label_index(label: int | str, label2id: dict[str, int], num_labels: int) -> int:
    """The logit column for ``label``: an index (negative counts from the end) or a label name."""
    if isinstance(label, str) and label in label2id:
        return int(label2id[label])
    if isinstance(label, int) or (isinstance(label, str) and label.lstrip("-").isdigit()):
        index = int(label)
        if -num_labels <= index < num_labels:
            return index % num_labels
    names = ", ".join(f"{name}={index}" for name, index in sorted(label2id.items(), key=lambda kv: kv[1]))
    raise ConfigError("reward.label",
                      f"{label!r} is not a label of this model ({num_labels} logits: {names})")


class RewardModelReward:
    """The chosen logit (or its sigmoid / softmax probability) of a sequence-classification model.

    ``model`` is a hub id or a local folder. The classifier reads the prompt
    and the completion as a text pair (``include_prompt``) or the completion
    alone, ``batch_size`` texts per forward pass. Remote code in the model's
    folder never runs unless ``trust_remote_code`` is true. The model loads
    when the reward is built, so a wrong path or label stops the run at start.
    Range: any real number for ``activation=none``, [0, 1] otherwise.
    """

    def __init__(self, model: str | None = None, label: int | str = 0, activation: str = "none",
                 include_prompt: bool = True, batch_size: int = 16, max_length: int = 512,
                 device: str = "cpu", trust_remote_code: bool = False) -> None:
        if not model:
            raise ConfigError("reward.model", "give a sequence-classification model: a hub id or a "
                              "local folder, e.g. reward.model=/path/to/reward-model")
        require_choice("reward.activation", activation, ACTIVATIONS)
        require_positive("reward.batch_size", batch_size)
        require_positive("reward.max_length", max_length)
        self.activation = activation
        self.include_prompt = include_prompt
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = resolve_device(device)
        self.tokenizer, self.model = self._load(model, trust_remote_code)
        config = self.model.config
        self.label = label_index(label, dict(config.label2id or {}), config.num_labels)
        self.value_range = (float("-inf"), float("inf")) if activation == "none" else (0.0, 1.0)

    def _load(self, model: str, trust_remote_code: bool):
        try:
            tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
            classifier = AutoModelForSequenceClassification.from_pretrained(
                model, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as error:
            raise ModelLoadError(
                f"reward.model={model!r} could not be loaded as a sequence classifier ({error}). "
                "Give a local folder with config.json, weights and tokenizer, or a hub id on a "
                "machine with network access; set reward.trust_remote_code=true only for code you trust."
            ) from error
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        # right padding keeps every row's positions as when scored alone
        tokenizer.padding_side = "right"
        if classifier.config.pad_token_id is None:
            classifier.config.pad_token_id = tokenizer.pad_token_id
        classifier.requires_grad_(False)
        return tokenizer, classifier.eval().to(self.device)

    @torch.inference_mode()
    def logits(self, completions: list[str], prompts: list[str] | None) -> torch.Tensor:
        """Raw logits ``(len(completions), num_labels)``, ``batch_size`` rows at a time."""
        pieces = []
        for start in range(0, len(completions), self.batch_size):
            texts = completions[start:start + self.batch_size]
            pair = prompts[start:start + self.batch_size] if prompts is not None else None
            first, second = (pair, texts) if pair is not None else (texts, None)
            encoded = self.tokenizer(first, second, truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt").to(self.device)
            pieces.append(self.model(**encoded).logits.float().cpu())
        return torch.cat(pieces) if pieces else torch.zeros(0, self.model.config.num_labels)

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        logits = self.logits(completions, prompts if self.include_prompt else None)  # (B, L)
        if self.activation == "softmax":
            return logits.softmax(dim=1)[:, self.label].tolist()
        picked = logits[:, self.label]
        return (picked.sigmoid() if self.activation == "sigmoid" else picked).tolist()
