"""Real Celery worker processes for tests: started, pinged, stopped (or killed) for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    node: str
    queue: str
    log_path: Path
    log: IO[bytes]

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: no cleanup runs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return os.environ.get("DATABASE_URL", "")


def start_worker(name: str, *, queue: str, env: dict[str, str] | None = None) -> Worker:
    """A `celery worker` process (solo pool) consuming `queue` (empty: every configured
    queue, as `make run`'s worker), on this test database.

    `env` overrides the environment (e.g. another broker, an SMTP server). Returns once the
    worker answers a ping on its broker.
    """
    full_env = dict(os.environ)
    full_env["DATABASE_URL"] = database_url()
    full_env.update(env or {})
    log_path = Path(os.environ.get("MAKLUMAT_VAR_DIR", "/tmp")) / f"worker-{name}-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    node = f"{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            *(["-Q", queue] if queue else []),  # none: every queue in the settings
            "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "--loglevel=INFO", "-n", f"{node}@%h",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = Worker(proc=proc, node=node, queue=queue, log_path=log_path, log=log)
    deadline = time.monotonic() + 60
    if "CELERY_BROKER_URL" in (env or {}):
        # Another broker than this process's app talks to: watch the worker's own log.
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"The Celery worker exited early:\n{worker.log_text()[-3000:]}")
            if f"{node}@" in worker.log_text() and " ready." in worker.log_text():
                return worker
            time.sleep(0.1)
        worker.stop()
        pytest.fail(f"The Celery worker did not start; see {log_path}")
    from config.celery import app

    replies: Any = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"The Celery worker exited early:\n{worker.log_text()[-3000:]}")
        replies = app.control.ping(timeout=0.5)
        if any(n.startswith(f"{node}@") for r in replies or [] for n in r):
            return worker
    worker.stop()
    pytest.fail(f"The Celery worker did not answer a ping ({replies}); see {log_path}")


def wait_for(condition: Any, *, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"Timed out waiting for {what}")
