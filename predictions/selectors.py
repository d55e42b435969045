"""Reads of the machine side."""
from dataclasses import dataclass

from labeling.models import Content, GoldLabel, Tag
from predictions.models import ModelStatus, ModelVersion, Prediction, TrainingExample


@dataclass(frozen=True)
class LabelledContent:
    content_id: int
    title: str
    description: str
    tag: str


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelStatus.ACTIVE).first()


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
    """(items this version has predicted, all items): the re-prediction's progress."""
    return Prediction.objects.filter(model_version=model_version).count(), Content.objects.count()


def content_texts(*, content_ids: list[int]) -> list[tuple[int, str, str]]:
    return list(
        Content.objects.filter(pk__in=content_ids).order_by("pk").values_list("pk", "title", "description")
    )
