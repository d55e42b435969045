"""The confidence below which a model's prediction goes to a person."""

from django.conf import settings

from predictions.models import ModelVersion


def review_threshold(version: ModelVersion) -> float:
    if version.review_threshold is not None:
        return version.review_threshold
    return settings.TAGLOOP_REVIEW_THRESHOLD
