from django.urls import path

from predictions.api.monitoring import DriftView
from predictions.api.predict import PredictView

urlpatterns = [
    path("predict", PredictView.as_view(), name="api-predict"),
    path("drift", DriftView.as_view(), name="api-drift"),
]
