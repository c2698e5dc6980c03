"""Report tables as generated blocks of docs pages: written by --into, stale ones caught."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from evosweep.errors import EvosweepError
from evosweep.report.cli import main
from evosweep.report.docs_block import CLOSE, find_blocks, stale_blocks
from evosweep.tracking.provenance import CODE_ROOT

DOCS = sorted((CODE_ROOT / "docs").rglob("*.md")) + [CODE_ROOT / "README.md"]


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(CODE_ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def shallow_or_no_git() -> bool:
    try:
        return git("rev-parse", "--is-shallow-repository") == "true"
    except (subprocess.CalledProcessError, OSError):
        return True


def fr_en_exact_changes() -> list[str]:
    """The last two commits that changed conf/experiment/fr_en_exact.yaml (newest first)."""
    return git("log", "-2", "--format=%H", "--", "conf/experiment/fr_en_exact.yaml").splitlines()


@pytest.fixture
def store(tmp_path) -> str:
    """Experiment ``sparse``: two arms x two seeds, tagged as runs of +experiment=fr_en_exact."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(uri)
    experiment_id = client.create_experiment("sparse", artifact_location=(tmp_path / "art").as_uri())
    commit = fr_en_exact_changes()[0] if not shallow_or_no_git() else "unknown"
    for arm, seed, final, exact in (("es", 0, -3.0, 0.10), ("es", 1, -3.2, 0.15),
                                    ("sft", 0, -1.0, 0.35), ("sft", 1, -1.1, 0.40)):
        command = f"python -m evosweep +experiment=fr_en_exact +experiment/fr_en_exact={arm} seed={seed}"
        tags = {"evosweep.git_commit": commit, "evosweep.git_dirty": "false", "evosweep.command": command}
        run_id = client.create_run(experiment_id, run_name=f"{arm}-{seed}", tags=tags).info.run_id
        metrics = [Metric("fitness/best", final, 0, 0), Metric("heldout/final", final, 0, 1),
                   Metric("heldout/final_exact", exact, 0, 1), Metric("heldout/base_exact", 0.0, 0, 0)]
        client.log_batch(run_id, metrics=metrics, params=[Param("seed", str(seed)), Param("ablation", arm)])
        client.set_terminated(run_id, "FINISHED")
    return uri


def test_into_rewrites_only_the_experiment_s_block(store, tmp_path, capsys):
    page = tmp_path / "results.md"
    page.write_text("# Results\n\nBefore.\n\n<!-- evosweep:report experiment=sparse -->\nold table\n"
                    f"{CLOSE}\n\nAfter.\n")
    for _ in range(2):  # twice: the block is replaced, not appended
        assert main(["sparse", "--tracking-uri", store, "--output-dir", str(tmp_path / "out"),
                     "--no-mlflow-run", "--into", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# Results\n\nBefore.\n\n") and text.endswith(f"{CLOSE}\n\nAfter.\n")
    assert "old table" not in text and text.count(CLOSE) == 1
    (block,) = find_blocks(page)
    assert block.attrs["experiment"] == "sparse"
    assert block.files == ["conf/experiment/fr_en_exact.yaml", "conf/experiment/fr_en_exact/"]
    assert "| `es` | 10% / 15% | -3.0000 / -3.2000 |" in text  # every seed, not only the mean
    assert "| `sft` | 35% / 40% |" in text
    assert "python -m evosweep +experiment=fr_en_exact +experiment/fr_en_exact=sft seed=0" in text
    assert f"the block in {page}" in capsys.readouterr().out


def test_a_page_without_the_block_names_the_lines_to_add(store, tmp_path):
    page = tmp_path / "results.md"
    page.write_text("# Results\n")
    with pytest.raises(EvosweepError, match="add the lines '<!-- evosweep:report experiment=sparse -->'"):
        from evosweep.report.cli import build_report

        build_report("sparse", store, tmp_path / "out", log_to_mlflow=False, into=page)
    assert page.read_text() == "# Results\n"  # nothing half-written


@pytest.mark.skipif(shallow_or_no_git(), reason="needs the project's git history")
def test_a_block_older_than_its_experiment_file_is_stale(tmp_path):
    newest, older = fr_en_exact_changes()
    before_newest = git("rev-parse", f"{newest}~1")
    assert older  # the file changed at least twice
    page = tmp_path / "page.md"
    files = "conf/experiment/fr_en_exact.yaml"
    opening = "<!-- evosweep:report experiment={} commit={} files=" + files + " -->\n" + CLOSE + "\n"
    page.write_text(opening.format("x", before_newest[:7]) + opening.format("y", newest[:7]))
    (line,) = stale_blocks([page])
    assert "block of x" in line and "rerun it" in line


@pytest.mark.skipif(shallow_or_no_git(), reason="needs the project's git history")
def test_no_generated_block_of_the_docs_is_stale():
    assert stale_blocks([path for path in DOCS if path.is_file()]) == []


def test_an_unclosed_block_is_named(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- evosweep:report experiment=x -->\n")
    with pytest.raises(EvosweepError, match="has no <!-- /evosweep:report -->"):
        find_blocks(page)


def toy_repo(root: Path) -> Path:
    """An empty git repository with conf/experiment/toy/ (arms) under ``root``."""
    repo = root / "repo"
    (repo / "conf" / "experiment" / "toy").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def commit_files(repo: Path, files: dict[Path, str]) -> str:
    """Write ``files`` and commit them; the new commit's hash."""
    for path, text in files.items():
        path.write_text(text)
    for args in (["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_a_comment_only_change_leaves_the_block_fresh_and_a_setting_change_does_not(tmp_path):
    repo = toy_repo(tmp_path)
    config = repo / "conf" / "experiment" / "toy.yaml"

    def commit(text: str) -> str:
        return commit_files(repo, {config: text})

    ran_at = commit("# scaled down\nseed: 0\n")
    page = tmp_path / "page.md"
    page.write_text(f"<!-- evosweep:report experiment=toy commit={ran_at[:7]} "
                    f"files=conf/experiment/toy.yaml -->\n{CLOSE}\n")
    commit("# Scaled down, reworded\nseed: 0  # the same seed\n")
    assert stale_blocks([page], repo=repo) == []
    commit("# Scaled down\nseed: 1\n")
    (line,) = stale_blocks([page], repo=repo)
    assert "conf/experiment/toy.yaml changed" in line and "rerun it" in line


def test_a_new_arm_and_a_longer_sweep_list_leave_the_older_runs_fresh(tmp_path):
    repo = toy_repo(tmp_path)
    arms = repo / "conf" / "experiment" / "toy"
    config = repo / "conf" / "experiment" / "toy.yaml"
    sweep = "seed: 0\nhydra:\n  sweeper:\n    params:\n      +experiment/toy: {}\n"
    ran_at = commit_files(repo, {config: sweep.format("a"), arms / "a.yaml": "lr: 1\n"})
    later = commit_files(repo, {config: sweep.format("a,b"), arms / "b.yaml": "lr: 2\n"})  # arm b, run later
    page = tmp_path / "page.md"
    page.write_text(f"<!-- evosweep:report experiment=toy commit={ran_at[:7]},{later[:7]} "
                    f"files=conf/experiment/toy.yaml,conf/experiment/toy/ -->\n{CLOSE}\n")
    assert stale_blocks([page], repo=repo) == []
    commit_files(repo, {arms / "a.yaml": "lr: 3\n"})  # a setting of a run: stale again
    (line,) = stale_blocks([page], repo=repo)
    assert "conf/experiment/toy/a.yaml changed" in line
