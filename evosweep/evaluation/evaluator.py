"""Evaluate a whole population on a list of pairs in batched passes.

P members x N prompts become ``P * N`` rows of one batch (member-major), cut
into chunks of at most ``eval.batch_size`` rows. Generation rewards decode
each row's continuation and score all texts in one reward call; the
likelihood reward is read off the logits of one teacher-forced forward pass.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace

import torch

from evosweep.evaluation.generation import generate_grid, generation_kwargs
from evosweep.evaluation.grid import chunk_grid, grid_rows
from evosweep.evaluation.logprobs import next_token_logprobs
from evosweep.evaluation.prompt_head import encode_shared_prefix, prefill_head
from evosweep.evaluation.prompts import encode_prompts, encode_targets
from evosweep.evaluation.shared_bottom import SharedBottom
from evosweep.lora.batched import BatchedLora
from evosweep.models.loading import LoadedModel
from evosweep.rewards.guarded import guard, require_some_member_scored
from evosweep.rewards.protocol import Reward
from evosweep.settings.evaluation import EvalSettings
from evosweep.tasks.pairs import Pair


@dataclass
class Evaluation:
    """Scores ``(P, N)`` and, for generation rewards, each member's answers ``[P][N]``."""

    scores: torch.Tensor
    completions: list[list[str]] | None = None

    @property
    def fitness(self) -> torch.Tensor:
        """Mean reward per member, ``(P,)``; NaN for a member whose reward failed on any text."""
        return self.scores.mean(dim=1)


