"""Account tasks: the notice to an account's owner that its login was locked."""

from __future__ import annotations

import smtplib

from celery import shared_task

from accounts.throttle import login_lock_notice_send


@shared_task(
    name="accounts.login_lock_notice",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=5,
)
def login_lock_notice_task(user_id: int, until: float, ip: str, seconds: int) -> bool:
    """Safe to run twice: the notice is claimed once per lock."""
    return login_lock_notice_send(user_id=user_id, until=until, ip=ip, seconds=seconds)
