"""Regenerate docs/layout.md from the package tree: one row per module, its docstring's first sentence.

Run from the repository root after adding, moving or renaming a module:

    .venv/bin/python docs/tools/gen_layout.py

A package's row is its ``__init__.py`` docstring (or the fallback below when that
is only the package's name). A folder missing from PACKAGES stops the script.
"""
import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "evosweep": "the package: `python -m evosweep`, the run loop, errors",
    "evosweep/settings": "config groups -> validated dataclasses (no torch import)",
    "evosweep/tasks": "(prompt, reference) pairs: JSONL loading, the Countdown generator, bundled data",
    "evosweep/models": "the frozen base model (hub, folder, `pkg://`, GGUF), tiny models, devices",
    "evosweep/lora": "the flat (P, D) adapter layout, peft import/export, batched multi-LoRA layers",
    "evosweep/evaluation": "the population evaluator, prompts, the shared prompt head, held-out checks",
    "evosweep/rewards": "text rewards behind one guard; the likelihood reward",
    "evosweep/rewards/rating": "`reward=human_web`: the rating page, its queue and ratings log",
    "evosweep/algorithms": "ga, es, pg, hybrid, sft, fitness shaping, schedules",
    "evosweep/algorithms/operators": "selection, crossover, mutation on the (P, D) tensor",
    "evosweep/tracking": "MLflow (the only mlflow importer), store URIs, database preflight checks",
    "evosweep/state": "checkpoints and resume: the run's saved state, re-logging what the tracker lacks",
    "evosweep/sweep": "the core side of a sweep: Optuna pruner and storage specs, the job's trial reporter",
    "evosweep/outputs": "what a finished run writes: the fitness plot, the summary and answer tables",
    "evosweep/report": "`python -m evosweep.report`: an experiment's tables and plots, `ui_links`",
    "evosweep/bench": "`python -m evosweep.bench`",
    "evosweep/distributed": "Ray: joining a cluster, a run's population over evaluation actors (`eval.workers`)",
    "hydra_plugins/evosweep_optuna_sweeper": "the Optuna sweeper plugin; the core never imports it",
    "hydra_plugins/evosweep_ray_launcher": "`hydra/launcher=ray`: each job a Ray task, each result its own",
}

def first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    match = re.match(r"(.+?(?<!\bal)\.)(\s+[A-Z`(]|$)", para)
    text = match.group(1) if match else para
    text = text.rstrip(".").replace("``", "`")
    text = re.sub(r":mod:`([^`]+)`", r"`\1`", text)
    return text.replace("|", "\\|")

files = subprocess.run(["find", "evosweep", "hydra_plugins", "-name", "*.py"], cwd=ROOT,
                       capture_output=True, text=True, check=True).stdout.split()
rows = []
for package, fallback in PACKAGES.items():
    init = ROOT / package / "__init__.py"
    described = first_sentence(init) if init.exists() else ""
    rows.append(f"| **`{package}/`** | {described if len(described.split()) >= 3 else fallback} |")
    for f in sorted(files):
        p = Path(f)
        if str(p.parent) == package and p.name != "__init__.py":
            rows.append(f"| `{p}` | {first_sentence(ROOT / p)} |")
missing = [f for f in files if str(Path(f).parent) not in PACKAGES]
assert not missing, missing

body = "\n".join(rows)
page = f"""# Layout

Folders follow the data path: config → settings → task and model → LoRA population →
evaluation → reward → algorithm → tracking. Each module holds one concept and starts
with a docstring; the second column is its first sentence. This page is generated from
`find evosweep hydra_plugins -name '*.py'` by `docs/tools/gen_layout.py`: rerun it after
adding or moving a module.

```
conf/            Hydra config groups: model, task, reward, algorithm, operators/*, schedule,
                 eval, tracking, hparams_search, experiment, hydra/launcher (see Configuration)
evosweep/        the package (below)
hydra_plugins/   evosweep_optuna_sweeper: the Optuna sweeper plugin;
                 evosweep_ray_launcher: the Ray launcher (hydra/launcher=ray)
tests/           pytest; fast tests use tiny models built in code, `slow` marks the embedded model
docs/            this site (mkdocs.yml at the root; `make docs`)
outputs/         run folders, MLflow store and artifacts, Optuna studies, reports (git-ignored)
```

The data path of one run:

```
conf/ (Hydra) ──► evosweep.__main__ ──► run(cfg) ──► objective (float) ──► sweeper
  settings      ──► validated dataclasses; one ConfigError naming the key
  models        ──► frozen base LM + tokenizer
  tasks         ──► train / held-out (prompt, reference) pairs
  lora          ──► population: one (P, D) tensor of flat LoRA weights
  evaluation    ──► P members x N prompts in batched passes
  rewards       ──► scores (P, N) -> fitness (P,)
  algorithms    ──► ask() -> population; tell(fitness)
  state         ──► checkpoint after every generation; a rerun resumes from it
  tracking      ──► MLflow metrics and artifacts
  outputs       ──► summary table, fitness plot, saved adapter
```

| module | what it holds |
|---|---|
{body}
"""
(ROOT / "docs" / "layout.md").write_text(page)
print(f"{len(rows)} rows")
