"""Retrain: queue a version, train it on a worker with progress, evaluate it on the holdout."""

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.errors import ApplicationError
from labeling.models import Split, Tag
from labeling.services import PredictionSnapshot, review_tasks_open_for_suspects
from ml.catalogue import BASELINES, USES_STORED_EMBEDDINGS
from ml.evaluation import evaluate
from ml.items import LabelledItem
from ml.prediction import predict
from ml.suspects import find_suspects
from ml.text import prepare_text
from predictions import selectors
from predictions.artifact_store import artifact_save
from predictions.model_store import load_version
from predictions.models import (
    RUNNING_STATUSES,
    JobKind,
    JobStatus,
    ModelEvent,
    ModelEventAction,
    ModelStatus,
    ModelVersion,
    TrainingExample,
)
from predictions.services.embeddings_store import embeddings_prime, embeddings_store_new
from predictions.services.jobs import jobs_create

if TYPE_CHECKING:
    from ml.selection import CrossValidation

# The modules that fit models (scikit-learn, and torch for embeddings) are imported in the
# functions that train, which run on workers: every web process and command imports this
# module at start-up (the admin, the retrain form) and never trains.

logger = logging.getLogger(__name__)

# The folds of the cross-validation and the final fit are independent: they run side by
# side on threads, one per core (see ml.selection.cross_validate, and "## Retrain with
# stored embeddings" in docs/benchmarks.md for what it saves).
TRAINING_JOBS = -1


