"""The transactional outbox: a notification is written with the event that causes it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message to send to one recipient through one channel.

    `idempotency_key` = (event, recipient, channel, level): nothing is sent twice.
    """

    event = models.CharField(_("event"), max_length=40)
    breach = models.ForeignKey(
        "oversight.Breach",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    unit = models.ForeignKey(
        "agencies.Unit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, default="email")
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["status", "created_at"], name="notification_pending")]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient or self.unit_id} ({self.channel})"
