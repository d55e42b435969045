from django.urls import path

from labeling.api import ContentReportsView
from labeling.api_ingest import ContentIngestView

urlpatterns = [
    path("content", ContentIngestView.as_view(), name="api-content-ingest"),
    path("content/<int:content_id>/reports", ContentReportsView.as_view(), name="api-content-reports"),
]
