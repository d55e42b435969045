"""Reads of the machine side."""
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Exists, OuterRef, Q

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
from predictions.models import (
    Canary,
    CanaryArm,
    CanaryServing,
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
    shown_by_tag = dict(
        Content.objects.values_list("current_tag__slug").annotate(n=Count("pk")).values_list("current_tag__slug", "n")
    )
    reports_by_version = dict(
        reports.exclude(shown_model_version=None)
        .values_list("shown_model_version").annotate(n=Count("pk")).values_list("shown_model_version", "n")
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
        .values_list("model_version__number").annotate(n=Count("pk"))
        .values_list("model_version__number", "n")
    )


def _active_periods() -> list[tuple[int, datetime, datetime | None]]:
    """(version id, start, end or None while it lasts) of each period a version was the active model."""
    changes = list(
        ModelEvent.objects.filter(action__in=[ModelEventAction.PROMOTED, ModelEventAction.ROLLED_BACK])
        .order_by("created_at", "pk").values_list("model_version_id", "created_at")
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
    return dict(
        TrainingExample.objects.filter(model_version=model_version).values_list("content_id", "tag__slug")
    )


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
    return list(
        Content.objects.filter(pk__in=content_ids).order_by("pk").values_list("pk", "title", "description")
    )


def content_texts_and_hashes(*, content_ids: list[int]) -> list[tuple[int, str, str, str]]:
    """(id, title, description, text_hash) per item, in id order."""
    return list(
        Content.objects.filter(pk__in=content_ids).order_by("pk")
        .values_list("pk", "title", "description", "text_hash")
    )
