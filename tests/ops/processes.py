"""Real processes for the fault tests: a throwaway PostgreSQL cluster that can be stopped
and started again on the same port, and the app under gunicorn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tests.notifications.conftest import free_port
from tests.workers import ROOT, database_url


def pg_bin(name: str) -> str:
    base = os.environ.get("MAKLUMAT_PG_BIN")
    if base and (Path(base) / name).exists():
        return str(Path(base) / name)
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    binary = shutil.which(name)
    if binary is None:
        pytest.fail(f"{name} is not installed (run `make test`, which installs PostgreSQL).")
    return binary


def _as_pg(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class ThrowawayPostgres:
    """A PostgreSQL cluster of this test's own, on a loopback port."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are private to root, and the server
        # runs as the postgres user.
        self.workdir = Path(tempfile.mkdtemp(prefix="maklumat-pg-"))
        os.chmod(self.workdir, 0o755)
        self.dir = self.workdir / "pg"
        self.port = free_port()
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([pg_bin("initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
        self.running = False

    def _run(self, args: list[str]) -> None:
        done = subprocess.run(_as_pg(args), cwd="/", capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            pytest.fail(f"{args[0]} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")

    def url(self, name: str = "maklumat") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self._run([pg_bin("pg_ctl"), "-D", str(self.dir), "-w", "-l", str(self.dir / "log"),
                   "start", "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"])  # fmt: skip
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._run([pg_bin("pg_ctl"), "-D", str(self.dir), "-w", "-m", "fast", "stop"])
            self.running = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def copy_of_test_database(self, name: str = "maklumat") -> str:
        """A new database here holding the test database's schema and data."""
        self._run([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                   name])  # fmt: skip
        dump = subprocess.run(
            [pg_bin("pg_dump"), "--format=custom", "--no-owner", "--dbname", database_url()],
            capture_output=True,
            timeout=300,
            check=True,
        )
        subprocess.run(
            [pg_bin("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", self.url(name)],
            input=dump.stdout,
            capture_output=True,
            timeout=300,
            check=True,
        )
        return self.url(name)


@dataclass
class Web:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    log: IO[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def start_web(env: dict[str, str], log_path: Path, *, workers: int = 2) -> Web:
    """gunicorn serving config.wsgi as in production (DEBUG off), on a loopback port."""
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    web = Web(proc=proc, port=port, log_path=log_path, log=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{web.log_text()[-3000:]}")
        try:
            web.get("/healthz")
            return web
        except OSError:
            time.sleep(0.2)
    web.stop()
    pytest.fail(f"gunicorn did not answer:\n{web.log_text()[-3000:]}")
