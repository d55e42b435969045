"""The references of bench-serve: Django alone, and the predict view anyone would write first.

``plain_json`` is the ceiling: Django's request cycle and a fixed JSON answer. ``NaivePredictView``
is the obvious DRF version of tagloop's predict: a serializer, the active model's fitted
pipeline loaded once per process, ``predict_proba`` on the text (DRF's default authentication
and parsing, no rate limit). Written here from scratch; nothing of tagloop's serving path.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ml.text import prepare_text
from predictions.model_store import load_version
from predictions.selectors import active_model_version

FIXED = {"tag": "computer-vision", "probabilities": {"computer-vision": 0.9, "other": 0.1}, "confidence": 0.9}


@csrf_exempt
def plain_json(request):
    return JsonResponse(FIXED)


class NaiveBody(serializers.Serializer):
    title = serializers.CharField(max_length=1000)
    description = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="")


class NaivePredictView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        body = NaiveBody(data=request.data)
        body.is_valid(raise_exception=True)
        version = active_model_version()
        model = load_version(version)  # the pipeline, kept in memory after the first request
        row = model.predict_proba([prepare_text(body.validated_data["title"], body.validated_data["description"])])[0]
        probabilities = {str(label): float(p) for label, p in zip(model.classes_, row)}
        tag = max(probabilities, key=probabilities.__getitem__)
        return Response({"tag": tag, "probabilities": probabilities, "model_version": version.number})


def _load_the_pipeline_before_the_fork() -> None:
    """The reference's pipeline, loaded as the URLs are (a web process's boot, before gunicorn forks).

    tagloop's own boot no longer loads the pipeline (it serves from the serving form, ml.serving_form): without
    this, each worker would import scikit-learn and load the pipeline on its first naive request, after the boot
    froze its objects, and every later collection in that worker would walk them, tagloop's requests included.
    """
    try:
        version = active_model_version()
        if version is not None:
            load_version(version)
    except Exception:  # noqa: BLE001 - no database or model yet (a check, a test): the first request loads it
        return


_load_the_pipeline_before_the_fork()
