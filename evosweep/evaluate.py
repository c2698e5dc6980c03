"""Evaluate a whole population on a list of pairs in batched passes.

P members x N prompts become ``P * N`` rows of one batch (member-major), cut
into chunks of at most ``eval.batch_size`` rows. Generation rewards decode
each row's continuation and score all texts in one reward call; the
likelihood reward is read off the logits of one teacher-forced forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from evosweep.config_checks import require_non_negative, require_positive
from evosweep.lora_batch import BatchedLora
from evosweep.models import LoadedModel
from evosweep.prompt_prefix import encode_shared_prefix, prefill_head
from evosweep.rewards.guarded import guard, require_some_member_scored
from evosweep.tasks import Pair


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

    def __post_init__(self) -> None:
        require_positive("eval.batch_size", self.batch_size)
        require_positive("eval.max_new_tokens", self.max_new_tokens)
        require_positive("eval.temperature", self.temperature)
        require_non_negative("eval.top_p", self.top_p)


@dataclass
class Evaluation:
    """Scores ``(P, N)`` and, for generation rewards, each row's completion."""

    scores: torch.Tensor
    completions: list[list[str]] | None = None

    @property
    def fitness(self) -> torch.Tensor:
        """Mean reward per member, ``(P,)``; NaN for a member whose reward failed on any text."""
        return self.scores.mean(dim=1)


