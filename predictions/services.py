"""Writes of the machine side: train, promote, predict. Converts to plain ``ml`` types here."""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from labeling.models import Content, Split, Tag
from labeling.services import ModelTag, PredictionSnapshot, content_show_model_tags, review_tasks_open_for_low_confidence
from ml.evaluation import evaluate
from ml.items import LabelledItem
from ml.persistence import save_model
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model, training_data_hash
from predictions import selectors
from predictions.model_store import load_version
from predictions.models import ModelStatus, ModelVersion, Prediction, TrainingExample

logger = logging.getLogger(__name__)

# A run stuck in "training" for longer than this was lost with its worker; a
# redelivered task may take it over.
TRAINING_STALE_AFTER = timedelta(hours=1)


class NoActiveModel(Exception):
    """No model version is active yet: train one and promote it."""


class PromotionError(Exception):
    pass


# --- retrain -----------------------------------------------------------------------


def model_version_request(*, algorithm: str | None = None, requested_by=None, notes: str = "") -> ModelVersion:
    """Record a queued model version and enqueue its training once this transaction commits."""
    from ml.algorithms import get_algorithm
    from predictions.tasks import train_model_version

    algorithm = algorithm or settings.TAGLOOP_DEFAULT_ALGORITHM
    get_algorithm(algorithm)  # fail here, with the list of choices, not in the worker
    for _attempt in range(5):
        try:
            with transaction.atomic():
                number = (ModelVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
                version = ModelVersion.objects.create(
                    number=number, algorithm=algorithm, notes=notes, created_by=requested_by,
                    params={"random_state": settings.TAGLOOP_TRAIN_RANDOM_STATE},
                    stage="waiting for a worker",
                )
                train_model_version.delay_on_commit(version.pk)
                return version
        except IntegrityError:
            continue  # another request took that number; take the next one
    raise RuntimeError("could not allocate a model version number")


def _claim_for_training(model_version_id: int) -> ModelVersion | None:
    """Move queued -> training exactly once, even if the task is delivered twice."""
    now = timezone.now()
    claimable = Q(status=ModelStatus.QUEUED) | Q(
        status=ModelStatus.TRAINING, started_at__lt=now - TRAINING_STALE_AFTER
    )
    claimed = ModelVersion.objects.filter(claimable, pk=model_version_id).update(
        status=ModelStatus.TRAINING, started_at=now, progress=1, stage="starting", error=""
    )
    return ModelVersion.objects.get(pk=model_version_id) if claimed else None


class _Progress:
    """Writes progress to the version's row, at most a few times a second."""

    def __init__(self, model_version: ModelVersion):
        self.model_version = model_version
        self.last_write = 0.0

    def __call__(self, percent: int, stage: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_write > 0.3:
            ModelVersion.objects.filter(pk=self.model_version.pk).update(progress=percent, stage=stage)
            self.last_write = now


def model_version_train(*, model_version_id: int) -> ModelVersion | None:
    """Train, evaluate on the holdout, save the artifact; the version becomes a candidate."""
    version = _claim_for_training(model_version_id)
    if version is None:
        logger.info("model version %s is not waiting for training; nothing to do", model_version_id)
        return None
    progress = _Progress(version)
    try:
        _train(version, progress)
    except Exception as exc:  # the row must say why, whatever went wrong
        logger.exception("training model version %s failed", version.number)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
            stage="failed",
        )
        raise
    return ModelVersion.objects.get(pk=version.pk)


def _train(version: ModelVersion, progress: _Progress) -> None:
    progress(5, "snapshotting the training set", force=True)
    training = _snapshot_training_set(version)
    texts = [prepare_text(item.title, item.description) for item in training]
    labels = [item.tag for item in training]
    data_hash = training_data_hash((str(item.content_id), item.tag) for item in training)
    ModelVersion.objects.filter(pk=version.pk).update(
        training_label_count=len(training), training_data_hash=data_hash
    )
    progress(10, f"training {version.algorithm} on {len(training)} gold labels", force=True)
    model = train_model(
        texts=texts,
        labels=labels,
        algorithm=version.algorithm,
        random_state=version.params.get("random_state", 0),
        progress=lambda percent, stage: progress(10 + int(percent * 0.7), stage),
    )
    progress(80, "evaluating on the holdout", force=True)
    holdout = selectors.gold_labelled(split=Split.HOLDOUT)
    metrics = _evaluate(model, holdout)
    progress(90, "saving the artifact", force=True)
    artifact = save_model(
        model,
        directory=settings.MODEL_DIR,
        name=f"v{version.number}-{version.algorithm}",
        metadata={
            "model_version": version.number,
            "algorithm": version.algorithm,
            "labels": [str(label) for label in model.classes_],
            "training_label_count": len(training),
            "training_data_hash": data_hash,
            "metrics": metrics,
        },
    )
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelStatus.CANDIDATE,
        artifact_path=artifact.path.name,
        artifact_sha256=artifact.sha256,
        holdout_count=len(holdout),
        metrics=metrics,
        review_threshold=settings.TAGLOOP_REVIEW_THRESHOLD,
        progress=100,
        stage="done",
        finished_at=timezone.now(),
    )


def _snapshot_training_set(version: ModelVersion) -> list[selectors.LabelledContent]:
    """Freeze the train split as it is now, so the run is reproducible and auditable."""
    training = selectors.gold_labelled(split=Split.TRAIN)
    tag_ids = dict(Tag.objects.values_list("slug", "pk"))
    with transaction.atomic():
        TrainingExample.objects.filter(model_version=version).delete()  # a retried run starts over
        TrainingExample.objects.bulk_create(
            [
                TrainingExample(model_version=version, content_id=item.content_id, tag_id=tag_ids[item.tag])
                for item in training
            ],
            batch_size=2000,
        )
    return training