class PopulationEvaluator:
    """Scores every member of a ``(P, D)`` population on a list of pairs."""

    def __init__(self, loaded: LoadedModel, lora: BatchedLora, reward: Reward,
                 settings: EvalSettings) -> None:
        self.loaded = loaded
        self.lora = lora
        self.reward = reward
        self.settings = settings
        self.teacher_forced = getattr(reward, "teacher_forced", False)
        self.score_texts = None if self.teacher_forced else guard(reward)
        self._device = next(loaded.model.parameters()).device
        # frozen decoder layers below the first adapter: computed once for all members
        self.bottom = SharedBottom.for_layout(lora.layout) if settings.share_bottom else None

    def close(self) -> None:
        """Nothing to release in this process (:class:`PooledEvaluator` stops its workers)."""

    @torch.inference_mode()
    def evaluate(self, population: torch.Tensor, pairs: list[Pair],
                 instructions: list[str] | None = None) -> Evaluation:
        """Score all members on all pairs: ``(P, N)``; stop when every member's reward failed.

        ``instructions``: one prompt variant per member (prompt co-evolution), in place
        of ``model.system_prompt`` for that member's rows. Members that share a variant
        are scored together, so each variant's prompt head is prefilled once per member.
        """
        evaluation = self.score(population, pairs, instructions)
        if self.score_texts is not None:
            require_some_member_scored(evaluation.scores, self.score_texts)
        return evaluation

    @torch.inference_mode()
    def score(self, population: torch.Tensor, pairs: list[Pair],
              instructions: list[str] | None = None) -> Evaluation:
        """:meth:`evaluate` without the all-members-failed check (a slice of a population)."""
        if instructions is None:
            return self._score(population, pairs, self.loaded)
        if len(instructions) != population.shape[0]:
            raise ValueError(f"{len(instructions)} instructions for {population.shape[0]} members")
        return self._score_by_instruction(population, pairs, instructions)

    def _score(self, population: torch.Tensor, pairs: list[Pair], loaded: LoadedModel) -> Evaluation:
        if self.teacher_forced:
            return Evaluation(scores=self._likelihood(population, pairs, loaded))
        return self._generate_and_score(population, pairs, loaded)

    def _score_by_instruction(self, population: torch.Tensor, pairs: list[Pair],
                              instructions: list[str]) -> Evaluation:
        groups: dict[str, list[int]] = {}
        for member, text in enumerate(instructions):
            groups.setdefault(text, []).append(member)
        scores = torch.empty(population.shape[0], len(pairs))
        completions: list[list[str]] = [[] for _ in instructions]
        for text, members in groups.items():
            part = self._score(population[members], pairs, self.loaded.with_instruction(text))
            scores[members] = part.scores
            for row, member in enumerate(members):
                completions[member] = part.completions[row] if part.completions else []
        return Evaluation(scores, None if self.teacher_forced else completions)

    # -- generation ------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, population: torch.Tensor, pairs: list[Pair],
                 loaded: LoadedModel | None = None) -> list[list[str]]:
        """Each member's answer to each prompt: ``[P][N]`` strings (``eval.*`` decoding)."""
        loaded = loaded or self.loaded
        head = None
        if self.settings.share_prompt_prefix:
            texts = [loaded.format_prompt(pair.prompt) for pair in pairs]
            shared = encode_shared_prefix(loaded.tokenizer, texts,
                                          add_special_tokens=not loaded.settings.chat_template)
            encoded = {"input_ids": shared.input_ids.to(self._device),
                       "attention_mask": shared.attention_mask.to(self._device)}
            head = shared.head
        else:
            encoded = encode_prompts(loaded, pairs, self._device)

        @contextmanager
        def members_set(members: slice, _prompts: slice):
            with self.lora.members(population[members]):
                yield {}

        kwargs = generation_kwargs(self.settings, loaded.tokenizer.pad_token_id)
        return generate_grid(loaded.model, loaded.tokenizer, encoded, population.shape[0],
                             self.settings.batch_size, kwargs, members_set, head, self.bottom)

    def greedy_answers(self, member: torch.Tensor, pairs: list[Pair],
                       instruction: str | None = None) -> list[str]:
        """One member's greedy answers (``(D,)``), whatever ``eval.do_sample`` says."""
        settings, self.settings = self.settings, replace(self.settings, do_sample=False)
        try:
            return self.generate(member[None], pairs, self.loaded.with_instruction(instruction))[0]
        finally:
            self.settings = settings

    def _generate_and_score(self, population: torch.Tensor, pairs: list[Pair],
                            loaded: LoadedModel) -> Evaluation:
        if self.score_texts is None:
            raise TypeError(f"{type(self.reward).__name__} is teacher-forced: it scores no texts")
        texts = self.generate(population, pairs, loaded)
        flat = [text for member in texts for text in member]
        references = [pair.reference for pair in pairs] * population.shape[0]
        prompts = [pair.prompt for pair in pairs] * population.shape[0]
        members = [member for member in range(population.shape[0]) for _ in pairs]
        scores = torch.tensor(self.score_texts(flat, references, prompts, members=members),
                              dtype=torch.float32).view(population.shape[0], len(pairs))
        return Evaluation(scores=scores, completions=texts)

    def _shared(self, members: int):
        """The frozen bottom runs once for ``members`` identical row groups (when there is one)."""
        return self.bottom.shared(members) if self.bottom is not None else nullcontext()

    # -- teacher forcing -------------------------------------------------------
    def _likelihood(self, population: torch.Tensor, pairs: list[Pair],
                    loaded: LoadedModel) -> torch.Tensor:
        """Mean log p of each pair's reference tokens per member: ``(P, N)``."""
        # the prompts' common head (chat template, system prompt) runs once per member
        encoded = encode_targets(loaded, pairs, getattr(self.reward, "append_eos", False),
                                 self._device, split_head=self.settings.share_prompt_prefix)
        head = encoded.pop("head", None)
        scores = torch.zeros(population.shape[0], len(pairs))
        for members, prompts in chunk_grid(population.shape[0], len(pairs), self.settings.batch_size):
            rows = grid_rows(encoded, members, prompts)  # (p*n, T) each; the mask (p*n, c + T)
            predicts = rows["targets"][:, 1:]  # position t predicts token t+1: (p*n, T-1)
            count, n = members.stop - members.start, prompts.stop - prompts.start
            with self.lora.members(population[members]), self._shared(count):
                cache = prefill_head(loaded.model, head, count, n) if head is not None else None
                picked = next_token_logprobs(loaded.model, rows["input_ids"],
                                             rows["attention_mask"], predicts, cache=cache)  # (K,)
            per_row = torch.zeros(predicts.shape, device=picked.device)
            per_row[predicts] = picked
            row_means = per_row.sum(dim=1) / predicts.sum(dim=1).clamp(min=1)
            scores[members, prompts] = row_means.view(count, n).cpu()
        return scores
