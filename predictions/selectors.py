"""Reads of the machine side."""
from dataclasses import dataclass

from django.db.models import Count

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
from predictions.models import Canary, CanaryArm, CanaryServing, ModelStatus, ModelVersion, Prediction, TrainingExample


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

    A version that has been active showed every item it predicted (its
    predictions replace the shown tags on promotion).  A candidate that never
    was shows nothing but the items a canary served with it: its other
    predictions are shadow ones, and counting them would dilute its rate.
    """
    ever_active = dict(
        Prediction.objects.filter(model_version__promoted_at__isnull=False)
        .values_list("model_version__number").annotate(n=Count("pk"))
        .values_list("model_version__number", "n")
    )
    canary_only = dict(
        CanaryServing.objects.filter(served=CanaryArm.CANDIDATE, canary__candidate__promoted_at=None)
        .exclude(content=None)
        .values_list("canary__candidate__number").annotate(n=Count("content", distinct=True))
        .values_list("canary__candidate__number", "n")
    )
    return ever_active | canary_only


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
