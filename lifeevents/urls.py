"""Life events' URLs: the public pages (composed into the `public` namespace by config/urls.py)
and the staff pages (namespace `life_events_staff`)."""

from django.urls import URLPattern, path

from lifeevents.views import public, staff

# Under i18n_patterns, in the `public` namespace.
public_patterns: list[URLPattern] = [
    path("life-events/", public.life_event_list, name="life_events"),
    path("life-events/<slug:slug>/", public.life_event_detail, name="life_event"),
]

app_name = "life_events_staff"

urlpatterns: list[URLPattern] = [
    path("", staff.life_event_list, name="list"),
    path("new/", staff.life_event_create, name="create"),
    path("<int:pk>/", staff.life_event_detail, name="detail"),
    path("<int:pk>/publish/", staff.life_event_publish, name="publish"),
    path("<int:pk>/steps/", staff.step_add, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/", staff.step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/move/", staff.step_move, name="step_move"),
    path("<int:pk>/steps/<int:step_pk>/remove/", staff.step_remove, name="step_remove"),
]
