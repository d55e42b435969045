"""Reads of the machine side: the general ones here; one module each for comparing a candidate with the
active model (``comparison``), the monitoring figures (``monitoring``), review thresholds (``thresholds``),
the out-of-distribution checks (``ood``) and a canary's report (``canary_report``)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from labeling.models import (
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    Split,
    Tag,
    WrongTagReport,
)
from labeling.selectors import content_count_by_shown_tag
from predictions.models import (
    RUNNING_STATUSES,
    UNFINISHED_JOB_STATUSES,
    Canary,
    CanaryArm,
    CanaryServing,
    DriftCheck,
    Job,
    JobKind,
    JobStatus,
    ModelEvent,
    ModelEventAction,
    ModelStatus,
    ModelVersion,
    Prediction,
    TrainingExample,
)


@dataclass(frozen=True)
class LabelledContent:
    content_id: int
    title: str
    description: str
    tag: str


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelStatus.ACTIVE).first()


def running_canary() -> Canary | None:
    return Canary.objects.filter(running=True).select_related("candidate", "baseline").first()


def canary_runs_beside(version_pk: int) -> bool:
    """Whether the running canary's baseline is this version: a quarter of the CPU of reading the canary with its
    two versions (worker and PostgreSQL), which every re-prediction chunk asked, nearly always to find none."""
    return Canary.objects.filter(running=True, baseline_id=version_pk).exists()


# Online serving re-reads the versions every second in every web process; it never needs a
# version's out-of-distribution checks (tens of KB of JSON, most of those reads' time).
# Reading the field anyway still works: Django loads a deferred field on first access.
SERVING_DEFERRED = "ood_checks"


def serving_model_version() -> ModelVersion | None:
    """The active version as online serving reads it (without its OOD checks)."""
    return ModelVersion.objects.filter(status=ModelStatus.ACTIVE).defer(SERVING_DEFERRED).first()


def serving_canary() -> Canary | None:
    """The running canary and its two versions as online serving reads them (without their OOD checks)."""
    return (
        Canary.objects.filter(running=True)
        .select_related("candidate", "baseline")
        .defer(f"candidate__{SERVING_DEFERRED}", f"baseline__{SERVING_DEFERRED}")
        .first()
    )


def label_set() -> list[str]:
    # Every tag, retired ones too: old gold labels and old models may still use them.
    return list(Tag.objects.values_list("slug", flat=True))


def gold_labelled(*, split: str) -> list[LabelledContent]:
    rows = (
        GoldLabel.objects.filter(split=split)
        .order_by("content_id")
        .values_list("content_id", "content__title", "content__description", "tag__slug")
    )
    return [LabelledContent(*row) for row in rows]


def oldest_first(*, content_ids: list[int]) -> list[int]:
    """The items in the order they were created (an item of unknown date counts as oldest; ties by id)."""
    rows = Content.objects.filter(pk__in=content_ids).order_by(F("created_on").asc(nulls_first=True), "pk")
    return list(rows.values_list("pk", flat=True))


def holdout_fingerprint(holdout: list[LabelledContent]) -> str:
    """sha256 of the holdout's (item, tag) pairs: the same only for the same items with the same labels.

    A figure measured on the holdout is a figure on *that* holdout: imports add items to it and
    answers to reports change its labels, so pages tell "at training" from "today" by this.
    """
    pairs = sorted([item.content_id, item.tag] for item in holdout)
    return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()


def fair_sample_content_ids(*, content_ids: list[int]) -> set[int]:
    """Of these items, those whose gold label was asked for whatever a model's confidence.

    Imported labels and answered audit samples (a fixed random draw); not answers to
    low-confidence tasks or reports, which a model's doubt or mistake brought to a person.
    """
    imported = GoldLabel.objects.filter(content_id__in=content_ids, provenance=Provenance.IMPORTED)
    audited = ReviewTask.objects.filter(
        content_id__in=content_ids, reason=ReviewReason.AUDIT_SAMPLE, status=ReviewStatus.DONE
    )
    return set(imported.values_list("content_id", flat=True)) | set(audited.values_list("content_id", flat=True))


def gold_labels_decided_since(*, since) -> int:
    """Train-split gold labels created or changed after ``since`` (all of them when None)."""
    labels = GoldLabel.objects.filter(split=Split.TRAIN)
    return labels.filter(decided_at__gt=since).count() if since else labels.count()


def report_rates() -> dict[str, list[dict]]:
    """Wrong-tag reports per shown tag and per model version, against how often each was shown."""
    # A merged report is a repeat folded into its reporter's first one: count the first only.
    reports = WrongTagReport.objects.exclude(status=ReportStatus.MERGED)
    reports_by_tag = dict(
        reports.values_list("shown_tag__slug").annotate(n=Count("pk")).values_list("shown_tag__slug", "n")
    )
    shown_by_tag = content_count_by_shown_tag()
    reports_by_version = dict(
        reports.exclude(shown_model_version=None)
        .values_list("shown_model_version")
        .annotate(n=Count("pk"))
        .values_list("shown_model_version", "n")
    )
    shown_by_version = items_shown_per_version()
    return {
        "by_tag": [_rate(tag, reports_by_tag.get(tag, 0), shown) for tag, shown in shown_by_tag.items() if tag],
        "by_version": [
            _rate(f"v{number}", reports_by_version.get(number, 0), shown)
            for number, shown in sorted(shown_by_version.items(), reverse=True)
        ],
    }


def items_shown_per_version() -> dict[int, int]:
    """Per version number, how many items people were shown its tag for.

    An item counts for a version when either
    - a canary served the item with the version (a ``CanaryServing`` served by the
      candidate arm), or
    - the version's prediction of it was put in force while the version was the active
      model: its ``predicted_at`` falls in one of the version's active periods, each from
      the promotion or rollback that made it active to the next one (the audit trail).
    Each item counts once per version. Shadow predictions (a canary candidate's answers
    it did not serve, a stale chunk run after the version was replaced) fall outside both
    and would only dilute the rate. Approximation: while a canary runs, the items it
    serves with its candidate also count for the active model, which predicted them too.
    """
    in_force = Q(pk__in=[])
    for version_id, start, end in _active_periods():
        period = Q(model_version_id=version_id, predicted_at__gte=start)
        in_force |= period & Q(predicted_at__lt=end) if end else period
    served_by_canary = CanaryServing.objects.filter(
        served=CanaryArm.CANDIDATE, canary__candidate=OuterRef("model_version"), content=OuterRef("content")
    )
    return dict(
        Prediction.objects.filter(in_force | Q(Exists(served_by_canary)))
        .values_list("model_version__number")
        .annotate(n=Count("pk"))
        .values_list("model_version__number", "n")
    )


def _active_periods() -> list[tuple[int, datetime, datetime | None]]:
    """(version id, start, end or None while it lasts) of each period a version was the active model."""
    changes = list(
        ModelEvent.objects.filter(action__in=[ModelEventAction.PROMOTED, ModelEventAction.ROLLED_BACK])
        .order_by("created_at", "pk")
        .values_list("model_version_id", "created_at")
    )
    ends = [created_at for _, created_at in changes[1:]] + [None]
    periods = [(version_id, start, end) for (version_id, start), end in zip(changes, ends)]
    active = ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("pk", "promoted_at").first()
    if active and not (periods and periods[-1][0] == active[0]):
        # Made active without an audit record (data from before the trail): since its promotion.
        periods.append((active[0], active[1] or datetime.min.replace(tzinfo=UTC), None))
    return periods


def _rate(name: str, reports: int, shown: int) -> dict:
    return {"name": name, "reports": reports, "shown": shown, "rate": reports / shown if shown else None}


def training_set_of(*, model_version: ModelVersion) -> dict[int, str]:
    """The snapshot a version was trained on: content id -> tag slug."""
    return dict(TrainingExample.objects.filter(model_version=model_version).values_list("content_id", "tag__slug"))


def content_ids_lacking_prediction(*, model_version: ModelVersion) -> list[int]:
    predicted = Prediction.objects.filter(model_version=model_version).values("content_id")
    return list(Content.objects.exclude(pk__in=predicted).order_by("pk").values_list("pk", flat=True))


def all_content_ids() -> list[int]:
    return list(Content.objects.order_by("pk").values_list("pk", flat=True))


def prediction_progress(*, model_version: ModelVersion) -> tuple[int, int]:
    """(items this activation of the version has predicted, all items): the re-prediction's progress.

    Only predictions written or put in force since the version's latest promotion (or
    rollback to it) count: rows from an earlier time as the active model, or from a
    canary's shadow run, are not this re-prediction's work.
    """
    predictions = Prediction.objects.filter(model_version=model_version)
    if model_version.promoted_at is not None:
        predictions = predictions.filter(predicted_at__gte=model_version.promoted_at)
    return predictions.count(), Content.objects.count()


def content_texts(*, content_ids: list[int]) -> list[tuple[int, str, str]]:
    return list(Content.objects.filter(pk__in=content_ids).order_by("pk").values_list("pk", "title", "description"))


def content_to_predict(*, content_ids: list[int]) -> list[tuple[int, str, str, str, str]]:
    """(id, title, description, text_hash, source) per item, in id order: all a prediction chunk reads of them."""
    return list(
        Content.objects.filter(pk__any=content_ids)
        .order_by("pk")
        .values_list("pk", "title", "description", "text_hash", "source")
    )


def content_ids_lacking_active_prediction(*, model_version: ModelVersion, ingested_before=None) -> list[int]:
    """Items this activation of the (active) version has not predicted or put in force yet."""
    return list(_lacking_active_prediction(model_version, ingested_before).order_by("pk").values_list("pk", flat=True))


def _lacking_active_prediction(model_version: ModelVersion, ingested_before=None):
    predictions = Prediction.objects.filter(model_version=model_version, content=OuterRef("pk"))
    if model_version.promoted_at is not None:
        predictions = predictions.filter(predicted_at__gte=model_version.promoted_at)
    content = Content.objects.filter(~Exists(predictions))
    return content.filter(ingested_at__lt=ingested_before) if ingested_before else content


def broker_queue_length() -> int | None:
    """Messages waiting in the task queue, or None when the broker does not answer."""
    from kombu.exceptions import ChannelError

    from config.celery import app

    queue = app.conf.task_default_queue
    timeout = settings.TAGLOOP_HEALTH_BROKER_TIMEOUT
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
            try:
                return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                return 0  # an empty queue: the broker keeps no key for it
    except Exception:  # noqa: BLE001 - any broker failure means "no answer"
        return None


# Items may lack the active model's prediction this long before health calls it stalled:
# a promotion re-predicts everything, which takes a while on a large collection.
PREDICTION_LAG_ALLOWED = timedelta(minutes=5)


def job_is_stalled(*, job: Job, now=None) -> bool:
    """Unfinished, and no live worker holds it: never sent, or running without a recent heartbeat."""
    now = now or timezone.now()
    if job.status == JobStatus.PENDING:
        return job.dispatched_at is None or job.created_at < now - _waiting_too_long()
    stale = now - timedelta(seconds=settings.TAGLOOP_STALE_AFTER_SECONDS)
    return job.status == JobStatus.RUNNING and (job.heartbeat_at is None or job.heartbeat_at < stale)


def _waiting_too_long() -> timedelta:
    # Past the reconciler's grace and a couple of its rounds, a waiting job means no worker takes work.
    return timedelta(seconds=settings.TAGLOOP_DISPATCH_GRACE_SECONDS + 2 * settings.TAGLOOP_RECONCILE_EVERY_SECONDS)


def stalled_work(*, now=None, include_items: bool = True) -> list[dict]:
    """What should be happening and is not, with how long: for /healthz, /metrics and the models page.

    Each entry: ``kind`` (a short name), ``detail`` (a sentence for people) and
    ``age_seconds`` (how long it has been stalled). ``include_items`` adds the count of
    items lacking the active model's prediction, a query over all content.
    """
    now = now or timezone.now()
    jobs = list(
        Job.objects.filter(status__in=UNFINISHED_JOB_STATUSES)
        .select_related("model_version")
        .only(
            "pk",
            "kind",
            "status",
            "created_at",
            "dispatched_at",
            "dispatch_error",
            "heartbeat_at",
            "claimed_by",
            "model_version__number",
        )
    )
    stalled = [
        _stalled_retrain(job, now) for job in jobs if job.kind == JobKind.TRAIN and job_is_stalled(job=job, now=now)
    ]
    stalled += _stalled_group(
        [job for job in jobs if job.kind != JobKind.TRAIN and job_is_stalled(job=job, now=now)], now
    )
    if include_items:
        stalled += _items_lacking_prediction(now)
    return [entry for entry in stalled if entry]


def _age(since, now) -> int:
    return int((now - since).total_seconds()) if since else 0


def _stalled_retrain(job: Job, now) -> dict:
    name = f"retrain v{job.model_version.number}" if job.model_version else f"retrain job {job.pk}"
    if job.status == JobStatus.RUNNING:
        age = _age(job.heartbeat_at, now)
        worker = f" from {job.claimed_by}" if job.claimed_by else ""
        return {"kind": "retrain", "detail": f"{name}: no heartbeat{worker} for {age} s", "age_seconds": age}
    age = _age(job.created_at, now)
    why = (
        f"not sent: {job.dispatch_error or 'broker unreachable'}" if job.dispatched_at is None else "no worker took it"
    )
    return {"kind": "retrain", "detail": f"{name}: queued {age} s ago, {why}", "age_seconds": age}


def _stalled_group(jobs: list[Job], now) -> list[dict]:
    """Prediction chunks and drift checks, summed up per state: there may be thousands."""
    entries = []
    running = [job for job in jobs if job.status == JobStatus.RUNNING]
    if running:
        age = max(_age(job.heartbeat_at, now) for job in running)
        entries.append(
            {
                "kind": "jobs_without_heartbeat",
                "detail": f"{len(running)} job(s) lost their worker: no heartbeat for up to {age} s",
                "age_seconds": age,
            }
        )
    unsent = [job for job in jobs if job.status == JobStatus.PENDING and job.dispatched_at is None]
    if unsent:
        age = max(_age(job.created_at, now) for job in unsent)
        entries.append(
            {
                "kind": "jobs_not_sent",
                "detail": f"{len(unsent)} job(s) not sent for up to {age} s: the broker is unreachable",
                "age_seconds": age,
            }
        )
    waiting = [job for job in jobs if job.status == JobStatus.PENDING and job.dispatched_at is not None]
    if waiting:
        age = max(_age(job.created_at, now) for job in waiting)
        entries.append(
            {
                "kind": "jobs_waiting",
                "detail": f"{len(waiting)} job(s) waiting for a worker for up to {age} s: is a worker running?",
                "age_seconds": age,
            }
        )
    return entries


def _items_lacking_prediction(now) -> list[dict]:
    active = active_model_version()
    if active is None or (active.promoted_at and active.promoted_at > now - PREDICTION_LAG_ALLOWED):
        return []
    lacking = _lacking_active_prediction(active, now - PREDICTION_LAG_ALLOWED)
    count = lacking.count()
    if not count:
        return []
    oldest = lacking.order_by("ingested_at").values_list("ingested_at", flat=True).first()
    since = max(oldest, active.promoted_at) if active.promoted_at else oldest
    minutes = int(PREDICTION_LAG_ALLOWED.total_seconds() // 60)
    return [
        {
            "kind": "items_lacking_prediction",
            "detail": f"{count:,} item(s) lack the active model's (v{active.number}) prediction for > {minutes} min",
            "age_seconds": _age(since, now),
        }
    ]


def retrain_stalls(*, model_versions: list[ModelVersion]) -> dict[int, dict]:
    """Version number -> its stalled retrain (as in ``stalled_work``), for the queued or training ones."""
    running = [version.pk for version in model_versions if version.status in RUNNING_STATUSES]
    if not running:
        return {}
    now = timezone.now()
    jobs = Job.objects.filter(
        model_version_id__in=running, kind=JobKind.TRAIN, status__in=UNFINISHED_JOB_STATUSES
    ).select_related("model_version")
    return {
        job.model_version.number: _stalled_retrain(job, now)
        for job in jobs
        if job.model_version is not None and job_is_stalled(job=job, now=now)  # not None: filtered on its id
    }


# What /metrics counts of the machine side (config/health.py writes the figures).


def prediction_counts_by_version() -> list[tuple[int, int]]:
    return list(
        Prediction.objects.values_list("model_version__number")
        .annotate(n=Count("pk"))
        .order_by("model_version__number")
    )


def model_version_counts_by_status() -> list[tuple[str, int]]:
    return list(ModelVersion.objects.values_list("status").annotate(n=Count("pk")).order_by("status"))


def latest_drift_checks() -> list[tuple[str, DriftCheck]]:
    """The latest drift check of each window ("" is the window of all sources), by source."""
    latest: dict[str, DriftCheck] = {}
    for check in DriftCheck.objects.order_by("-created_at", "-pk")[:1000]:
        latest.setdefault(check.source, check)
    return sorted(latest.items())


def unfinished_job_counts() -> list[tuple[str, str, int]]:
    """(kind, status, count) of the jobs recorded and not finished."""
    jobs = Job.objects.filter(status__in=UNFINISHED_JOB_STATUSES).values_list("kind", "status").annotate(n=Count("pk"))
    return list(jobs.order_by("kind", "status"))
