"""Batch predictions: chunks of content predicted on the workers, idempotently."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from common.bulk_update import EncodedJson, insert_rows, parameters_bound, stale_prepared_statement
from common.planner import plan_for_rows_in_memory
from common.table_statistics import analyze_when_stale
from labeling.models import ReviewReason, ReviewTask, Tag
from labeling.services import (
    ModelTag,
    PredictionSnapshot,
    content_flag_out_of_distribution,
    content_show_model_tags,
    is_audit_sample,
    review_tasks_close_untouched,
    review_tasks_held_follow,
    review_tasks_open_for_audit,
    review_tasks_open_for_low_confidence,
)
from ml.catalogue import USES_STORED_EMBEDDINGS
from ml.prediction import predict_rows
from ml.text import prepare_text
from predictions import selectors
from predictions.model_store import import_model_stack, load_version
from predictions.models import ModelStatus, ModelVersion, Prediction
from predictions.selectors.ood import ood_check_contents, versions_without_ood_checks
from predictions.selectors.trust import acceptance_below, thresholds_in_force
from predictions.services.canary import canary_beside, canary_content_ids, servings_record_stream
from predictions.services.embeddings_store import embeddings_prime, embeddings_store_new
from predictions.services.jobs import jobs_create_predict


def predictions_create(*, model_version_id: int, content_ids: list[int]) -> int:
    """Predict ``content_ids`` with a version; idempotent and safe to run twice.

    Items the version already predicted are not predicted again. When the version is
    the active one, every item of the chunk (new or not) shows its tag, and the review
    queue follows the version's confidence: tasks open for uncertain items and close for
    items it is sure of that no person has touched. While a canary runs beside the
    active version, its candidate also predicts the chunk's items in the canary and its
    control group, and serves the canary's share. Returns how many predictions of
    ``model_version_id`` were new (or redone because the item's text changed).
    """
    # The chunk's statements are prepared on the kept connection: planned once, not every chunk (common.bulk_update).
    try:
        with parameters_bound(prepared=True):
            created = _predictions_create(model_version_id, content_ids)
    except DatabaseError as error:
        if not stale_prepared_statement(error) or connection.in_atomic_block:
            raise
        # A migration changed what a prepared query returns since the last chunk: its statements are dropped (the
        # connection closed, or the transaction rolled back), and the chunk, idempotent, runs again preparing afresh.
        with parameters_bound(prepared=True):
            created = _predictions_create(model_version_id, content_ids)
    # The chunks of a re-prediction grow these tables faster than autovacuum analyses them, and the next chunk's
    # statements are planned against their statistics (common/table_statistics.py).
    for model in (ReviewTask, Prediction):
        analyze_when_stale(model)
    return created


def _predictions_create(model_version_id: int, content_ids: list[int]) -> int:
    version = versions_without_ood_checks(ModelVersion.objects.all()).get(pk=model_version_id)
    # Read once: the model, the out-of-distribution checks and the thresholds all use it.
    chunk = _Chunk(selectors.content_to_predict(content_ids=content_ids))
    predictions, new = _predictions_of(version, chunk.rows, chunk)
    canary = canary_beside(version)
    if canary is not None:
        in_canary = set(canary_content_ids(canary, list(chunk.texts)))
        shadow, shadow_new = _predictions_of(
            canary.candidate, [row for row in chunk.rows if row[0] in in_canary], chunk
        )
    else:
        shadow, shadow_new = [], []
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        plan_for_rows_in_memory()
        _save_predictions([*new, *shadow_new])
        # Re-read inside the transaction: a promotion or rollback may have happened
        # since this chunk was queued.
        if ModelVersion.objects.filter(pk=version.pk, status=ModelStatus.ACTIVE).exists():
            _mark_in_force(version, sorted({p.content_id for p in predictions} - {p.content_id for p in new}))
            served = servings_record_stream(canary, baseline=predictions, candidate=shadow) if canary else None
            _act_on_served(served or predictions, chunk, versions=[version, *([canary.candidate] if canary else [])])
    return len(new)


def _commit_without_waiting_for_the_disk() -> None:
    """This transaction's commit returns before its WAL reaches the disk (PostgreSQL's synchronous_commit off).

    Waiting for the flush was 5% of a chunk's time in a profile. Nothing is given up: the job is marked done by the next,
    ordinary commit on the same connection (predictions.services.jobs), which flushes the WAL up to itself, this
    chunk's included. If the server stops in between, the chunk may be lost but its job stays unfinished and runs
    again (chunks are idempotent).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class _Chunk:
    """The chunk's items as read once: (id, title, description, text_hash, source) rows, prepared texts, sources."""

    def __init__(self, rows: list[tuple[int, str, str, str, str]]):
        self.rows = rows
        self.texts = {content_id: prepare_text(title, description) for content_id, title, description, *_ in rows}
        self.sources = {row[0]: row[4] for row in rows}