def model_version_request(
    *, algorithm: str | None = None, requested_by: User | None = None, notes: str = ""
) -> ModelVersion:
    """Record a queued model version and its training job; the job is sent once this transaction commits.

    With the broker down the version and its job are recorded all the same, and the
    reconciler sends the job when the broker is back (``retrain_waiting_for_broker``).
    """
    from ml.algorithms import get_algorithm

    algorithm = algorithm or settings.TAGLOOP_DEFAULT_ALGORITHM
    get_algorithm(algorithm)  # fail here, with the list of choices, not in the worker
    for _attempt in range(5):
        try:
            with transaction.atomic():
                number = (ModelVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
                version = ModelVersion.objects.create(
                    number=number,
                    algorithm=algorithm,
                    notes=notes,
                    created_by=requested_by,
                    params={"random_state": settings.TAGLOOP_TRAIN_RANDOM_STATE},
                    stage="waiting for a worker",
                )
                ModelEvent.objects.create(
                    action=ModelEventAction.REQUESTED, model_version=version, actor=requested_by, reason=notes
                )
                jobs_create(kind=JobKind.TRAIN, model_version=version)
                return version
        except IntegrityError:
            continue  # another request took that number; take the next one
    raise RuntimeError("could not allocate a model version number")


def retrain_waiting_for_broker(*, model_version: ModelVersion) -> bool:
    """True when the version's training job could not be sent yet (the broker is down)."""
    return model_version.jobs.filter(kind=JobKind.TRAIN, status=JobStatus.PENDING, dispatched_at__isnull=True).exists()


def _claim_for_training(model_version_id: int) -> ModelVersion | None:
    """Move queued (or training, when a job takes over a dead run) -> training; None if cancelled or done.

    Who may run it is the job's claim (predictions.services.jobs): only one live worker
    holds it, so a run left "training" by a killed worker is taken over here and starts again.
    """
    claimed = ModelVersion.objects.filter(
        pk=model_version_id, status__in=[ModelStatus.QUEUED, ModelStatus.TRAINING]
    ).update(status=ModelStatus.TRAINING, started_at=timezone.now(), progress=1, stage="starting", error="")
    return ModelVersion.objects.get(pk=model_version_id) if claimed else None


class TrainingCancelled(Exception):
    """Raised inside a run to stop it (cancelled, or taken over); the task catches it, nobody sees it."""


class CancelRefused(ApplicationError, ValueError):
    """The version is not queued or training, so there is nothing to cancel (a ValueError, as it was)."""

    code = "cancel_refused"


class _Progress:
    """Writes progress to the version's row, at most a few times a second.

    The write only matches a row still in "training": when an admin cancelled the run
    it matches nothing, and the run stops at that point. It stops too when its job was
    taken over by another worker (this one was silent for too long).
    """

    def __init__(self, model_version: ModelVersion, still_owner: Callable[[], bool]):
        self.model_version = model_version
        self.still_owner = still_owner
        self.last_write = 0.0

    def __call__(self, percent: int, stage: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.still_owner():
            raise TrainingCancelled(f"v{self.model_version.number} was taken over by another worker")
        if force or now - self.last_write > 0.3:
            still_training = ModelVersion.objects.filter(pk=self.model_version.pk, status=ModelStatus.TRAINING).update(
                progress=percent, stage=stage
            )
            if not still_training:
                raise TrainingCancelled(f"v{self.model_version.number} was cancelled")
            self.last_write = now


def model_version_cancel(
    *, model_version: ModelVersion, cancelled_by: User | None = None, reason: str = ""
) -> ModelVersion:
    """Stop a queued or running retrain. A running one stops at its next progress step."""
    with transaction.atomic():
        cancelled = ModelVersion.objects.filter(
            pk=model_version.pk, status__in=[ModelStatus.QUEUED, ModelStatus.TRAINING]
        ).update(status=ModelStatus.CANCELLED, stage="cancelled", finished_at=timezone.now())
        if not cancelled:
            raise CancelRefused(f"v{model_version.number} is not queued or training; nothing to cancel")
        # A job no worker took yet has nothing left to do; a running one stops at its next step.
        model_version.jobs.filter(kind=JobKind.TRAIN, status=JobStatus.PENDING).update(
            status=JobStatus.DONE, finished_at=timezone.now()
        )
        ModelEvent.objects.create(
            action=ModelEventAction.CANCELLED, model_version=model_version, actor=cancelled_by, reason=reason
        )
    return ModelVersion.objects.get(pk=model_version.pk)


def model_version_train(
    *, model_version_id: int, still_owner: Callable[[], bool] = lambda: True
) -> ModelVersion | None:
    """Train, evaluate on the holdout, save the artifact; the version becomes a candidate.

    ``still_owner`` says whether this run still holds its job (see _Progress).
    """
    version = _claim_for_training(model_version_id)
    if version is None:
        logger.info("model version %s is not waiting for training; nothing to do", model_version_id)
        return None
    progress = _Progress(version, still_owner)
    try:
        _train(version, progress)
    except TrainingCancelled:
        logger.info("training v%s stopped: cancelled", version.number)
        return ModelVersion.objects.get(pk=version.pk)
    except Exception as exc:  # the row must say why, whatever went wrong
        logger.exception("training model version %s failed", version.number)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
            stage="failed",
        )
        raise
    return ModelVersion.objects.get(pk=version.pk)


def _offtopic_examples() -> list[str]:
    """The tuning slice of data/offtopic_samples.jsonl: what the topic check learns off-topic wording from.

    The never-tuned slice stays out, so make bench-drift keeps measuring the checks on kinds they never saw.
    """
    from ml.offtopic import TUNING, read_offtopic_samples

    return [prepare_text(s.title, s.description) for s in read_offtopic_samples() if s.slice == TUNING]


def _train(version: ModelVersion, progress: _Progress) -> None:
    """Snapshot, cross-validate on the train split, fit on all of it, evaluate once on the holdout.

    Model selection (the review threshold, suspect labels) uses out-of-fold predictions
    on the train split only; the holdout is touched once, for the record.
    """
    from ml.algorithms import embedding_encoder
    from ml.embeddings import cached_encode
    from ml.ood import default_encode, fit_ood_checks
    from ml.training import train_model, training_data_hash

    progress(5, "snapshotting the training set", force=True)
    training = _snapshot_training_set(version)
    if not training:
        raise ValueError("no gold labels in the train split: import labelled content or review some items first")
    texts = [prepare_text(item.title, item.description) for item in training]
    labels = [item.tag for item in training]
    data_hash = training_data_hash((str(item.content_id), item.tag) for item in training)
    ModelVersion.objects.filter(pk=version.pk).update(
        training_label_count=len(training),
        training_data_hash=data_hash,
        new_label_count=_count_new_labels(training),
    )
    random_state = version.params.get("random_state", 0)
    holdout = selectors.gold_labelled(split=Split.HOLDOUT)
    holdout_texts = [prepare_text(item.title, item.description) for item in holdout]
    # The encoder a fit now uses (for minilm-linear: the kind of vectors TAGLOOP_MINILM_BACKEND trains on).
    encoder = embedding_encoder(version.algorithm) if version.algorithm in USES_STORED_EMBEDDINGS else None
    if encoder is not None:
        # The holdout's stored vectors too: evaluating used to re-encode all of it on every retrain.
        embeddings_prime(contents=[*training, *holdout], texts=[*texts, *holdout_texts], identity=encoder.identity)
        # Once, here: the parallel fits below would otherwise encode the same new texts side by side.
        progress(8, "encoding the texts without a stored embedding", force=True)
        cached_encode(texts, encoder=encoder)
    cv = _cross_validate(version, texts, labels, random_state, progress)
    if cv is not None:
        model = cv.model  # fitted on all the training set beside the folds
        assert model is not None  # _cross_validate asks for the refit
    else:
        progress(50, f"training {version.algorithm} on {len(training)} gold labels", force=True)
        model = train_model(
            texts=texts,
            labels=labels,
            algorithm=version.algorithm,
            random_state=random_state,
            progress=lambda percent, stage: progress(50 + int(percent * 0.25), stage),
        )
    progress(75, "evaluating on the holdout", force=True)
    metrics = _evaluate(model, holdout, holdout_texts)
    if metrics:
        metrics["holdout_fingerprint"] = selectors.holdout_fingerprint(holdout)
    if encoder is not None:
        # What this run encoded (new training and holdout texts) is kept for the next one.
        embeddings_store_new(contents=[*training, *holdout], texts=[*texts, *holdout_texts], identity=encoder.identity)
    progress(85, "fitting the out-of-distribution checks", force=True)
    # A model that encodes anyway also gets the topic check's meaning part: its vectors are cached by
    # now, and checking an item reuses the ones predicting it computed.  A TF-IDF model's checks would
    # add an encoder pass per item to serving and batches, so it goes without.
    encode = default_encode if encoder is not None else None
    # Fitted in time order: the checks judge content newer than all of the training set (ml.ood). The
    # titles alone calibrate the topic check on short texts: a title-only item is judged like one.
    ood_checks = fit_ood_checks(
        texts,
        offtopic_texts=_offtopic_examples(),
        encode=encode,
        oldest_first=_oldest_first(training),
        short_texts=[prepare_text(item.title, "") for item in training],
    ).to_dict()
    fair = selectors.fair_sample_content_ids(content_ids=[item.content_id for item in training])
    fair_flags = [item.content_id in fair for item in training]
    cv_summary = _cv_summary(cv, labels, fair=fair_flags)
    if cv_summary:
        progress(88, "validating on the newest training items, in time order", force=True)
        cv_summary["time_validation"] = _time_validation(version, training, texts, fair_flags, random_state)
    progress(90, "saving the artifact", force=True)
    artifact = artifact_save(
        model_version=version,
        model=model,
        name=f"v{version.number}-{version.algorithm}",
        metadata={
            "model_version": version.number,
            "algorithm": version.algorithm,
            "labels": [str(label) for label in model.classes_],
            "training_label_count": len(training),
            "training_data_hash": data_hash,
            "metrics": metrics,
            "cv": cv_summary,
        },
    )
    progress(95, "recording the candidate", force=True)
    became_candidate = ModelVersion.objects.filter(pk=version.pk, status=ModelStatus.TRAINING).update(
        status=ModelStatus.CANDIDATE,
        artifact_path=artifact.name,
        artifact_sha256=artifact.sha256,
        serving_sha256=artifact.serving_sha256,
        holdout_count=len(holdout),
        metrics=metrics,
        cv_metrics=cv_summary,
        ood_checks=ood_checks,
        review_threshold=_review_threshold_from(cv_summary),
        progress=100,
        stage="done",
        finished_at=timezone.now(),
    )
    if not became_candidate:
        raise TrainingCancelled(f"v{version.number} was cancelled while it was being recorded")
    if cv is not None and _may_question_gold_labels(version.algorithm, cv):
        _flag_suspect_labels(version, training, cv)


def _may_question_gold_labels(algorithm: str, cv: "CrossValidation") -> bool:
    """Only a model at least about as good as the active one may send gold labels back to people.

    A baseline or a worse candidate would fill the queue with its own mistakes, each
    one a chance to overwrite a right label.
    """
    if algorithm in BASELINES:
        return False
    active = selectors.active_model_version()
    active_f1 = (active.cv_metrics or {}).get("mean_f1") if active else None
    return active_f1 is None or cv.mean_f1 >= active_f1 - settings.TAGLOOP_GATE_MAX_F1_DROP


def _cross_validate(version, texts, labels, random_state, progress) -> "CrossValidation | None":
    from ml.selection import cross_validate

    folds = settings.TAGLOOP_CV_FOLDS
    if folds < 2 or len(set(labels)) < 2 or min(Counter(labels).values()) < 2:
        return None  # too little data to cross-validate: the fixed threshold applies
    progress(10, f"cross-validating ({folds} folds) on the train split, and training on all of it", force=True)
    return cross_validate(
        texts=texts,
        labels=labels,
        algorithm=version.algorithm,
        folds=folds,
        random_state=random_state,
        n_jobs=TRAINING_JOBS,
        refit=True,
        progress=lambda percent, stage: progress(10 + int(percent * 0.65), f"cross-validation and final fit: {stage}"),
    )


def _cv_summary(cv: "CrossValidation | None", labels: list[str], *, fair: list[bool]) -> dict:
    from ml.selection import choose_review_threshold

    if cv is None:
        return {}
    return {
        "folds": cv.folds,
        "fold_f1": cv.fold_f1,
        "mean_f1": cv.mean_f1,
        "sd_f1": cv.sd_f1,
        # The review threshold, on the labels no model's doubt selected when there are enough.
        "operating_point": choose_review_threshold(cv, labels, settings.TAGLOOP_TARGET_PRECISION, fair=fair),
    }


def _oldest_first(training: list[selectors.LabelledContent]) -> list[int]:
    """Positions of the training items from the oldest to the newest (created_on, then id)."""
    position = {item.content_id: k for k, item in enumerate(training)}
    return [position[pk] for pk in selectors.oldest_first(content_ids=list(position))]


def _time_validation(
    version: ModelVersion, training: list[selectors.LabelledContent], texts: list[str], fair: list[bool], random_state
) -> dict:
    """The model on content newer than what it learnt from: ml.time_validation on the train split in time order.

    Its items (confidence, right) are stored: the trust service pools live audits with
    them.  Only the fair sample counts as evidence once it is large enough, as for the
    cross-validated threshold.  {} when turned off or too little data.
    """
    from ml.second_opinion import scored_validation
    from ml.selection import MIN_FAIR_SAMPLE
    from ml.time_validation import time_ordered_predictions
    from ml.trust import prior_threshold
    from predictions.selectors.trust import trust_settings

    folds, share = settings.TAGLOOP_TRUST_TIME_FOLDS, settings.TAGLOOP_TRUST_TIME_SHARE
    if folds < 1:
        return {}
    position = {item.content_id: k for k, item in enumerate(training)}
    order = [position[pk] for pk in selectors.oldest_first(content_ids=list(position))]
    use_fair = sum(fair) >= MIN_FAIR_SAMPLE
    ordered_texts = [texts[k] for k in order]
    validation = time_ordered_predictions(
        ordered_texts,
        [training[k].tag for k in order],
        algorithm=version.algorithm,
        folds=folds,
        share=share,
        random_state=random_state,
        counted=[fair[k] for k in order] if use_fair else None,
    )
    # The thresholds apply to the trust score (ml.second_opinion) when one can be fitted; its items are then
    # scored cross-fitted, so the threshold they prove is not flattered by a score that has seen them.
    score, evidence = (
        scored_validation(validation, ordered_texts)
        if settings.TAGLOOP_TRUST_SECOND_OPINION
        else (None, [item.audit for item in validation])
    )
    threshold = prior_threshold(evidence, trust_settings())
    if threshold is None:
        return {}  # too few items to prove the target: the cross-validated threshold stands alone
    return {
        "folds": folds,
        "share": share,
        "sample": "fair" if use_fair else "all",
        "precision": round(sum(a.correct for a in evidence) / len(evidence), 4),
        "threshold": threshold,
        # Each item's (acceptance score, right): the trust score when there is one, else the confidence.
        "items": [[round(a.confidence, 6), a.correct] for a in evidence],
        **({"trust_score": score.to_dict()} if score is not None else {}),
    }


def _review_threshold_from(cv_summary: dict) -> float:
    """Per model: the stricter of the out-of-fold confidence that reaches the target precision and the one the
    time-ordered validation proves (content newer than the training data is where the model will be used).

    Unreachable target: every prediction goes to a person (a threshold above 1).
    No CV (too little data): the configured fixed threshold.
    """
    if not cv_summary:
        return settings.TAGLOOP_REVIEW_THRESHOLD
    threshold = cv_summary["operating_point"]["threshold"]
    chosen = 1.01 if threshold is None else threshold
    over_time = (cv_summary.get("time_validation") or {}).get("threshold")
    return chosen if over_time is None else max(chosen, over_time)


def _flag_suspect_labels(version: ModelVersion, training, cv: "CrossValidation") -> None:
    labels = [item.tag for item in training]
    suspects = find_suspects(labels=labels, oof=cv.oof, limit=settings.TAGLOOP_SUSPECTS_PER_RUN)
    review_tasks_open_for_suspects(
        items=[
            (
                training[suspect.index].content_id,
                PredictionSnapshot(
                    model_version=version.number,
                    predicted_tag=suspect.suggested,
                    probabilities=cv.oof[suspect.index].probabilities,
                    confidence=cv.oof[suspect.index].confidence,
                ),
                suspect.suspicion,
            )
            for suspect in suspects
        ]
    )


def _count_new_labels(training: list[selectors.LabelledContent]) -> int:
    """How many (item, tag) pairs the active model was not trained on: new or corrected labels."""
    active = selectors.active_model_version()
    seen = selectors.training_set_of(model_version=active) if active else {}
    return sum(1 for item in training if seen.get(item.content_id) != item.tag)


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


def _evaluate(model, labelled: list[selectors.LabelledContent], texts: list[str]) -> dict:
    if not labelled:
        return {}
    return evaluate(
        items=[LabelledItem(item.title, item.description, item.tag) for item in labelled],
        predictions=predict(model, texts),
        labels=selectors.label_set(),
        target_precision=settings.TAGLOOP_TARGET_PRECISION,
    )


def evaluate_labelled(*, model_version: ModelVersion, items: list[LabelledItem]) -> dict:
    """Metrics of ``model_version`` on any labelled items (nothing is stored)."""
    model = load_version(model_version)
    texts = [prepare_text(item.title, item.description) for item in items]
    return evaluate(
        items=items,
        predictions=predict(model, texts),
        labels=selectors.label_set(),
        target_precision=settings.TAGLOOP_TARGET_PRECISION,
    )


def auto_retrain_if_due() -> ModelVersion | None:
    """Start a retrain when enough gold labels were decided since the newest run's snapshot.

    Counting from the newest run, not the active model, keeps a waiting candidate from
    being trained again on the same labels at every tick. Never while another run is
    queued or training, and never promotes: the candidate waits for an admin and the gates.
    """
    threshold = settings.TAGLOOP_AUTO_RETRAIN_MIN_NEW_LABELS
    if threshold <= 0 or ModelVersion.objects.filter(status__in=RUNNING_STATUSES).exists():
        return None
    new_labels = selectors.gold_labels_decided_since(since=_newest_run_started_at())
    if new_labels < threshold:
        return None
    logger.info("%s gold labels since the newest training run: starting a retrain", new_labels)
    return model_version_request(notes=f"automatic: {new_labels} new gold labels since the newest training run")


def _newest_run_started_at():
    """When the newest finished run (any outcome) took its snapshot; None before any run.

    A failed or cancelled run counts too: retrying it at every tick would only fail again.
    """
    started = Coalesce("started_at", "created_at")
    return ModelVersion.objects.exclude(status__in=RUNNING_STATUSES).aggregate(newest=Max(started))["newest"]