def _evaluate(model, labelled: list[selectors.LabelledContent]) -> dict:
    if not labelled:
        return {}
    texts = [prepare_text(item.title, item.description) for item in labelled]
    return evaluate(
        items=[LabelledItem(item.title, item.description, item.tag) for item in labelled],
        predictions=predict(model, texts),
        labels=selectors.label_set(),
    )


def evaluate_labelled(*, model_version: ModelVersion, items: list[LabelledItem]) -> dict:
    """Metrics of ``model_version`` on any labelled items (nothing is stored)."""
    model = load_version(model_version)
    texts = [prepare_text(item.title, item.description) for item in items]
    return evaluate(items=items, predictions=predict(model, texts), labels=selectors.label_set())


# --- promotion -----------------------------------------------------------------------


@transaction.atomic
def model_version_promote(*, model_version: ModelVersion, promoted_by=None) -> ModelVersion:
    """Make ``model_version`` the one active model and re-predict all content with it."""
    from predictions.tasks import predict_missing

    version = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    if version.status == ModelStatus.ACTIVE:
        return version
    if version.status not in (ModelStatus.CANDIDATE, ModelStatus.RETIRED):
        raise PromotionError(f"v{version.number} is {version.status}; only a trained candidate can be promoted")
    # Lock the current active row so two promotions cannot interleave; the partial
    # unique constraint is the last line of defence.
    ModelVersion.objects.select_for_update().filter(status=ModelStatus.ACTIVE).update(
        status=ModelStatus.RETIRED
    )
    version.status, version.promoted_at = ModelStatus.ACTIVE, timezone.now()
    version.save(update_fields=["status", "promoted_at"])
    predict_missing.delay_on_commit(version.pk)
    return version


# --- predictions ------------------------------------------------------------------------


def predictions_create(*, model_version_id: int, content_ids: list[int]) -> int:
    """Predict ``content_ids`` with a version; idempotent (already predicted items are skipped).

    Writes Prediction rows, shows the tag on content without a gold label, and opens
    review tasks for predictions below the review threshold.
    """
    version = ModelVersion.objects.get(pk=model_version_id)
    done = set(
        Prediction.objects.filter(model_version=version, content_id__in=content_ids).values_list(
            "content_id", flat=True
        )
    )
    rows = [row for row in selectors.content_texts(content_ids=content_ids) if row[0] not in done]
    if not rows:
        return 0
    results = predict(load_version(version), [prepare_text(title, description) for _, title, description in rows])
    tag_ids = dict(Tag.objects.values_list("slug", "pk"))
    predictions = [
        Prediction(
            content_id=content_id, model_version=version, tag_id=tag_ids[result.tag],
            probabilities=result.probabilities, confidence=result.confidence,
        )
        for (content_id, _, _), result in zip(rows, results)
    ]
    with transaction.atomic():
        Prediction.objects.bulk_create(predictions, batch_size=1000, ignore_conflicts=True)
        if version.status == ModelStatus.ACTIVE:
            _act_on_predictions(version, predictions)
    return len(predictions)


def _act_on_predictions(version: ModelVersion, predictions: list[Prediction]) -> None:
    slugs = dict(Tag.objects.values_list("pk", "slug"))
    content_show_model_tags(
        model_tags=[
            ModelTag(p.content_id, p.tag_id, p.confidence, version.number, p.probabilities) for p in predictions
        ]
    )
    threshold = review_threshold(version)
    review_tasks_open_for_low_confidence(
        items=[
            (p.content_id, PredictionSnapshot(version.number, slugs[p.tag_id], p.probabilities, p.confidence))
            for p in predictions
            if p.confidence < threshold
        ]
    )


def review_threshold(version: ModelVersion) -> float:
    if version.review_threshold is not None:
        return version.review_threshold
    return settings.TAGLOOP_REVIEW_THRESHOLD


def predictions_enqueue_missing(*, model_version_id: int, chunk_size: int | None = None) -> int:
    """Split the content lacking a prediction from the version into chunk tasks; returns the count."""
    from predictions.tasks import predict_content

    chunk_size = chunk_size or settings.TAGLOOP_PREDICT_CHUNK_SIZE
    version = ModelVersion.objects.get(pk=model_version_id)
    missing = selectors.content_ids_lacking_prediction(model_version=version)
    chunks = [missing[start : start + chunk_size] for start in range(0, len(missing), chunk_size)]
    for chunk in chunks:
        predict_content.delay(chunk, version.pk)
    return len(chunks)


def content_enqueue_prediction(*, content_ids: list[int]) -> None:
    """Called when content arrives: predict it with the active model, after commit."""
    from predictions.tasks import predict_content

    version = selectors.active_model_version()
    if version is None:
        return
    chunk_size = settings.TAGLOOP_PREDICT_CHUNK_SIZE
    for start in range(0, len(content_ids), chunk_size):
        predict_content.delay_on_commit(content_ids[start : start + chunk_size], version.pk)


@dataclass(frozen=True)
class OnlinePrediction:
    tag: str
    probabilities: dict[str, float]
    confidence: float
    model_version: int
    needs_review: bool


def predict_text(*, title: str, description: str) -> OnlinePrediction:
    version = selectors.active_model_version()
    if version is None:
        raise NoActiveModel("no model is active yet; train one and promote it")
    [result] = predict(load_version(version), [prepare_text(title, description)])
    return OnlinePrediction(
        tag=result.tag,
        probabilities=result.probabilities,
        confidence=result.confidence,
        model_version=version.number,
        needs_review=result.confidence < review_threshold(version),
    )
