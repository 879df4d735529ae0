"""Complaint pages: public (mounted at complaints/, namespace `complaints`) and staff
(mounted at staff/complaints/, namespace `complaint_staff`)."""

from __future__ import annotations

from django.urls import path

from feedback.views import complaints_public as public
from feedback.views import complaints_staff as staff

public_patterns = (
    [
        path("", public.complaint_find, name="find"),
        path("service/<slug:agency_slug>/<slug:slug>/", public.complaint_service, name="service"),
        path("request/<str:code>/", public.complaint_request, name="request"),
        path("status/<str:code>/", public.complaint_status, name="status"),
        path("status/<str:code>/reopen/", public.complaint_reopen, name="reopen"),
        path("status/<str:code>/info/", public.complaint_add_info, name="add_info"),
        path("status/<str:code>/ombudsman/", public.complaint_ask_ombudsman, name="ask_ombudsman"),
        path(
            "status/<str:code>/findings/",
            public.complaint_respond_findings,
            name="respond_findings",
        ),
        path("confirm/<str:token>/", public.complaint_confirm, name="confirm"),
        path("forget/<str:token>/", public.complaint_forget, name="forget"),
        path(
            "figures/<slug:agency_slug>/units/<slug:unit_slug>/",
            public.complaint_unit_figures,
            name="unit_figures",
        ),
        path(
            "figures/<slug:agency_slug>/services/<slug:slug>/",
            public.complaint_service_figures,
            name="service_figures",
        ),
    ],
    "complaints",
)

staff_patterns = (
    [
        path("", staff.complaint_list, name="list"),
        path("<int:pk>/", staff.complaint_detail, name="detail"),
        path("<int:pk>/verify/", staff.complaint_verify, name="verify"),
        path("<int:pk>/ask/", staff.complaint_ask, name="ask"),
        path("<int:pk>/route/", staff.complaint_route, name="route"),
        path("<int:pk>/forward/", staff.complaint_forward, name="forward"),
        path("<int:pk>/moderate/", staff.complaint_moderate, name="moderate"),
        path("<int:pk>/moderate-reopen/", staff.complaint_moderate_reopen, name="moderate_reopen"),
        path("<int:pk>/answer/", staff.complaint_answer, name="answer"),
        path("<int:pk>/close/", staff.complaint_close, name="close"),
        path("<int:pk>/escalate/", staff.complaint_escalate, name="escalate"),
        path("<int:pk>/case/", staff.complaint_open_case, name="open_case"),
        path("evidence/<int:pk>/", staff.complaint_evidence, name="evidence"),
    ],
    "complaint_staff",
)
