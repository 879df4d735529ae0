from django.urls import path

from oversight import answer_views

app_name = "breach_answers"

urlpatterns = [
    path("queue/", answer_views.ombudsman_queue, name="queue"),
    path("<int:pk>/", answer_views.breach_detail, name="detail"),
    path("<int:pk>/answer/", answer_views.breach_answer, name="answer"),
    path("<int:pk>/compensation/", answer_views.breach_compensation_view, name="compensation"),
    path("<int:pk>/decide/", answer_views.breach_decide_view, name="decide"),
    path("acknowledge/<str:token>/", answer_views.acknowledge_link, name="ack"),
]
