"""The breach pages, all under /staff/breaches/ (config/urls.py), in the two namespaces they
had: "oversight" (the list) and "breach_answers" (one breach and its answers, the
ombudsman's queue, the one-click acknowledge link of the emails). The list used to be at
/staff/oversight/breaches/: the old paths redirect for good (emails already sent link to
them)."""

from django.urls import path
from django.views.generic import RedirectView

from oversight.views import public, staff

list_patterns = (
    [path("", staff.breach_list, name="breaches")],
    "oversight",
)

answer_patterns = (
    [
        path("queue/", staff.ombudsman_queue, name="queue"),
        path("queue/export.csv", staff.queue_export_csv, name="queue_export_csv"),
        path("queue/export.xlsx", staff.queue_export_xlsx, name="queue_export_xlsx"),
        path("queue/bulk/", staff.queue_bulk, name="queue_bulk"),
        path("queue/views/", staff.queue_filter_save, name="queue_filter_save"),
        path("queue/views/<int:pk>/delete/", staff.queue_filter_delete, name="queue_filter_delete"),
        path("<int:pk>/pull-in/", staff.breach_pull_in_view, name="pull_in"),
        path("<int:pk>/", staff.breach_detail, name="detail"),
        path("<int:pk>/answer/", staff.breach_answer, name="answer"),
        path("<int:pk>/compensation/", staff.breach_compensation_view, name="compensation"),
        path("<int:pk>/decide/", staff.breach_decide_view, name="decide"),
        path("acknowledge/<str:token>/", public.acknowledge_link, name="ack"),
    ],
    "breach_answers",
)

_to_the_list = RedirectView.as_view(
    pattern_name="oversight:breaches", permanent=True, query_string=True
)

# /staff/oversight/...: where the list was.
legacy_patterns = [
    path("", _to_the_list),
    path("breaches/", _to_the_list),
]
