from django.urls import path, re_path

from labeling.formats import EXPORT_FORMATS
from labeling.views import gold, history, public, quality, review

app_name = "labeling"
urlpatterns = [
    path("", public.content_list, name="content-list"),
    path("welcome/", public.after_login, name="after-login"),
    path("content/<int:content_id>/", public.content_detail, name="content-detail"),
    path("content/<int:content_id>/report", public.content_report, name="content-report"),
    path("tags/<slug:slug>/", public.tag_detail, name="tag-detail"),
    path("reports/<uuid:token>/", public.report_status, name="report-status"),
    path("gold/", gold.gold_list, name="gold-list"),
    path("gold/<int:content_id>/", gold.gold_detail, name="gold-detail"),
    path("gold/<int:content_id>/change", gold.gold_change, name="gold-change"),
    path("gold/requeue", gold.gold_requeue, name="gold-requeue"),
    re_path(rf"^gold/export\.(?P<fmt>{'|'.join(EXPORT_FORMATS)})$", gold.gold_export, name="gold-export"),
    path("quality/", quality.quality, name="quality"),
    path("review/", review.review_queue, name="review-queue"),
    path("review/start", review.review_start, name="review-start"),
    path("review/undo", review.review_undo, name="review-undo"),
    path("review/history/", history.review_history, name="review-history"),
    path("review/history/<int:annotation_id>/change", history.review_answer_change, name="review-answer-change"),
    path("review/task/<int:task_id>/", review.review_task, name="review-task"),
    path("review/task/<int:task_id>/answer", review.review_answer, name="review-answer"),
    path("review/task/<int:task_id>/skip", review.review_skip, name="review-skip"),
]
