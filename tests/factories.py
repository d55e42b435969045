"""Small builders for test data (plain functions, no factory library needed yet)."""

from itertools import count

from labeling.models import Content, ReviewTask
from labeling.services import PredictionSnapshot, review_task_open, text_hash

_ids = count(1)


def external_ids_advance(by: int) -> None:
    """Skip ``by`` external ids (TAGLOOP_TEST_ID_SHIFT, tests/conftest.py)."""
    global _ids
    _ids = count(next(_ids) + by)


def make_content(*, title="A paper about transformers", description="Text models.", source="test", **fields) -> Content:
    return Content.objects.create(
        source=source,
        external_id=str(next(_ids)),
        title=title,
        description=description,
        text_hash=text_hash(title, description),
        **fields,
    )


def make_low_confidence_task(*, content=None, confidence=0.4, predicted="mlops") -> ReviewTask:
    content = content or make_content()
    others = [
        slug for slug in ("natural-language-processing", "computer-vision", "mlops", "other") if slug != predicted
    ]
    probabilities = {predicted: confidence, **{slug: round((1 - confidence) / 3, 6) for slug in others}}
    snapshot = PredictionSnapshot(
        model_version=1, predicted_tag=predicted, probabilities=probabilities, confidence=confidence
    )
    return review_task_open(content=content, reason="low_confidence", snapshot=snapshot)


SYNTHETIC = {
    "computer-vision": [
        "image segmentation with convolutional networks",
        "object detection in video frames",
        "face recognition from photos",
        "pixel level image classification",
        "yolo detector for images",
    ],
    "natural-language-processing": [
        "text classification with transformers",
        "machine translation of sentences",
        "language model for question answering",
        "named entity recognition in text",
        "bert embeddings for sentiment of reviews",
    ],
    "mlops": [
        "deploying models with kubernetes",
        "monitoring models in production",
        "feature store and pipelines",
        "serving predictions behind an api",
        "experiment tracking with mlflow",
    ],
    "other": [
        "graph neural networks for molecules",
        "reinforcement learning for games",
        "time series forecasting",
        "recommender systems with matrix factorization",
        "tabular data with gradient boosting",
    ],
}


def make_gold_dataset(tags, *, copies: int = 3):
    """A small separable labelled set: training labels plus one holdout item per tag and phrase."""
    from labeling.models import GoldLabel, Provenance, Split

    for slug, phrases in SYNTHETIC.items():
        for copy in range(copies + 1):
            for phrase in phrases:
                content = make_content(title=f"{phrase} {copy}", description=f"A note on {phrase}.")
                split = Split.HOLDOUT if copy == copies else Split.TRAIN
                GoldLabel.objects.create(content=content, tag=tags[slug], provenance=Provenance.IMPORTED, split=split)


def make_candidate(algorithm: str = "tfidf-linear"):
    """Train the next version number on the gold labels there are, in this process; a candidate."""
    from predictions.models import ModelVersion
    from predictions.services import model_version_train

    version = ModelVersion.objects.create(
        number=ModelVersion.objects.count() + 1, algorithm=algorithm, params={"random_state": 0}
    )
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    return version


def lose_artifact(version) -> None:
    """Take a version's artifact away from every backend of the model store (a wiped var/, a lost row)."""
    from predictions.artifact_store import local_artifact_path
    from predictions.models import ModelArtifact

    ModelArtifact.objects.filter(model_version=version).delete()
    if version.artifact_path:
        local_artifact_path(version).unlink(missing_ok=True)


def make_active_model(tags, *, algorithm: str = "tfidf-linear"):
    """Train a model in this process (the service, not the task) and make it active."""
    from predictions.models import ModelVersion
    from predictions.services import model_version_promote, model_version_train

    make_gold_dataset(tags)
    number = ModelVersion.objects.count() + 1
    version = ModelVersion.objects.create(number=number, algorithm=algorithm, params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    return model_version_promote(model_version=version)
