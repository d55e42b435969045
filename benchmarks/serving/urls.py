"""tagloop's URLs plus the two references bench-serve measures tagloop against."""

from django.urls import path

from benchmarks.serving.reference_views import NaivePredictView, plain_json
from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as tagloop_urls

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/plain", plain_json, name="bench-plain"),
    path("bench/naive-predict", NaivePredictView.as_view(), name="bench-naive-predict"),
    *tagloop_urls,
]
