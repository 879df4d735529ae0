"""Breach pages open without signing in: the one-click acknowledge link of the emails (the
signed token is the credential, and it can do nothing else)."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from oversight import answers
from oversight.models import Breach, BreachEscalation
from oversight.notices import ack_link_max_age_seconds, ack_token_read


@require_http_methods(["GET", "POST"])
def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click link from the email: GET shows a confirm button, POST acknowledges."""
    try:
        data = ack_token_read(token, max_age_seconds=ack_link_max_age_seconds())
    except signing.SignatureExpired:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This link has expired. Sign in to the staff area to acknowledge.")},
            status=410,
        )
    except signing.BadSignature:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This link is not valid. Check that it was copied completely.")},
            status=400,
        )
    breach = (
        Breach.objects.filter(pk=data["b"], notifications__pk=int(data.get("n") or 0))
        .select_related("agency", "unit", "service", "delivery")
        .first()
    )
    if breach is None:
        return render(
            request,
            "oversight/answer_ack.html",
            {"error": _("This breach no longer exists.")},
            status=404,
        )
    done = BreachEscalation.objects.filter(breach=breach, acknowledged_at__isnull=False).exists()
    error = ""
    if request.method == "POST" and not done:
        try:
            answers.breach_acknowledge(breach=breach, by_email=str(data.get("e") or ""))
            done = True
        except ApplicationError as exc:
            error = exc.message
        breach.refresh_from_db()
    return render(
        request,
        "oversight/answer_ack.html",
        {"breach": breach, "done": done, "error": error, "email": data.get("e", "")},
        status=400 if error else 200,
    )
