"""The reviewers' pages (under /staff/compliance/, namespace "compliance") and the public
exports of the published scores (under /compliance/, namespace "compliance_public")."""

from django.urls import path

from compliance.views import public, staff

staff_patterns = (
    [
        path("", staff.index, name="index"),
        path("create/", staff.create, name="create"),
        path("publish/", staff.publish, name="publish"),
        path("<int:pk>/", staff.detail, name="detail"),
        path("<int:pk>/compute/", staff.compute, name="compute"),
        path("results/<int:pk>/", staff.entry, name="entry"),
        path("evidence/<int:pk>/", staff.evidence_download, name="evidence"),
    ],
    "compliance",
)

public_patterns = (
    [
        path("scores.csv", public.scores_csv, name="scores_csv"),
        path("scores.xlsx", public.scores_xlsx, name="scores_xlsx"),
    ],
    "compliance_public",
)
