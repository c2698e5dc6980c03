"""The end-of-run summary: a small text table, also written as Markdown."""

from __future__ import annotations

from evosweep.evaluation.answers import exact_share


def summary_table(rows: list[tuple[str, str]]) -> str:
    """Two aligned columns under a rule, readable in a terminal and as Markdown."""
    width = max(len(name) for name, _ in rows)
    lines = [f"| {'':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {name:<{width}} | {value} |" for name, value in rows]
    return "\n".join(lines)


def sample_table(prompts: list[str], references: list[str], base: list[str],
                 final: list[str], limit: int = 20) -> str:
    """Held-out answers before and after evolution, as a Markdown table; ✓ marks exact answers."""
    lines = ["| prompt | reference | base | evolved | right |", "|---|---|---|---|---|"]
    for row in list(zip(prompts, references, base, final, strict=True))[:limit]:
        cells = [cell.replace("|", "/").replace("\n", " ") for cell in row]
        cells = [cells[0][-45:]] + [cell[:60] for cell in cells[1:]]
        marks = ["✓" if exact_share([answer], [row[1]]) else "" for answer in row[2:]]
        right = {("", "✓"): "✓ (new)", ("✓", "✓"): "✓", ("✓", ""): "lost"}.get(tuple(marks), "")
        lines.append("| " + " | ".join([*cells, right]) + " |")
    return "\n".join(lines)
