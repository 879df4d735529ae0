"""Request ids: taken or made per request, returned, written in JSON log lines, and
carried through the broker into the tasks a request starts (a real worker)."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.logs import JsonFormatter, RequestIdMiddleware, request_id_var, task_var
from core.tasks import ping_task
from tests.workers import start_worker, wait_for


def _id_of(response: Any) -> str:
    return str(response["X-Request-ID"])


def test_a_sane_request_id_is_kept_and_returned(client: Any, db: Any):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-1a2b.3c:4d_5")
    assert _id_of(response) == "edge-1a2b.3c:4d_5"


@pytest.mark.parametrize(
    "given", [None, "", "has space", "x" * 129, "new\nline", "<script>", "ünï"]
)
def test_a_missing_or_odd_request_id_is_replaced(client: Any, db: Any, given: str | None):
    extra = {"HTTP_X_REQUEST_ID": given} if given is not None else {}
    made = _id_of(client.get("/healthz", **extra))
    assert made != given and len(made) == 32 and int(made, 16) >= 0
    assert _id_of(client.get("/healthz", **extra)) != made  # a new one each time


def test_json_lines_carry_the_request_and_task_and_extra_fields():
    token, task_token = request_id_var.set("req-42"), task_var.set(("core.ping", "t-1"))
    try:
        # Stamped when made, formatted any time after.
        record = logging.getLogRecordFactory()(
            "maklumat.test", logging.WARNING, __file__, 1, "hi %s", ("x",), None
        )
    finally:
        task_var.reset(task_token)
        request_id_var.reset(token)
    record.agency = "dinas-a"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hi x" and line["level"] == "WARNING"
    assert line["logger"] == "maklumat.test" and line["time"].endswith("+00:00")
    assert line["request_id"] == "req-42"
    assert (line["task_name"], line["task_id"]) == ("core.ping", "t-1")
    assert line["agency"] == "dinas-a"
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("m", logging.ERROR, __file__, 1, "oops", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(failed))
    assert "ValueError: boom" in line["exc_info"] and "request_id" not in line


def test_the_log_lines_of_a_request_carry_its_id(caplog: Any):
    seen: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        logging.getLogger("maklumat.test").warning("inside")
        seen.append(request_id_var.get())
        return HttpResponse("ok")

    with caplog.at_level(logging.WARNING, logger="maklumat.test"):
        response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="r-1"))
    assert seen == ["r-1"] and response["X-Request-ID"] == "r-1"
    [record] = caplog.records
    assert json.loads(JsonFormatter().format(record))["request_id"] == "r-1"
    assert request_id_var.get() is None  # nothing leaks into the next request


@pytest.mark.worker
def test_a_task_started_by_a_request_logs_the_request_id_on_a_real_worker(
    transactional_db: Any, settings: Any
):
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-reqid-{uuid.uuid4().hex[:8]}"
    worker = start_worker("reqid", queue=queue, env={"LOG_FORMAT": "json"})
    try:
        results: list[Any] = []

        def view(request: HttpRequest) -> HttpResponse:
            results.append(ping_task.apply_async(args=("from-a-request",), queue=queue))
            return HttpResponse("started")

        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="citizen-req-7")
        response = RequestIdMiddleware(view)(request)
        assert response["X-Request-ID"] == "citizen-req-7"
        assert results[0].get(timeout=30) == "pong:from-a-request"
        # A task published outside any request carries no id.
        assert ping_task.apply_async(args=("no-request",), queue=queue).get(timeout=30)

        def lines() -> list[dict[str, Any]]:
            found = []
            for raw in worker.log_text().splitlines():
                if raw.startswith("{"):
                    found.append(json.loads(raw))
            return found

        wait_for(lambda: any("no-request" in x["message"] for x in lines()), what="the log")
        [ping] = [x for x in lines() if x["message"] == "ping from-a-request"]
        assert ping["request_id"] == "citizen-req-7"
        assert ping["task_name"] == "core.ping" and ping["task_id"] == results[0].id
        [other] = [x for x in lines() if x["message"] == "ping no-request"]
        assert "request_id" not in other and other["task_name"] == "core.ping"
    finally:
        worker.stop()
