from django.urls import path

from labeling.api import ContentReportsView

urlpatterns = [path("content/<int:content_id>/reports", ContentReportsView.as_view(), name="api-content-reports")]
