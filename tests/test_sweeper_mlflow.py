"""MLflow: one parent run per study, one child per trial tagged with its state, best on parent."""

from __future__ import annotations

from pathlib import Path

from sweeper_app.harness import load_study, run_app

TRACKING = (
    "tracking.enabled=true",
    "hydra.sweeper.pruner={name: median, n_startup_trials: 1}",
    "steps=3",
    "hydra/sweeper/sampler=random",
    "hydra.sweeper.sampler.seed=0",  # seeded: some trials are pruned
)


def test_parent_and_child_runs(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    # first half: the job logs nothing, the sweeper creates each child run itself
    run_app(tmp_path, "hydra.sweeper.n_trials=3", *TRACKING)
    # resumed: the job opens its own child run (as evosweep's tracker does)
    run_app(tmp_path, "hydra.sweeper.n_trials=6", "mlflow_child=true", *TRACKING)

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("toy")
    assert experiment.artifact_location.startswith("file://")
    assert str(tmp_path / "outputs" / "mlartifacts") in experiment.artifact_location
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("evosweep.role") == "sweep"]
    assert len(parents) == 1  # the resumed sweep reused it
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]

    study = load_study(tmp_path)
    by_number = {int(r.data.tags["optuna.trial_number"]): r for r in children}
    assert len(children) == len(study.trials) == len(by_number) == 6
    for trial in study.trials:
        assert by_number[trial.number].data.tags["optuna.state"] == trial.state.name
    assert "PRUNED" in {t.state.name for t in study.trials}

    best = study.best_trial
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_value"] == best.value
    assert parent.data.tags["best.x"] == str(best.params["x"])
    assert parent.data.tags["optuna.study_name"] == "sphere"
    artifacts = [a.path for a in client.list_artifacts(parent.info.run_id)]
    assert "optimization_results.yaml" in artifacts
    assert (tmp_path / "multirun" / "optimization_results.yaml").exists()
