"""Structured logs: one JSON object a line, carrying the request id from the web request
into every Celery task it starts (and the tasks those start).

- RequestIdMiddleware takes the client's or proxy's X-Request-ID when it is sane (1-128
  letters, digits and ._:-), else makes one, and returns it in the response header.
- Publishing a task copies the current id into a message header (before_task_publish);
  the worker puts it back in the context before the task runs (task_prerun), so the
  task's log lines, and the tasks it publishes in turn, carry it.
- JsonFormatter writes each record with the id, and the task's name and id in a worker.

LOG_FORMAT=json (the default with DEBUG off) or plain (`make run`, the test suite).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from celery import signals
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "maklumat_request_id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "maklumat_request_id", default=None
)
task_var: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "maklumat_task", default=None
)


def request_id_from(value: str | None) -> str:
    """The given id when it is sane (no spaces, control characters or huge values that
    would garble a log line), else a new one."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


# Attributes every LogRecord has: anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_CONTEXT = ("request_id", "task_name", "task_id")


def _stamp(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap the log record factory: each record is stamped, when it is made, with the
    request and task it was logged in (a handler may format it later, elsewhere)."""
    if getattr(factory, "_maklumat_stamps", False):
        return factory

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        request_id = request_id_var.get()
        if request_id:
            record.request_id = request_id
        task = task_var.get()
        if task:
            record.task_name, record.task_id = task
        return record

    make._maklumat_stamps = True  # type: ignore[attr-defined]
    return make


logging.setLogRecordFactory(_stamp(logging.getLogRecordFactory()))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request and task ids,
    any `extra=` fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT:
            if getattr(record, key, None):
                entry[key] = getattr(record, key)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery: carry the id across the broker -----------------------------------------------
@signals.before_task_publish.connect
def _publish_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, tuple[contextvars.Token[Any], contextvars.Token[Any]]] = {}


@signals.task_prerun.connect
def _restore_request_id(task_id: str = "", task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    given = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        TASK_HEADER
    )
    request_id = request_id_from(given) if given else request_id_var.get()
    _task_tokens[task_id] = (
        request_id_var.set(request_id),
        task_var.set((getattr(task, "name", "") or "", task_id)),
    )


@signals.task_postrun.connect
def _forget_request_id(task_id: str = "", **_: Any) -> None:
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        task_var.reset(tokens[1])
        request_id_var.reset(tokens[0])


def _use_json(logger: logging.Logger, **_: Any) -> None:
    from django.conf import settings

    if getattr(settings, "LOG_FORMAT", "plain") == "json":
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())


# Celery configures its own handlers in a worker (root and the task logger): same format.
signals.after_setup_logger.connect(_use_json, weak=False)
signals.after_setup_task_logger.connect(_use_json, weak=False)
