"""Window drift checks: recent predictions of each source, and of all, against a reference.

The reference is the active model's outputs on the gold holdout (texts, predicted tags,
confidences): data like the training data, scored the way the live stream is scored.
A window is a source's last ``TAGLOOP_DRIFT_WINDOW_ITEMS`` items the active model has
predicted (or, with ``TAGLOOP_DRIFT_WINDOW_HOURS``, those ingested in the last hours);
holdout items are never part of a window. Each check is stored as a ``DriftCheck``.
"""

import dataclasses
import json
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from labeling.models import GoldLabel, Split
from ml.prediction import predict
from ml.text import prepare_text
from predictions import selectors
from predictions.model_store import load_version
from predictions.models import DriftCheck, Job, JobKind, ModelVersion, Prediction
from predictions.selectors.ood import ood_checks_for
from predictions.services.jobs import jobs_create
from webhooks.events import emit
from webhooks.models import Event

if TYPE_CHECKING:
    from ml.drift import WindowData

# ml.drift (scipy.stats, scikit-learn) is imported where a check runs, on a worker or the
# monitoring page's button: not by every web process and command at start-up.

ALL_SOURCES = ""


def drift_checks_run(*, now=None) -> list[DriftCheck]:
    """Check every source with a large enough window, and all sources together; returns the new checks."""
    from ml.drift import WindowData, overall_drift, run_window_checks

    version = selectors.active_model_version()
    if version is None:
        return []
    now = now or timezone.now()
    reference = drift_reference(version)
    if not len(reference):
        return []
    checks = ood_checks_for(version)
    vocabulary = set(checks.unigram.counts) if checks else None
    alpha = settings.TAGLOOP_DRIFT_ALPHA
    stored = []
    for source in [ALL_SOURCES, *_sources(version)]:
        rows = _window_rows(version, source, now)
        if len(rows) < max(2, settings.TAGLOOP_DRIFT_MIN_ITEMS):
            continue
        window = WindowData(
            texts=[prepare_text(title, description) for _, title, description, _, _ in rows],
            tags=[tag for *_, tag, _ in rows],
            confidences=[confidence for *_, confidence in rows],
        )
        tests = run_window_checks(reference, window, alpha, vocabulary=vocabulary)
        overall = overall_drift(tests, alpha)
        times = [ingested_at for ingested_at, *_ in rows]
        stored.append(
            DriftCheck.objects.create(
                created_at=now,
                source=source,
                window_start=min(times),
                window_end=max(times),
                n=len(rows),
                model_version=version,
                tests=_jsonable([*tests, overall]),
                drifted=overall.drifted,
            )
        )
    for check in stored:
        if check.drifted:
            emit(Event.DRIFT_DETECTED, drift_payload(check))
    return stored


def drift_payload(check: DriftCheck) -> dict:
    failed = [test.get("name") for test in check.tests if isinstance(test, dict) and test.get("drifted")]
    return {
        "check_id": check.pk,
        "source": check.source,
        "model_version": check.model_version.number if check.model_version else None,
        "window_start": check.window_start.isoformat(),
        "window_end": check.window_end.isoformat(),
        "items": check.n,
        "tests_drifted": failed,
    }


def drift_reference(version: ModelVersion) -> "WindowData":
    """The active model's outputs on the gold holdout."""
    from ml.drift import WindowData

    holdout = selectors.gold_labelled(split=Split.HOLDOUT)
    texts = [prepare_text(item.title, item.description) for item in holdout]
    if not texts:
        return WindowData([], [], [])
    results = predict(load_version(version), texts)
    return WindowData(texts=texts, tags=[r.tag for r in results], confidences=[r.confidence for r in results])


def _window_predictions(version: ModelVersion):
    holdout = GoldLabel.objects.filter(split=Split.HOLDOUT).values("content_id")
    return Prediction.objects.filter(model_version=version).exclude(content_id__in=holdout)


def _sources(version: ModelVersion) -> list[str]:
    return sorted(set(_window_predictions(version).values_list("content__source", flat=True).distinct()))


def _window_rows(version: ModelVersion, source: str, now) -> list[tuple]:
    """(ingested_at, title, description, predicted tag, confidence), newest first."""
    predictions = _window_predictions(version)
    if source:
        predictions = predictions.filter(content__source=source)
    hours = settings.TAGLOOP_DRIFT_WINDOW_HOURS
    if hours > 0:
        predictions = predictions.filter(content__ingested_at__gte=now - timedelta(hours=hours))
    predictions = predictions.order_by("-content__ingested_at", "-content_id").values_list(
        "content__ingested_at", "content__title", "content__description", "tag__slug", "confidence"
    )
    return list(predictions if hours > 0 else predictions[: settings.TAGLOOP_DRIFT_WINDOW_ITEMS])


def _jsonable(tests) -> list[dict]:
    return json.loads(json.dumps([dataclasses.asdict(test) for test in tests], default=_plain))


def _plain(value):
    # numpy scalars and arrays in a test's details
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def drift_check_request() -> Job:
    """Record an on-demand drift check as a job; a worker runs it (sent after commit)."""
    return jobs_create(kind=JobKind.DRIFT_CHECK)[0]
