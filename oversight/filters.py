"""The review desk's filters, all in the URL (a filtered view can be bookmarked and shared).

A thin adapter over the desk's queryset (oversight/selectors.py `review_desk`); the page's
order and cursor are read here too, so that every bad parameter is a form error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from core.errors import ApplicationError
from core.forms import Form
from oversight.answers import CLOSED
from oversight.breach_list import AGE_BAND_BY_KEY, AGE_BANDS, LIST_DEFAULT_SORT, LIST_SORTS
from oversight.forms import FastHiddenInput, FastNumberInput, FastSelect, FastTextInput
from oversight.models import Breach, BreachKind, BreachStatus, Maladministration
from oversight.selectors import DESK_DEFAULT_SORT, DESK_SORTS, desk_cursor_read

ID_MAX = 2**63 - 1
AGE_MAX_DAYS = 36500
# Statuses beyond the model's own: what awaits a decision (the default) and everything.
STATUS_CLOSED = "closed"
STATUS_ALL = "all"


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", FastNumberInput)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class DeskForm(Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        after = data.get("after")
        if after:
            try:
                desk_cursor_read(data.get("sort") or DESK_DEFAULT_SORT, after)
            except ApplicationError as exc:
                self.add_error("after", exc.message)
        return data


class ReviewDeskFilter(django_filters.FilterSet):
    # Plain (id, name) choices, not model instances: hundreds of agencies on every page.
    agency = django_filters.ChoiceFilter(
        label=_("Agency"), field_name="agency_id", choices=[], widget=FastSelect
    )
    region = django_filters.CharFilter(
        label=_("Region (Kemendagri code: 32 a province, 32.73 a city)"),
        method="filter_region",
        max_length=13,
        widget=FastTextInput,
        validators=[
            RegexValidator(r"^\d{2}(\.\d{2}){0,3}$", _("Enter a region code such as 32 or 32.73."))
        ],
    )
    unit = IdFilter(label=_("Unit (number)"), field_name="unit_id")
    service = IdFilter(label=_("Service (number)"), field_name="service_id")
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=BreachKind.choices, widget=FastSelect
    )
    category = django_filters.ChoiceFilter(
        label=_("Maladministration category"),
        choices=Maladministration.choices,
        method="filter_category",
        widget=FastSelect,
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            (STATUS_ALL, _("All")),
            (STATUS_CLOSED, _("Closed")),
            *BreachStatus.choices,
        ],
        empty_label=_("Awaiting a decision"),
        method="filter_status",
        widget=FastSelect,
    )
    age = IdFilter(
        label=_("Older than (days)"),
        method="filter_age",
        min_value=0,
        max_value=AGE_MAX_DAYS,
    )
    assigned = django_filters.ChoiceFilter(
        label=_("Assigned to"), choices=[], method="filter_assigned", widget=FastSelect
    )
    reason = django_filters.ChoiceFilter(
        label=_("On the desk because"),
        choices=[
            ("escalated", _("Escalated")),
            ("disputed", _("Disputed")),
            ("pulled", _("Pulled in by a reviewer")),
        ],
        method="filter_reason",
        widget=FastSelect,
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        choices=[(key, sort.label) for key, sort in DESK_SORTS.items()],
        empty_label=None,
        method="keep",
        widget=FastSelect,
    )
    after = django_filters.CharFilter(method="keep", max_length=200, widget=FastHiddenInput)

    class Meta:
        model = Breach
        fields: list[str] = []
        form = DeskForm

    def __init__(self, *args: Any, reviewers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reviewers = reviewers
        agencies = [
            (str(pk), name)
            for pk, name in Agency.objects.order_by("name").values_list("pk", "name")
        ]
        # A callable: the form deep-copies its fields, and hundreds of choices with them.
        self.filters["agency"].extra["choices"] = lambda: agencies
        self.filters["assigned"].extra["choices"] = [
            ("me", _("Me")),
            ("nobody", _("Nobody")),
            *[(str(user.pk), user.get_full_name() or user.username) for user in reviewers],
        ]
        self.now = timezone.now()

    # --- The filters --------------------------------------------------------------------

    def keep(self, queryset: QuerySet[Breach], name: str, value: Any) -> QuerySet[Breach]:
        return queryset  # read by the view (sort, cursor), not a filter

    def filter_region(self, queryset: QuerySet[Breach], name: str, value: str) -> QuerySet[Breach]:
        # A subquery, not a join: PostgreSQL reads the few agencies first.
        agencies = Agency.objects.filter(region_code__startswith=value).values("pk")
        return queryset.filter(agency_id__in=agencies)

    def filter_category(
        self, queryset: QuerySet[Breach], name: str, value: str
    ) -> QuerySet[Breach]:
        # The reviewer's category once decided; until then the one the sweep suggested.
        return queryset.filter(
            Q(decided_category=value) | Q(decided_category="", suggested_category=value)
        )

    def filter_status(self, queryset: QuerySet[Breach], name: str, value: str) -> QuerySet[Breach]:
        return breaches_in_status(queryset, value)

    def filter_age(self, queryset: QuerySet[Breach], name: str, value: int) -> QuerySet[Breach]:
        return queryset.filter(occurred_at__lt=self.now - dt.timedelta(days=value))

    def filter_assigned(
        self, queryset: QuerySet[Breach], name: str, value: str
    ) -> QuerySet[Breach]:
        if value == "me":
            return queryset.filter(assignee_id=self.request.user.pk if self.request else None)
        if value == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_reason(self, queryset: QuerySet[Breach], name: str, value: str) -> QuerySet[Breach]:
        escalated = Q(escalation__level__gte=3)
        disputed = Q(escalation__disputed_at__isnull=False)
        if value == "escalated":
            return queryset.filter(escalated)
        if value == "disputed":
            return queryset.filter(disputed)
        return queryset.exclude(escalated | disputed)

    # --- What the view reads ------------------------------------------------------------

    def filter_queryset(self, queryset: QuerySet[Breach]) -> QuerySet[Breach]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status__in=CLOSED)  # the default: awaiting a decision
        return queryset

    def counted(self) -> QuerySet[Breach]:
        """The filtered desk in every state (the counts per state ignore the status filter)."""
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name != "status":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def order_key(self) -> str:
        return str(self.form.cleaned_data.get("sort") or DESK_DEFAULT_SORT)

    @property
    def after_cursor(self) -> str:
        return str(self.form.cleaned_data.get("after") or "")


# --- The agency staff's breach list (/staff/breaches/) ---------------------------------------

STATUS_NOT_CLOSED = "not_closed"


def breaches_in_status(queryset: QuerySet[Breach], value: str) -> QuerySet[Breach]:
    """A status choice of the breach filters: one of the model's states, or a group."""
    if not value or value == STATUS_ALL:
        return queryset
    if value == STATUS_CLOSED:
        return queryset.filter(status__in=CLOSED)
    if value == STATUS_NOT_CLOSED:
        return queryset.exclude(status__in=CLOSED)
    return queryset.filter(status=value)


