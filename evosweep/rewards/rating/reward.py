"""``reward=human_web``: a person rates each generation's outputs on a web page."""

from __future__ import annotations

import logging
import random
import secrets
from pathlib import Path

from evosweep.errors import ConfigError, RewardError
from evosweep.rewards.rating.pairwise import bradley_terry, choose_pairs
from evosweep.rewards.rating.queue import Answer, RatingItem, RatingQueue
from evosweep.rewards.rating.ratings_log import RatingsLog
from evosweep.rewards.rating.server import RatingServer

log = logging.getLogger("evosweep.rewards")
MODES = ("score", "pairwise")
RATINGS_FILE = "ratings.jsonl"


class WebHumanFeedbackReward:
    """Serves a rating page and waits, each call, until every new distinct output is rated.

    ``mode=score``: yes / no or 0-9 per output (1 / 0 / d/9, as ``reward=human``).
    ``mode=pairwise``: ``comparisons`` pairs of outputs of one prompt per call; an output's
    score is its Bradley-Terry chance to beat an average output of that prompt (0.5 alone).
    Ratings go to ``ratings.jsonl`` in the run folder as they arrive and are reused on
    resume. Range [0, 1].
    """

    value_range = (0.0, 1.0)
    interactive = True  # a person answers this process's page: never on evaluation workers

    def __init__(self, mode: str = "score", host: str = "127.0.0.1", port: int = 0,
                 show_reference: bool = True, comparisons: int = 16, timeout_s: float | None = 3600.0,
                 seed: int = 0, token: str | None = None) -> None:
        if mode not in MODES:
            raise ConfigError("reward.mode", f"{mode!r} is not one of {', '.join(MODES)}")
        if not 0 <= int(port) <= 65535:
            raise ConfigError("reward.port", f"{port} is not a port; use 0 for a free one")
        if int(comparisons) < 1:
            raise ConfigError("reward.comparisons", f"{comparisons} must be at least 1")
        if timeout_s is not None and float(timeout_s) <= 0:
            raise ConfigError("reward.timeout_s", f"{timeout_s} must be positive (or null: wait forever)")
        self.mode, self.host, self.port = mode, host, int(port)
        self.show_reference, self.comparisons = show_reference, int(comparisons)
        self.timeout_s = None if timeout_s is None else float(timeout_s)
        self.token = token or secrets.token_urlsafe(18)
        self.rng = random.Random(seed)
        self.queue = RatingQueue()
        self.ratings = RatingsLog(None)
        self.server: RatingServer | None = None
        self.stage = "generation"

    # the run's lifecycle (evosweep.rewards.lifecycle.RunScopedReward)
    def open_run(self, output_dir: Path) -> None:
        """Keep ratings in ``output_dir/ratings.jsonl`` (reusing those there) and start the page."""
        self.ratings = RatingsLog(Path(output_dir) / RATINGS_FILE)
        if self.ratings.scores or self.ratings.comparisons:
            log.info("reusing %d ratings from %s", len(self.ratings.scores) + len(self.ratings.comparisons),
                     self.ratings.path)
        self._serve()

    def set_stage(self, stage: str) -> None:
        """What the run is doing, for the page (e.g. ``generation 3``)."""
        self.stage = stage
        self.queue.set_stage(stage)

    def close_run(self) -> list[Path]:
        """Stop the page; return the ratings file to keep as an artifact."""
        self.queue.close()
        if self.server is not None:
            self.server.stop()
            self.server = None
        path = self.ratings.path
        return [path] if path is not None and path.exists() else []

    @property
    def url(self) -> str:
        """The page's address, token included."""
        return self._serve().url

    def _serve(self) -> RatingServer:
        if self.server is None:
            try:
                self.server = RatingServer(self.queue, self.token, self.host, self.port, self.show_reference)
            except OSError as error:
                raise ConfigError("reward.port", f"cannot serve the rating page on {self.host}:{self.port} "
                                  f"({error.strerror or error}); pick another port, or 0 for a free one") \
                    from None
            log.info("rate the outputs at %s", self.server.url)
        return self.server

    def __call__(self, completions: list[str], references: list[str],
                 prompts: list[str] | None = None) -> list[float]:
        prompts = list(prompts) if prompts is not None else [""] * len(completions)
        keys = list(zip(prompts, completions, strict=True))
        reference_of = dict(zip(keys, references, strict=True))
        if self.mode == "score":
            return self._scores(keys, reference_of)
        return self._pairwise(keys, reference_of)

    def _scores(self, keys: list[tuple[str, str]], reference_of: dict) -> list[float]:
        new = [key for key in dict.fromkeys(keys) if key not in self.ratings.scores]
        items = [RatingItem(number, prompt, reference_of[(prompt, output)], output=output)
                 for number, (prompt, output) in enumerate(new)]

        def record(item: RatingItem, answer: Answer) -> None:
            self.ratings.add_score(item.prompt, str(item.output), float(answer), self.stage)

        self._ask(items, record)
        return [self.ratings.scores[key] for key in keys]

    def _pairwise(self, keys: list[tuple[str, str]], reference_of: dict) -> list[float]:
        outputs_by_prompt: dict[str, list[str]] = {}
        for prompt, output in dict.fromkeys(keys):
            outputs_by_prompt.setdefault(prompt, []).append(output)
        made = [c for c in self.ratings.comparisons
                if c[1] in outputs_by_prompt.get(c[0], ()) and c[2] in outputs_by_prompt.get(c[0], ())]
        pairs = choose_pairs(outputs_by_prompt, self.comparisons - len(made), self.rng, made)
        items = [RatingItem(number, prompt, reference_of[(prompt, a)], a=a, b=b)
                 for number, (prompt, a, b) in enumerate(pairs)]

        def record(item: RatingItem, answer: Answer) -> None:
            self.ratings.add_comparison(item.prompt, str(item.a), str(item.b), str(answer), self.stage)

        self._ask(items, record)
        score_of: dict[tuple[str, str], float] = {}
        for prompt, outputs in outputs_by_prompt.items():
            games = [(a, b, winner) for p, a, b, winner in self.ratings.comparisons if p == prompt]
            for output, score in bradley_terry(outputs, games).items():
                score_of[(prompt, output)] = score
        return [score_of[key] for key in keys]

    def _ask(self, items: list[RatingItem], record) -> None:
        if not items:
            return
        server = self._serve()
        self.queue.open_round(self.stage, self.mode, items, record)
        what = "outputs" if self.mode == "score" else "pairs"
        log.info("%s: %d %s to rate on the page at %s (its address with the token is above)",
                 self.stage, len(items), what, server.base_url)
        if not self.queue.wait(self.timeout_s):
            left = len(self.queue.items)
            if self.queue.closed:
                raise RewardError(f"the rating page closed with {left} {what} unrated")
            raise RewardError(
                f"reward.timeout_s: {left} of {len(items)} {what} were not rated within {self.timeout_s:g} s "
                f"at {server.base_url}; the ratings so far are kept in {self.ratings.path or 'memory'}: "
                "rerun in the same run folder (hydra.run.dir) to be asked only for the rest, or raise "
                "reward.timeout_s")
