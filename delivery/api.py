"""Bulk API for agencies' own systems: record deliveries and their status, many at once.

`POST /api/v1/deliveries/bulk/` (or `PATCH`, the same) with `{"agency": <slug>, "items":
[...]}`, at most 10,000 items. Idempotent on the agency's reference: an item whose
reference exists updates that delivery (e.g. with `completed_at` and `outcome`), so sending
the same request twice creates nothing the second time. Answers 200 with one result per
item, in order, and the totals; bad items do not stop the good ones.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agencies.api import NamedChoiceField
from agencies.models import Agency
from agencies.policy import Action, can_in_agency
from core.api_parsers import SafeJSONParser
from delivery.bulk import MAX_ITEMS, DeliveryRecorder, totals
from delivery.models import Outcome
from services.models import Channel

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024


class BulkResult(models.TextChoices):
    CREATED = "created", gettext_lazy("created")
    UPDATED = "updated", gettext_lazy("updated")
    ERROR = "error", gettext_lazy("error")


# --- Serializers: documentation of the shapes (items are validated in delivery.bulk) ---


class BulkItemSerializer(serializers.Serializer[Any]):
    reference = serializers.CharField(
        max_length=80, help_text=gettext_lazy("The agency's own reference number.")
    )
    service = serializers.SlugField(
        help_text=gettext_lazy("The slug of one of the agency's services.")
    )
    submitted_at = serializers.CharField(
        help_text=gettext_lazy(
            "ISO 8601, e.g. 2026-01-05T09:30:00+07:00; without an offset, the unit's time zone."
        )
    )
    file_complete_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    completed_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    paused_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    pause_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    resumed_at = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    outcome = NamedChoiceField(Outcome, required=False, allow_blank=True)
    fee_charged = serializers.IntegerField(
        required=False, min_value=0, help_text=gettext_lazy("Rupiah.")
    )
    channel = NamedChoiceField(Channel, required=False)
    refusal_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class BulkRequestSerializer(serializers.Serializer[Any]):
    agency = serializers.SlugField()
    items = serializers.ListField(child=BulkItemSerializer(), max_length=MAX_ITEMS)


class BulkItemResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    reference = serializers.CharField()
    result = NamedChoiceField(BulkResult)
    # Declared fields leave the class, so `errors` does not hide Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class BulkTotalsSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    error = serializers.IntegerField()


class BulkResponseSerializer(serializers.Serializer[Any]):
    agency = serializers.SlugField()
    totals = BulkTotalsSerializer()
    results = BulkItemResultSerializer(many=True)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def max_body_bytes() -> int:
    return int(getattr(settings, "DELIVERY_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


class DeliveryViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [SafeJSONParser]

    def _body(self, request: Request) -> dict[str, Any]:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > max_body_bytes():
            raise PayloadTooLarge(
                _("The request is larger than %(max)d MB; send at most %(items)d items at once.")
                % {"max": max_body_bytes() // (1024 * 1024), "items": MAX_ITEMS}
            )
        try:
            data = request.data
        except RequestDataTooBig:
            raise PayloadTooLarge(
                _("The request is too large; send at most %(items)d items at once.")
                % {"items": MAX_ITEMS}
            ) from None
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send a JSON object with “agency” and “items”.")]}
            )
        return data

    @extend_schema(
        summary=gettext_lazy("Record or update many deliveries"),
        description=gettext_lazy(
            "At most 10,000 items per request. Idempotent on the agency's reference: an item "
            "whose reference exists updates that delivery. Answers one result per item, in "
            "order; bad items do not stop the good ones."
        ),
        request=BulkRequestSerializer,
        responses={200: BulkResponseSerializer},
    )
    @action(detail=False, methods=["post", "patch"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        data = self._body(request)
        slug = data.get("agency")
        items = data.get("items")
        errors: dict[str, list[str]] = {}
        if not isinstance(slug, str) or not slug:
            errors["agency"] = [_("The agency's slug is required.")]
        if not isinstance(items, list):
            errors["items"] = [_("A list of items is required.")]
        elif not items:
            errors["items"] = [_("The list of items is empty.")]
        if errors:
            raise exceptions.ValidationError(errors)
        assert isinstance(items, list) and isinstance(slug, str)
        if len(items) > MAX_ITEMS:
            raise PayloadTooLarge(
                _("At most %(max)d items per request; this one has %(count)d.")
                % {"max": MAX_ITEMS, "count": len(items)}
            )
        agency = get_object_or_404(Agency, slug=slug)
        if not can_in_agency(request.user, Action.RECORD_DELIVERY, agency.pk):
            raise exceptions.PermissionDenied(_("You may not record deliveries in this agency."))
        recorder = DeliveryRecorder(agency=agency, acting_user=request.user, position="item")
        results = recorder.record(enumerate(items))
        return Response(
            {
                "agency": agency.slug,
                "totals": totals(results),
                "results": [result.as_dict() for result in results],
            }
        )