class BreachListForm(Form):
    pass


class BreachListFilter(django_filters.FilterSet):
    """The list's filters, all in the URL: unit, service, kind, status, age band, sort.

    Staff of an agency choose among their own units and services (a value outside them is
    a form error); the ombudsman, who sees every agency, types a number instead. The
    queryset passed in is already scoped by the permission policy.
    """

    unit = django_filters.ChoiceFilter(
        label=_("Unit"), field_name="unit_id", choices=[], widget=FastSelect
    )
    service = django_filters.ChoiceFilter(
        label=_("Service"), field_name="service_id", choices=[], widget=FastSelect
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=BreachKind.choices, widget=FastSelect
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[
            (STATUS_NOT_CLOSED, _("Not closed")),
            (STATUS_CLOSED, _("Closed")),
            *BreachStatus.choices,
        ],
        empty_label=_("All"),
        method="filter_status",
        widget=FastSelect,
    )
    age = django_filters.ChoiceFilter(
        label=_("Age"), choices=[], method="filter_age", widget=FastSelect
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=[], empty_label=None, method="keep", widget=FastSelect
    )

    class Meta:
        model = Breach
        fields: list[str] = []
        form = BreachListForm

    def __init__(
        self,
        *args: Any,
        units: list[tuple[int, str]] | None,
        services: list[tuple[int, str]] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # None: the user sees every agency; a number rather than a country's list of units.
        if units is None:
            self.filters["unit"] = IdFilter(label=_("Unit (number)"), field_name="unit_id")
        else:
            self.filters["unit"].extra["choices"] = [(str(pk), name) for pk, name in units]
        if services is None:
            self.filters["service"] = IdFilter(label=_("Service (number)"), field_name="service_id")
        else:
            self.filters["service"].extra["choices"] = [(str(pk), name) for pk, name in services]
        self.filters["age"].extra["choices"] = [(band.key, band.label) for band in AGE_BANDS]
        self.filters["sort"].extra["choices"] = [
            (key, sort.label) for key, sort in LIST_SORTS.items()
        ]
        self.now = timezone.now()

    def keep(self, queryset: QuerySet[Breach], name: str, value: Any) -> QuerySet[Breach]:
        return queryset  # read by the view

    def filter_status(self, queryset: QuerySet[Breach], name: str, value: str) -> QuerySet[Breach]:
        return breaches_in_status(queryset, value)

    def filter_age(self, queryset: QuerySet[Breach], name: str, value: str) -> QuerySet[Breach]:
        return queryset.filter(AGE_BAND_BY_KEY[value].q(self.now))

    def counted(self) -> QuerySet[Breach]:
        """The filtered list in every state (the counts per state ignore the status filter)."""
        queryset = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name != "status":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def sort_key(self) -> str:
        return str(self.form.cleaned_data.get("sort") or LIST_DEFAULT_SORT)
