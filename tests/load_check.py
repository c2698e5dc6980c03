"""Load check: 2 sweep processes x 4 joblib workers, 16 trials, one PostgreSQL study, `make server`.

Run from the repository root (PostgreSQL installed; the tiny model; a few minutes on 2 cores)::

    OMP_NUM_THREADS=1 .venv/bin/python tests/load_check.py

Starts a throwaway PostgreSQL (study and MLflow backend) and the MLflow server with
`make server`, runs the two sweeps, checks the study and the server, then does it again
with one joblib worker SIGKILLed mid-trial. Prints a table of what it checked; exits 1
if a check failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import optuna
from live_servers import NO_TELEMETRY, PostgresServer, free_port, postgres_bin_dir
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parent.parent
N_TRIALS, WORKERS, GENERATIONS = 16, 4, 3


def sweep_command(storage: str, uri: str, name: str, folder: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "evosweep", "-m", "hparams_search=ga_optuna", "model=tiny-gpt2",
            "task=fr_en", "task.max_train=2", "task.max_eval=2", f"algorithm.generations={GENERATIONS}",
            "eval.max_new_tokens=2", "reward=chrf", "tracking=mlflow", f"tracking.uri={uri}",
            f"tracking.experiment={name}", f"hydra.sweeper.storage={storage}",
            f"hydra.sweeper.study_name={name}", f"hydra.sweeper.n_trials={N_TRIALS}",
            f"hydra.sweeper.n_jobs={WORKERS}", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={WORKERS}",
            f"hydra.sweep.dir={folder / 'multirun'}", *extra]


def start(command: list[str], log: Path, cwd: Path = REPO, env: dict | None = None) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                env={**os.environ, "OMP_NUM_THREADS": "1", **NO_TELEMETRY, **(env or {})})


def joblib_workers(pid: int) -> list[int]:
    """The loky (joblib) worker processes among ``pid``'s children (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(fields[1]) == pid and b"popen_loky" in command:
            out.append(int(stat.parent.name))
    return out


def wait_mid_trial(storage: str, name: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
            if any(t.state.name == "RUNNING" and t.intermediate_values for t in trials):
                return
        except KeyError:
            pass
        time.sleep(0.5)
    raise RuntimeError("no trial reported a generation")


def check(storage: str, uri: str, name: str) -> dict[str, object]:
    """What the study and the server hold after the sweeps."""
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name(name).experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("evosweep.role") == "sweep"]
    kids = {r.data.tags.get("optuna.trial_number"): r for r in runs if r not in parents}
    complete = [t for t in done if t.state.name == "COMPLETE"]
    missing_steps = [t.number for t in complete if sorted(
        m.step for m in client.get_metric_history(kids[str(t.number)].info.run_id, "fitness/best")
    ) != list(range(GENERATIONS))] if all(str(t.number) in kids for t in complete) else ["no run"]
    no_adapter = [t.number for t in complete if str(t.number) in kids
                  and not client.list_artifacts(kids[str(t.number)].info.run_id, "adapters/best")]
    numbers = [t.number for t in trials]
    return {
        "finished trials (COMPLETE+PRUNED)": len(done),
        "trials asked": len(trials),
        "FAIL trials (surplus races / killed)": f"{states.count('FAIL')} "
        f"({sum(bool(t.user_attrs.get('evosweep.surplus')) for t in trials)} surplus)",
        "duplicate trial numbers": len(numbers) - len(set(numbers)),
        "RUNNING in Optuna": states.count("RUNNING"),
        "RUNNING in MLflow": sum(r.info.status == "RUNNING" for r in runs),
        "sweep parent runs": len(parents),
        "child runs nested under the parent": sum(
            r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id for r in kids.values()
        ) if len(parents) == 1 else "-",
        "COMPLETE trials missing a metric step": len(missing_steps),
        "COMPLETE trials without an adapter artifact": len(no_adapter),
    }


def passed(result: dict[str, object]) -> bool:
    return (result["finished trials (COMPLETE+PRUNED)"] == N_TRIALS
            and result["duplicate trial numbers"] == 0 and result["RUNNING in Optuna"] == 0
            and result["RUNNING in MLflow"] == 0 and result["sweep parent runs"] == 1
            and result["COMPLETE trials missing a metric step"] == 0
            and result["COMPLETE trials without an adapter artifact"] == 0)


def run_pair(storage: str, uri: str, name: str, folder: Path, kill_a_worker: bool) -> dict[str, object]:
    extra = ("hydra.sweeper.max_failure_rate=0.5",) if kill_a_worker else ()
    started = time.monotonic()
    procs = [start(sweep_command(storage, uri, name, folder, *extra), folder / f"{name}-{i}.log")
             for i in range(2)]
    killed = None
    if kill_a_worker:
        wait_mid_trial(storage, name)
        workers = joblib_workers(procs[0].pid)
        killed = workers[0] if workers else None
        if killed is not None:
            os.kill(killed, signal.SIGKILL)
    codes = [p.wait(timeout=1800) for p in procs]
    result = {"sweep exit codes": codes, "wall seconds": round(time.monotonic() - started),
              **({"killed worker pid": killed} if kill_a_worker else {}), **check(storage, uri, name)}
    result["PASS"] = passed(result) and codes == [0, 0]
    return result


def main() -> int:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        print("PostgreSQL is not installed (apt-get install postgresql-15)")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="evosweep-load-"))
    postgres = PostgresServer(bin_dir).start()
    port = free_port()
    server = start(["make", "server", f"PORT={port}", f"DB={postgres.create_database('mlflow')}",
                    f"ARTIFACTS={folder / 'artifacts'}"], folder / "server.log")
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(uri + "/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        results = {
            "2 sweeps x 4 workers": run_pair(postgres.create_database("load"), uri, "load", folder, False),
            "same, one worker killed": run_pair(postgres.create_database("load_kill"), uri, "load_kill",
                                                folder, True),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        postgres.stop()
    print_table(results)
    print(f"logs: {folder}")
    return 0 if all(r["PASS"] for r in results.values()) else 1


def print_table(results: dict[str, dict[str, object]]) -> None:
    names = list(results)
    rows = list(next(iter(results.values())))
    rows += [r for result in results.values() for r in result if r not in rows]
    print("| check | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for row in rows:
        print(f"| {row} | " + " | ".join(str(results[n].get(row, "")) for n in names) + " |")


if __name__ == "__main__":
    sys.exit(main())
