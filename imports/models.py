"""Import jobs: one uploaded file being imported, as a row.

Web and worker are separate processes (separate machines in production): what they share
about an import (its state, progress, counts, the first errors, its files) lives here, so
a restart or a cache eviction loses nothing. Sits above agencies and below the apps that
import (services, delivery).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    STANDARDS = "standards", _("Service standards")
    DELIVERIES = "deliveries", _("Service deliveries")


class ImportState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED = (ImportState.DONE, ImportState.FAILED)


class ImportJob(models.Model):
    """An uploaded file and what importing it did. The id is random: it is in the job's URL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("agency"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.WAITING
    )
    filename = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=10)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    # Paths relative to VAR_DIR (web and worker resolve them in their own settings).
    upload_file = models.CharField(_("uploaded file"), max_length=200, blank=True)
    report_file = models.CharField(_("error report"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    lines = models.PositiveIntegerField(_("lines in the file"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    errors = models.PositiveIntegerField(_("lines with errors"), default=0)
    error_sample = models.JSONField(_("first errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    # Each claim counts one up: a run that was taken over stops writing (see services).
    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, db_index=True)
    # The heartbeat: every change of a running job sets it.
    updated_at = models.DateTimeField(_("last change"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "kind", "state"], name="import_job_owner_kind")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ImportKind.values), name="import_job_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ImportState.values), name="import_job_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    def policy_owner(self) -> tuple[int | None, int | None]:
        return self.agency_id, None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def progress(self) -> int:
        """Percent done: rows read against the lines of the file (100 once done)."""
        if self.state == ImportState.DONE:
            return 100
        total = max(self.lines - 1, 1)
        return min(99, self.rows_read * 100 // total)
