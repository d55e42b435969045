from django.urls import path
from rest_framework.routers import SimpleRouter

from predictions.api.model_versions import ModelVersionViewSet
from predictions.api.monitoring import DriftView
from predictions.api.predict import PredictView

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("model-versions", ModelVersionViewSet, basename="api-model-version")

urlpatterns = [
    path("predict", PredictView.as_view(), name="api-predict"),
    path("drift", DriftView.as_view(), name="api-drift"),
    *router.urls,
]
