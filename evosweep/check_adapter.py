"""``python -m evosweep.check_adapter ADAPTER``: a saved adapter's greedy answers beside the base model's.

Scores a peft adapter folder (a run's ``adapters/best``) with plain peft, outside
the evolution loop, on any JSONL of ``{"prompt", "reference"}`` pairs: by default
``builtin:fr_en_forms.jsonl``, 30 French words that neither fr_en split holds, in
another prompt form (``Translate 'X' to English:``). Prints exact answers for
the base model and the adapter, and each answer beside its reference.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import PeftModel

from evosweep.evaluation.answers import exact_share
from evosweep.evaluation.prompts import encode_prompts
from evosweep.models.generates import text_generator
from evosweep.models.loading import LoadedModel, load_model
from evosweep.settings.model_conf import model_settings
from evosweep.tasks.pairs import Pair, load_jsonl

DEFAULT_PAIRS = "builtin:fr_en_forms.jsonl"


@dataclass
class AnswerSheet:
    """One model's greedy answers to the pairs and its share of exact ones."""

    answers: list[str]
    exact: float


@torch.inference_mode()
def greedy_answers(loaded: LoadedModel, model: torch.nn.Module, pairs: list[Pair],
                   max_new_tokens: int) -> AnswerSheet:
    """``model``'s greedy answer to every prompt, formatted as ``loaded`` formats prompts."""
    encoded = encode_prompts(loaded, pairs, next(model.parameters()).device)
    out = text_generator(model).generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False,
                                         temperature=None, top_p=None, top_k=None,
                                         pad_token_id=loaded.tokenizer.pad_token_id)
    texts = loaded.tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    answers = [text.strip() for text in texts]
    return AnswerSheet(answers, exact_share(answers, [pair.reference for pair in pairs]))


def check_adapter(adapter: Path, model: str, pairs_path: str, max_new_tokens: int = 20
                  ) -> tuple[list[Pair], AnswerSheet, AnswerSheet]:
    """The base model's and the adapter's answers to the pairs of ``pairs_path``."""
    if not (adapter / "adapter_config.json").is_file():
        raise SystemExit(f"check_adapter: {adapter} is not a peft adapter folder (no adapter_config.json); "
                         "give a run's adapters/best")
    loaded = load_model(model_settings(model))
    pairs = load_jsonl(pairs_path)
    base = greedy_answers(loaded, loaded.model, pairs, max_new_tokens)
    adapted = PeftModel.from_pretrained(loaded.model, str(adapter)).eval()
    return pairs, base, greedy_answers(loaded, adapted, pairs, max_new_tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evosweep.check_adapter",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("adapter", type=Path, help="a peft adapter folder (e.g. a run's adapters/best)")
    parser.add_argument("--model", default="smollm2-135m",
                        help="the conf/model the adapter was evolved on (name or yaml path); its chat "
                             "template and system prompt format the prompts")
    parser.add_argument("--pairs", default=DEFAULT_PAIRS, help="JSONL of {prompt, reference} pairs")
    parser.add_argument("--max-new-tokens", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the answers and scores here")
    args = parser.parse_args(argv)
    pairs, base, adapted = check_adapter(args.adapter, args.model, args.pairs, args.max_new_tokens)
    count = len(pairs)
    print(f"{'reference':<16}{'base':<34}adapter")
    for pair, before, after in zip(pairs, base.answers, adapted.answers, strict=True):
        print(f"{pair.reference:<16}{before[:32]:<34}{after[:40]}")
    print(f"exact: base {round(base.exact * count)}/{count}, adapter {round(adapted.exact * count)}/{count} "
          f"({args.pairs})")
    if args.json:
        args.json.write_text(json.dumps({"pairs": args.pairs, "count": count, "base_exact": base.exact,
                                         "adapter_exact": adapted.exact, "base": base.answers,
                                         "adapter": adapted.answers}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
