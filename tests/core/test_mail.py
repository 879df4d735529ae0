"""`make run`'s email backend: one .eml file and one printed line per message."""

from __future__ import annotations

import email
import email.policy
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.core.mail import EmailMessage, get_connection

ROOT = Path(__file__).resolve().parents[2]


def _messages() -> list[EmailMessage]:
    return [
        EmailMessage("Pelanggaran standar: KTP", "Isi pesan", None, ["unit@example.org"]),
        EmailMessage(
            "Ringkasan harian — 3 layanan",
            "Baris satu\nBaris dua\n" * 50,
            None,
            ["a@example.org", "b@example.org"],
            cc=["c@example.org"],
        ),
    ]


def test_each_message_is_an_eml_file_and_one_line(tmp_path):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("core.mail")
    logger.addHandler(handler)
    try:
        connection = get_connection("core.mail.EmlFileBackend", file_path=tmp_path)
        assert connection.send_messages(_messages()) == 2
    finally:
        logger.removeHandler(handler)

    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert {m["Subject"] for m in parsed} == {
        "Pelanggaran standar: KTP",
        "Ringkasan harian — 3 layanan",
    }
    by_subject = {m["Subject"]: m for m in parsed}
    assert by_subject["Pelanggaran standar: KTP"]["To"] == "unit@example.org"
    digest = by_subject["Ringkasan harian — 3 layanan"]
    assert digest["To"] == "a@example.org, b@example.org"
    assert digest["Cc"] == "c@example.org"
    assert digest.get_content().startswith("Baris satu\n")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "unit@example.org" in lines[0] and "Pelanggaran standar: KTP" in lines[0]
    assert "a@example.org, b@example.org, c@example.org" in lines[1]
    assert {line.rsplit(" -> ", 1)[1] for line in lines} == {str(f) for f in files}


def test_many_recipients_stay_on_one_line(tmp_path, caplog):
    message = EmailMessage("S", "b", None, [f"r{n}@example.org" for n in range(10)])
    with caplog.at_level(logging.INFO, logger="core.mail"):
        get_connection("core.mail.EmlFileBackend", file_path=tmp_path).send_messages([message])
    [record] = caplog.records
    assert "r0@example.org, r1@example.org, r2@example.org (+7 more)" in record.getMessage()


def _run_with(tmp_path: Path, email_url: str, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env |= {"EMAIL_URL": email_url, "MAKLUMAT_VAR_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    setup = "import django; django.setup(); from django.conf import settings\n"
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def test_make_runs_email_url_prints_one_line_per_message(tmp_path):
    sent = _run_with(
        tmp_path,
        "emlfile://",
        "from django.core.mail import send_mail\n"
        "send_mail('Satu', 'isi\\n' * 200, None, ['a@example.org'])\n"
        "send_mail('Dua', 'isi\\n' * 200, None, ['b@example.org'])\n",
    )
    printed = (sent.stdout + sent.stderr).splitlines()
    assert len(printed) == 2, printed
    assert "a@example.org" in printed[0] and "'Satu'" in printed[0]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2


def test_other_email_urls_are_unchanged(tmp_path):
    shown = "print(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_USE_TLS)"
    smtp = _run_with(tmp_path, "smtp+tls://u:p@smtp.example.org:587", shown).stdout.split()
    assert smtp == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.org", "True"]
    console = _run_with(tmp_path, "consolemail://", "print(settings.EMAIL_BACKEND)").stdout
    assert console.strip() == "django.core.mail.backends.console.EmailBackend"
