"""Does docs/configuration.md name every option and key of conf/? Prints what it lacks.

Run from the repository root after adding a config option or key:

    .venv/bin/python docs/tools/check_config_docs.py

A group option (a file of conf/GROUP/) must appear as `option`; a key as `group.key`,
or, in the per-option tables (rewards, operators, schedules, algorithm columns), as
`key` or `key: value`. Experiment files and the sweep's search space are not checked.
Exit status 1 when something is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_GROUPS = {"experiment", "hparams_search"}


def leaf_keys(node: dict, prefix: str = ""):
    """Dotted keys of a YAML mapping's leaves; `_target_`, `defaults` and composite terms skipped."""
    for key, value in node.items():
        if key in ("defaults", "_target_", "terms", "hydra"):
            continue
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from leaf_keys(value, dotted)
        else:
            yield dotted


def missing_items(doc: str) -> list[str]:
    missing = []
    for path in sorted((ROOT / "conf").rglob("*.yaml")):
        relative = path.relative_to(ROOT / "conf")
        if relative.parts[0] in SKIPPED_GROUPS:
            continue
        if relative.name == "config.yaml":
            group = ""
        else:
            group = ".".join(relative.parts[:-1])
            if f"`{path.stem}`" not in doc:
                missing.append(f"option {'/'.join(relative.parts[:-1])}={path.stem}")
        for key in leaf_keys(yaml.safe_load(path.read_text()) or {}):
            full = f"{group}.{key}" if group else key
            last = key.split(".")[-1]
            if not any(form in doc for form in (f"`{full}`", f"`{key}`", f"`{last}`", f"`{last}:")):
                missing.append(f"key {full} ({relative})")
    return missing


def main() -> int:
    missing = missing_items((ROOT / "docs" / "configuration.md").read_text())
    for item in missing:
        print(f"not in docs/configuration.md: {item}")
    if not missing:
        print("docs/configuration.md names every option and key of conf/")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