def _predictions_of(
    version: ModelVersion, rows: list[tuple[int, str, str, str, str]], chunk: "_Chunk"
) -> tuple[list["Prediction | Answer"], list["Answer"]]:
    """The version's predictions for the items of ``rows`` and, of those, the ones to (re)write.

    ``rows`` are rows of ``chunk``. A stored prediction is reused unless the item's text
    changed since it was made.
    """
    hashes = {content_id: digest for content_id, _, _, digest, _ in rows}
    with transaction.atomic():
        # Probes by key, as in the chunk's own transaction: at the default costs a first promotion read the version's
        # predictions with a sequential scan of the table it was filling, one per chunk (common/planner.py).
        plan_for_rows_in_memory()
        stored = list(Prediction.objects.filter(model_version=version, content_id__any=list(hashes)))
    current = [prediction for prediction in stored if prediction.text_hash in ("", hashes[prediction.content_id])]
    done = {prediction.content_id for prediction in current}
    new = _predict_rows(version, [row for row in rows if row[0] not in done], chunk)
    return [*current, *new], new


@dataclass(slots=True)
class Answer:
    """A prediction this chunk made, as its row will hold it: no ORM object per item (they cost a tenth of a chunk)."""

    content_id: int
    model_version_id: int
    tag_id: int
    probabilities: dict
    confidence: float
    text_hash: str
    created_at: datetime = field(default_factory=timezone.now)
    predicted_at: datetime = field(default_factory=timezone.now)


def _save_predictions(predictions: list["Answer"]) -> None:
    # Stamped at the write, not when the model ran: a promotion may come in between.
    now = timezone.now()
    for prediction in predictions:
        prediction.predicted_at = now
    # An upsert: a prediction of an item whose text changed replaces the stale one. Such items are rare (the chunk
    # read the version's stored predictions first), so the rows go by COPY, and by the upsert only if one conflicts.
    insert_rows(
        Prediction,
        predictions,
        update_conflicts=(
            ["content", "model_version"],
            ["tag", "probabilities", "confidence", "text_hash", "created_at", "predicted_at"],
        ),
        conflicts_rare=True,
    )


def _mark_in_force(version: ModelVersion, content_ids: list[int]) -> None:
    """Stamp the version's reused answers for these items: this activation has put them in force.

    Without it, an item predicted in an earlier activation (or by a canary's shadow run)
    would look like this activation's work, or never like it when its text is unchanged.
    """
    if content_ids:
        Prediction.objects.filter(model_version=version, content_id__any=content_ids).update(
            predicted_at=timezone.now()
        )


def _act_on_served(predictions: list["Prediction | Answer"], chunk: "_Chunk", *, versions: list[ModelVersion]) -> None:
    """Show each item the tag of the version that serves it (two versions while a canary runs)."""
    for version in versions:
        group = [p for p in predictions if p.model_version_id == version.pk]
        if group:
            _act_on_predictions(version, group, chunk)


def _predict_rows(version: ModelVersion, rows: list[tuple[int, str, str, str, str]], chunk: "_Chunk") -> list["Answer"]:
    if not rows:
        return []
    texts = [chunk.texts[row[0]] for row in rows]
    from ml.embeddings import model_text_encoder  # scikit-learn: loaded where a model is

    model = load_version(version)
    encoder = model_text_encoder(model) if version.algorithm in USES_STORED_EMBEDDINGS else None
    if encoder is not None:
        # Re-predicting after a promotion would otherwise encode every item again: the stored
        # vectors of the kind the model was trained on serve, and what this chunk encodes is
        # stored for the next pass.
        contents = [SimpleNamespace(content_id=content_id) for content_id, *_ in rows]
        embeddings_prime(contents=contents, texts=texts, identity=encoder.identity)
        answers = predict_rows(model, texts)
        embeddings_store_new(contents=contents, texts=texts, identity=encoder.identity)
    else:
        answers = predict_rows(model, texts)
    tag_ids = dict(Tag.objects.values_list("slug", "pk"))
    tag_of = [tag_ids[label] for label in answers.labels]
    now = timezone.now()
    # The probabilities go to the prediction, the item's shown tag and maybe a review task: encoded once for all.
    # Rows, not a result object per item: from the model's output to the encoded answers, 3.4 us per item instead
    # of 4.6 (2,000 rows of four tags).
    probabilities = EncodedJson.of_rows(answers.labels, answers.rows)
    return [
        Answer(content_id, version.pk, tag_of[k], encoded, values[k], digest, now, now)
        for (content_id, _, _, digest, _), k, values, encoded in zip(rows, answers.best, answers.rows, probabilities)
    ]


