"""Public consultation (Forum Konsultasi Publik): citizens comment on draft standards."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.decorators import ratelimit

from core.errors import ApplicationError
from core.forms import Form
from services.models import StandardVersion, VersionStatus
from services.selectors import VERSION_CHILDREN
from services.services import consultation_comment_add


class CommentForm(Form):
    name = forms.CharField(
        label=gettext_lazy("Your name (optional)"), max_length=120, required=False
    )
    body = forms.CharField(
        label=gettext_lazy("Your comment"), max_length=4000, widget=forms.Textarea
    )


def _open_versions() -> QuerySet[StandardVersion]:
    today = timezone.localdate()
    return (
        StandardVersion.objects.filter(status=VersionStatus.CONSULTATION)
        .filter(Q(consultation_closes_on__isnull=True) | Q(consultation_closes_on__gte=today))
        .select_related("service__agency", "service__unit")
    )


def consultation_list(request: HttpRequest) -> HttpResponse:
    versions = _open_versions().order_by("consultation_closes_on")
    return render(request, "public/consultation_list.html", {"versions": versions})


@ratelimit(key="ip", rate="10/h", method="POST", block=True)
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(_open_versions().prefetch_related(*VERSION_CHILDREN), pk=pk)
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation_comment_add(
                version=version, body=form.cleaned_data["body"], name=form.cleaned_data["name"]
            )
        except ApplicationError as error:
            form.add_error("body" if error.field == "body" else None, error.message)
        else:
            messages.success(request, _("Thank you. Your comment was sent to the standards team."))
            return redirect("public:consultation", pk=version.pk)
    return render(
        request,
        "public/consultation_detail.html",
        {"version": version, "service": version.service, "form": form},
    )
