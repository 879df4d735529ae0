"""`make backup` and `make restore`, round trip: the scripts themselves, on the test
database, restored into a throwaway database of their own and a new media folder."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import factories
from tests.ops.processes import pg_bin
from tests.workers import ROOT, database_url

pytestmark = pytest.mark.worker


def _script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        # Not as a pytest-xdist worker: its settings would put MEDIA_ROOT in its own folder.
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
            "MAKLUMAT_PG_BIN": str(Path(pg_bin("pg_dump")).parent),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_backup_then_restore_gives_the_same_data_and_media(transactional_db: Any, tmp_path: Path):
    agency = factories.AgencyFactory(name="Dinas Cadangan", slug="dinas-cadangan")
    factories.UnitFactory(agency=agency, slug="unit-cadangan")
    media = tmp_path / "media"
    (media / "agency-logos").mkdir(parents=True)
    (media / "agency-logos" / "dinas.png").write_bytes(b"\x89PNG logo bytes")
    source = database_url()

    made = _script("backup.sh", env={"DATABASE_URL": source, "MEDIA_ROOT": str(media),
                                     "BACKUP_DIR": str(tmp_path / "backups")})  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    backup = Path(made.stdout.strip().splitlines()[-1])
    assert backup.is_dir() and sorted(p.name for p in backup.iterdir()) == [
        "SHA256SUMS", "database.dump", "media.tar.gz"
    ]  # fmt: skip
    assert not list((tmp_path / "backups").glob("*.partial"))

    target_name = f"maklumat_restore_{uuid.uuid4().hex[:8]}"
    target = source.rsplit("/", 1)[0] + f"/{target_name}"
    with psycopg.connect(source.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target_name}"')
    restored_media = tmp_path / "restored" / "media"
    try:
        env = {"DATABASE_URL": target, "MEDIA_ROOT": str(restored_media)}
        refused = _script("restore.sh", str(backup), env=env)
        assert refused.returncode != 0 and "RESTORE_CONFIRM=yes" in refused.stderr
        for _ in range(2):  # restoring again over the first restore changes nothing
            done = _script("restore.sh", str(backup), env={**env, "RESTORE_CONFIRM": "yes"})
            assert done.returncode == 0, done.stderr[-3000:]
            assert _rows(target, "SELECT name FROM agencies_agency WHERE slug = 'dinas-cadangan'") == [
                ("Dinas Cadangan",)
            ]  # fmt: skip
            for table in ("agencies_agency", "agencies_unit", "django_migrations"):
                count = f"SELECT count(*) FROM {table}"
                assert _rows(target, count) == _rows(source, count), table
        assert (restored_media / "agency-logos" / "dinas.png").read_bytes() == b"\x89PNG logo bytes"
        assert list(restored_media.parent.glob("media.before-restore-*"))  # the old one kept

        (backup / "media.tar.gz").write_bytes(b"tampered")
        tampered = _script("restore.sh", str(backup), env={**env, "RESTORE_CONFIRM": "yes"})
        assert tampered.returncode != 0 and "checksums" in tampered.stderr
    finally:
        with psycopg.connect(source.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