def _act_on_predictions(version: ModelVersion, predictions: list["Prediction | Answer"], chunk: "_Chunk") -> None:
    slugs = dict(Tag.objects.values_list("pk", "slug"))
    # Each item's prediction (the last, were one given twice). Snapshots are made only for the items that get a
    # review task: per item, the object cost more than the decisions it feeds.
    latest = {p.content_id: p for p in predictions}

    def snapshot(content_id: int) -> PredictionSnapshot:
        p = latest[content_id]
        return PredictionSnapshot(version.number, slugs[p.tag_id], p.probabilities, p.confidence)

    # Each source has its threshold and audit share in force (predictions.services.trust): looked up per source.
    in_force = thresholds_in_force(version=version)
    sources = chunk.sources
    known = {*sources.values(), ""}
    limit_of = {source: in_force.for_source(source) for source in known}
    share_of = {source: in_force.audit_share(source) for source in known}
    threshold = {content_id: limit_of[sources.get(content_id, "")] for content_id in latest}
    # What the threshold judges: the version's trust score (the keyword rules' second opinion), or the confidence.
    # Judged for the whole chunk at once: per item, reading the version's stored score and the rules' look-ups
    # cost more than the score; and the rules are read only where their opinion can change the verdict.
    verdicts = acceptance_below(
        version,
        texts=[chunk.texts[p.content_id] for p in predictions],
        tags=[slugs[latest[p.content_id].tag_id] for p in predictions],
        confidences=[p.confidence for p in predictions],
        thresholds=[threshold[p.content_id] for p in predictions],
    )
    uncertain = {p.content_id: below for p, below in zip(predictions, verdicts)}
    # Audit samples are reviewed whatever the confidence, by several annotators; they
    # need no low-confidence or out-of-distribution task as well.
    audit = {
        content_id for content_id in latest if is_audit_sample(content_id, share=share_of[sources.get(content_id, "")])
    }
    # Out-of-distribution items first: they show no model tag and go to a person.
    out_of_distribution = _check_out_of_distribution(version, sorted(latest), snapshot, audit, chunk)
    content_show_model_tags(
        model_tags=[
            ModelTag(p.content_id, p.tag_id, p.confidence, version.number, p.probabilities) for p in predictions
        ]
    )
    review_tasks_open_for_audit(items=[(content_id, snapshot(content_id)) for content_id in sorted(audit)])
    review_tasks_open_for_low_confidence(
        items=[
            (p.content_id, snapshot(p.content_id))
            for p in predictions
            if uncertain[p.content_id] and p.content_id not in audit and p.content_id not in out_of_distribution
        ]
    )
    confident = [p.content_id for p in predictions if not uncertain[p.content_id]]
    review_tasks_close_untouched(content_ids=confident, reason=ReviewReason.LOW_CONFIDENCE)
    # A task a person holds stays theirs, with what the model now says (no longer uncertain).
    review_tasks_held_follow(content_ids=confident, snapshot=snapshot, reason=ReviewReason.LOW_CONFIDENCE)


def _check_out_of_distribution(
    version: ModelVersion,
    content_ids: list[int],
    snapshot: Callable[[int], PredictionSnapshot],
    audit: set[int],
    chunk: "_Chunk",
) -> set[int]:
    """Run the version's per-item checks on the items (in id order); returns the items whose flag is in force."""
    verdicts = ood_check_contents(
        version=version, content_ids=content_ids, texts=[chunk.texts[content_id] for content_id in content_ids]
    )
    if verdicts is None:
        return set()
    return content_flag_out_of_distribution(
        flagged=[(content_id, reasons, snapshot(content_id)) for content_id, reasons in verdicts.items() if reasons],
        cleared=[content_id for content_id, reasons in verdicts.items() if not reasons],
        without_task=audit,
    )


def warm_worker_process() -> None:
    """Load the active version's model into this process's cache, as its first chunk would; close the connection.

    Called as a worker's pool process starts (config.celery), so what the model brings is loaded before the
    process freezes its long-lived objects. With no active version yet (a fresh install, or workers started before
    the first promotion) the modules any model needs are imported all the same: otherwise the first promotion's
    chunks import them (1.2-1.5 s of CPU per process) and every full garbage collection after it walks their
    objects, which the freeze never saw (docs/benchmarks.md, "Re-prediction: the two workers' extra CPU").
    """
    try:
        version = selectors.active_model_version()
        if version is not None:
            load_version(version)
        else:
            import_model_stack()
    finally:
        connection.close()


def predictions_enqueue_missing(*, model_version_id: int, chunk_size: int | None = None) -> int:
    """Prediction jobs for the content lacking a prediction from the version; returns how many jobs."""
    version = ModelVersion.objects.get(pk=model_version_id)
    missing = selectors.content_ids_lacking_prediction(model_version=version)
    return len(jobs_create_predict(model_version=version, content_ids=missing, chunk_size=chunk_size))


def content_enqueue_prediction(*, content_ids: list[int]) -> None:
    """Called inside the transaction that stores new content: its prediction jobs are part of it."""
    version = selectors.active_model_version()
    if version is not None:
        jobs_create_predict(model_version=version, content_ids=content_ids)
