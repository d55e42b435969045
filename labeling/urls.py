from django.urls import path

from labeling import views

app_name = "labeling"
urlpatterns = [
    path("", views.content_list, name="content-list"),
    path("content/<int:content_id>/", views.content_detail, name="content-detail"),
    path("content/<int:content_id>/report", views.content_report, name="content-report"),
    path("reports/<uuid:token>/", views.report_status, name="report-status"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/start", views.review_start, name="review-start"),
    path("review/task/<int:task_id>/", views.review_task, name="review-task"),
    path("review/task/<int:task_id>/answer", views.review_answer, name="review-answer"),
    path("review/task/<int:task_id>/skip", views.review_skip, name="review-skip"),
]
