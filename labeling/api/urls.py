from django.urls import path

from labeling.api.ingest import ContentIngestView
from labeling.api.reports import ContentReportsView

urlpatterns = [
    path("content", ContentIngestView.as_view(), name="api-content-ingest"),
    path("content/<int:content_id>/reports", ContentReportsView.as_view(), name="api-content-reports"),
]
