"""Real PostgreSQL and MLflow servers on 127.0.0.1 for tests and the load check.

PostgreSQL's initdb/pg_ctl refuse to run as root: as root they run as the ``postgres``
user (the Debian package creates it) on a throwaway data folder under /tmp. Every
wait is bounded; ``stop`` never raises.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 120
NO_TELEMETRY = {"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "1"}


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), or None."""
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found and (Path(found[-1]) / "pg_ctl").exists() else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust authentication, user ``postgres``)."""

    def __init__(self, bin_dir: Path, port: int | None = None) -> None:
        self.bin_dir = bin_dir
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="evosweep-pg-"))
        self.data = self.root / "data"

    def _as_owner(self, *command: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def start(self) -> PostgresServer:
        """initdb, then pg_ctl start; waits (bounded) until it accepts connections."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(self._as_owner(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust",
                                      "-U", "postgres", "-E", "UTF8", "--no-sync"),
                       check=True, capture_output=True, timeout=START_TIMEOUT_S)
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        subprocess.run(self._as_owner(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                                      str(self.root / "server.log"), "-o", options,
                                      "-w", "-t", str(START_TIMEOUT_S), "start"),
                       check=True, capture_output=True, timeout=START_TIMEOUT_S + 10)
        return self

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> list[tuple]:
        """Run one statement outside a transaction; return its rows (if any)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}",
                             autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str) -> str:
        """Create ``name``; return its URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate_backends(self, database: str) -> int:
        """Drop every client connection to ``database`` (as a crash or a restart would)."""
        rows = self.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        return len(rows)

    def stop(self) -> None:
        """Stop the server and delete its data."""
        try:
            subprocess.run(self._as_owner(str(self.bin_dir / "pg_ctl"), "-D", str(self.data),
                                          "-m", "immediate", "-w", "-t", "30", "stop"),
                           capture_output=True, timeout=40)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class MlflowServer:
    """``mlflow server`` on 127.0.0.1 with a backend store and a proxied artifact folder."""

    def __init__(self, backend_uri: str, artifacts: Path, log_path: Path, port: int | None = None) -> None:
        self.backend_uri = backend_uri
        self.artifacts = artifacts
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        """The tracking URI runs log to."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MlflowServer:
        """Start the server; waits (bounded) until ``/health`` answers."""
        mlflow = Path(sys.executable).parent / "mlflow"
        command = [str(mlflow), "server", "--backend-store-uri", self.backend_uri,
                   "--artifacts-destination", str(self.artifacts), "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", "1"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until stopped
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **NO_TELEMETRY}, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log_path.read_text()[-2000:]}")
            if self.answers():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server not up in {START_TIMEOUT_S} s: {self.log_path}")

    def answers(self) -> bool:
        """True when ``/health`` answers 200."""
        try:
            with urllib.request.urlopen(self.uri + "/health", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server and its workers (its process group); bounded."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
