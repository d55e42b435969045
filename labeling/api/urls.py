from django.urls import path
from rest_framework.routers import SimpleRouter

from labeling.api.content import ContentCollectionView, ContentDetailView, TagViewSet
from labeling.api.gold import GoldLabelViewSet
from labeling.api.gold_export import GoldLabelExportView
from labeling.api.report_list import ReportViewSet
from labeling.api.reports import ContentReportsView
from labeling.api.review import ReviewTaskViewSet

# No trailing slashes, like the API's first endpoints (/api/v1/predict).
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("tags", TagViewSet, basename="api-tag")
router.register("gold-labels", GoldLabelViewSet, basename="api-gold-label")
router.register("review-tasks", ReviewTaskViewSet, basename="api-review-task")
router.register("reports", ReportViewSet, basename="api-report")

urlpatterns = [
    # GET lists content (people); POST ingests it (a source's token).
    path("content", ContentCollectionView.as_view(), name="api-content-ingest"),
    path("content/<int:pk>", ContentDetailView.as_view(), name="api-content-detail"),
    path("content/<int:content_id>/reports", ContentReportsView.as_view(), name="api-content-reports"),
    path("gold-labels/export", GoldLabelExportView.as_view(), name="api-gold-label-export"),
    *router.urls,
]
