"""``prompts.*``: whether the instruction (system prompt) evolves beside the adapters."""

from __future__ import annotations

from dataclasses import dataclass

from evosweep.errors import ConfigError
from evosweep.settings.checks import require_non_negative, require_positive


@dataclass
class PromptSettings:
    """``prompts=fixed`` (evolve false: the config's prompt, exactly as without this group)
    or ``prompts=coevolve``: a population of prompt variants bred beside the adapters."""

    evolve: bool = False
    population_size: int = 6
    elite: int = 2
    # the first variant; null = model.system_prompt (or "" when it is null)
    seed_prompt: str | None = None

    def __post_init__(self) -> None:
        if not self.evolve:
            return
        require_positive("prompts.population_size", self.population_size)
        require_non_negative("prompts.elite", self.elite)
        if self.elite >= self.population_size:
            raise ConfigError("prompts.elite", f"must be < prompts.population_size "
                                               f"({self.elite} >= {self.population_size})")