def chunk_grid(members: int, prompts: int, batch_size: int) -> Iterator[tuple[slice, slice]]:
    """Cut the members x prompts grid into blocks of at most ``batch_size`` rows."""
    if prompts <= batch_size:
        step = max(1, batch_size // prompts)
        for start in range(0, members, step):
            yield slice(start, min(start + step, members)), slice(0, prompts)
    else:
        for member in range(members):
            for start in range(0, prompts, batch_size):
                yield slice(member, member + 1), slice(start, min(start + batch_size, prompts))


def grid_rows(tensors: dict[str, torch.Tensor], members: slice, prompts: slice) -> dict[str, torch.Tensor]:
    """A chunk's rows, member-major: the sliced prompts once per member, ``(p*n, L)`` each."""
    count = members.stop - members.start
    return {key: value[prompts].repeat(count, 1) for key, value in tensors.items()}


class PopulationEvaluator:
    """Scores every member of a ``(P, D)`` population on a list of pairs."""

    def __init__(
        self,
        loaded: LoadedModel,
        lora: BatchedLora,
        reward: Callable,
        settings: EvalSettings,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self.loaded = loaded
        self.lora = lora
        self.reward = reward
        self.settings = settings
        self.on_chunk = on_chunk
        self.teacher_forced = getattr(reward, "teacher_forced", False)
        self.score_texts = None if self.teacher_forced else guard(reward)
        self._device = next(loaded.model.parameters()).device

    @torch.inference_mode()
    def evaluate(self, population: torch.Tensor, pairs: list[Pair]) -> Evaluation:
        """Score all members on all pairs: ``(P, N)``."""
        if self.teacher_forced:
            return Evaluation(scores=self._likelihood(population, pairs))
        return self._generate_and_score(population, pairs)

    # -- generation ------------------------------------------------------------
    def _encode_prompts(self, pairs: list[Pair]) -> dict[str, torch.Tensor]:
        tokenizer = self.loaded.tokenizer
        texts = [self.loaded.format_prompt(pair.prompt) for pair in pairs]
        encoded = tokenizer(
            texts, return_tensors="pt", padding=True,
            add_special_tokens=not self.loaded.settings.chat_template,
        )
        return {key: encoded[key].to(self._device) for key in ("input_ids", "attention_mask")}

    def _encode_shared_prefix(self, pairs: list[Pair]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Rows ``[common head][padding][rest]`` and the head's ids (see evosweep.prompt_prefix)."""
        texts = [self.loaded.format_prompt(pair.prompt) for pair in pairs]
        shared = encode_shared_prefix(self.loaded.tokenizer, texts,
                                      add_special_tokens=not self.loaded.settings.chat_template)
        rows = {"input_ids": shared.input_ids, "attention_mask": shared.attention_mask}
        return {key: value.to(self._device) for key, value in rows.items()}, shared.head

    def generate(self, population: torch.Tensor, pairs: list[Pair]) -> list[list[str]]:
        """Each member's continuation of each prompt: ``[P][N]`` strings."""
        head = torch.zeros(0, dtype=torch.long)
        if self.settings.share_prompt_prefix:
            encoded, head = self._encode_shared_prefix(pairs)
        else:
            encoded = self._encode_prompts(pairs)
        prompt_len = encoded["input_ids"].shape[1]
        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        texts: list[list[str]] = [[""] * len(pairs) for _ in range(population.shape[0])]
        for members, prompts in chunk_grid(population.shape[0], len(pairs), self.settings.batch_size):
            rows = grid_rows(encoded, members, prompts)  # input_ids, attention_mask: (p*n, L)
            count, n = members.stop - members.start, prompts.stop - prompts.start
            with torch.no_grad(), self.lora.members(population[members]):
                cache = prefill_head(model, head, count, n)  # the head once per member
                out = model.generate(**rows, cache=cache,
                                     **self._generation_kwargs())  # (p*n, L+T)
            decoded = tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=True)
            for row, text in enumerate(decoded):
                texts[members.start + row // n][prompts.start + row % n] = text.strip()
            if self.on_chunk:
                self.on_chunk(len(decoded))
        return texts

    def _generation_kwargs(self) -> dict:
        settings = self.settings
        kwargs = {
            "max_new_tokens": settings.max_new_tokens,
            "do_sample": settings.do_sample,
            "pad_token_id": self.loaded.tokenizer.pad_token_id,
        }
        if settings.do_sample:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def _generate_and_score(self, population: torch.Tensor, pairs: list[Pair]) -> Evaluation:
        texts = self.generate(population, pairs)
        flat = [text for member in texts for text in member]
        references = [pair.reference for pair in pairs] * population.shape[0]
        prompts = [pair.prompt for pair in pairs] * population.shape[0]
        members = [member for member in range(population.shape[0]) for _ in pairs]
        scores = torch.tensor(self.score_texts(flat, references, prompts, members=members),
                              dtype=torch.float32).view(population.shape[0], len(pairs))
        require_some_member_scored(scores, self.score_texts)
        return Evaluation(scores=scores, completions=texts)

    # -- teacher forcing -------------------------------------------------------
    def _encode_targets(self, pairs: list[Pair]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Right-padded prompt+reference ids, attention mask, and reference-token mask."""
        tokenizer = self.loaded.tokenizer
        chat = self.loaded.settings.chat_template
        append_eos = getattr(self.reward, "append_eos", False)
        rows = []
        for pair in pairs:
            prompt = tokenizer(self.loaded.format_prompt(pair.prompt),
                               add_special_tokens=not chat)["input_ids"]
            target = tokenizer(pair.reference, add_special_tokens=False)["input_ids"]
            if append_eos and tokenizer.eos_token_id is not None:
                target = target + [tokenizer.eos_token_id]
            rows.append((prompt, target))
        length = max(len(p) + len(t) for p, t in rows)
        ids = torch.full((len(rows), length), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(rows), length), dtype=torch.long)
        is_target = torch.zeros((len(rows), length), dtype=torch.bool)
        for i, (prompt, target) in enumerate(rows):
            total = len(prompt) + len(target)
            ids[i, :total] = torch.tensor(prompt + target)
            attention[i, :total] = 1
            is_target[i, len(prompt):total] = True
        return ids.to(self._device), attention.to(self._device), is_target.to(self._device)

    def _likelihood(self, population: torch.Tensor, pairs: list[Pair]) -> torch.Tensor:
        ids, attention, is_target = self._encode_targets(pairs)
        model = self.loaded.model
        scores = torch.zeros(population.shape[0], len(pairs))
        for members, prompts in chunk_grid(population.shape[0], len(pairs), self.settings.batch_size):
            count = members.stop - members.start
            rows = grid_rows({"ids": ids, "mask": attention, "targets": is_target}, members, prompts)
            chunk_ids, chunk_mask, targets = rows["ids"], rows["mask"], rows["targets"]  # (p*n, T)
            with self.lora.members(population[members]):
                hidden = model.base_model(
                    input_ids=chunk_ids, attention_mask=chunk_mask
                ).last_hidden_state  # (p*n, T, H)
                # position t predicts token t+1: keep the positions before each target token
                predicts_target = targets[:, 1:]  # (p*n, T-1)
                logits = model.get_output_embeddings()(hidden[:, :-1][predicts_target])  # (K, V)
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            picked = logprobs.gather(1, chunk_ids[:, 1:][predicts_target].unsqueeze(1)).squeeze(1)
            per_row = torch.zeros(predicts_target.shape, device=picked.device)
            per_row[predicts_target] = picked
            row_means = per_row.sum(dim=1) / predicts_target.sum(dim=1).clamp(min=1)
            n = prompts.stop - prompts.start
            scores[members, prompts] = row_means.view(count, n).cpu()
            if self.on_chunk:
                self.on_chunk(count * n)
        return scores
