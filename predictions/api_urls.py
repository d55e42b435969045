from django.urls import path

from predictions.api import PredictView
from predictions.api_monitoring import DriftView

urlpatterns = [
    path("predict", PredictView.as_view(), name="api-predict"),
    path("drift", DriftView.as_view(), name="api-drift"),
]
