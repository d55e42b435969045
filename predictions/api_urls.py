from django.urls import path

from predictions.api import PredictView

urlpatterns = [path("predict", PredictView.as_view(), name="api-predict")]
