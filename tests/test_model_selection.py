"""Retrain uses cross-validation on the train split: per-model threshold, suspect labels, stored embeddings."""

import pytest
from django.urls import reverse

from labeling.models import GoldLabel, Provenance, ReviewTask, Split
from ml.catalogue import minilm_available
from ml.embeddings import embeddings_available
from predictions.models import ContentEmbedding, ModelStatus, ModelVersion
from predictions.services import model_version_train
from tests.factories import make_content, make_gold_dataset

pytestmark = pytest.mark.django_db


def _train(algorithm="tfidf-linear", number=1) -> ModelVersion:
    version = ModelVersion.objects.create(number=number, algorithm=algorithm, params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE, version.error
    return version


def test_cv_on_the_train_split_sets_the_review_threshold(tags, model_dir, settings):
    settings.TAGLOOP_REVIEW_THRESHOLD = 0.123  # the fixed fallback must not be used
    make_gold_dataset(tags)
    version = _train()
    cv = version.cv_metrics
    assert cv["folds"] == 5 and len(cv["fold_f1"]) == 5 and 0 <= cv["sd_f1"] < 1
    assert cv["mean_f1"] == pytest.approx(sum(cv["fold_f1"]) / 5, abs=1e-3)
    point = cv["operating_point"]
    assert point["target_precision"] == settings.TAGLOOP_TARGET_PRECISION
    assert version.review_threshold == point["threshold"] != 0.123
    assert version.ood_checks  # fitted on the training texts, for the stream checks


def test_a_planted_wrong_label_is_flagged_as_suspect(tags, model_dir):
    make_gold_dataset(tags)
    wrong = make_content(title="image segmentation and object detection in photos", description="pixels and images")
    GoldLabel.objects.create(content=wrong, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    _train()
    task = ReviewTask.objects.get(content=wrong, reason="suspect_label")
    assert task.predicted_tag == "computer-vision" and task.status == "open"
    suspects = ReviewTask.objects.filter(reason="suspect_label").count()
    assert 1 <= suspects <= 20


def test_too_little_data_for_cv_falls_back_to_the_fixed_threshold(tags, model_dir, settings):
    for slug in ("mlops", "other"):
        content = make_content(title=f"only one {slug}")
        GoldLabel.objects.create(content=content, tag=tags[slug], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    version = _train()
    assert version.cv_metrics == {} and version.review_threshold == settings.TAGLOOP_REVIEW_THRESHOLD


@pytest.mark.skipif(not embeddings_available(), reason="embeddings extra not installed (requirements-embeddings.txt)")
def test_embeddings_are_computed_once_and_reused_by_the_next_retrain(tags, model_dir):
    from ml.embeddings import EMBEDDING_MODEL_NAME, clear_embedding_cache
    from ml.text import prepare_text
    from predictions.selectors import gold_labelled
    from predictions.services.embeddings_store import embeddings_prime

    make_gold_dataset(tags, copies=2)
    clear_embedding_cache()
    _train(algorithm="embeddings-linear")
    # The holdout's vectors are kept too: evaluating a retrain must not re-encode it every time.
    gold = gold_labelled(split=Split.TRAIN) + gold_labelled(split=Split.HOLDOUT)
    assert ContentEmbedding.objects.count() == len(gold)
    clear_embedding_cache()  # a new worker process: only the database remembers
    texts = [prepare_text(item.title, item.description) for item in gold]
    assert embeddings_prime(contents=gold, texts=texts, identity=EMBEDDING_MODEL_NAME) == len(gold)
    clear_embedding_cache()
    stored = set(ContentEmbedding.objects.values_list("pk", flat=True))
    second = _train(algorithm="embeddings-linear", number=2)
    # Nothing was re-encoded, so no row was replaced.
    assert set(ContentEmbedding.objects.values_list("pk", flat=True)) == stored
    assert second.metrics["overall"]["f1"] > 0.5


def test_the_candidate_is_the_algorithm_fitted_on_the_whole_train_split(tags, model_dir):
    """The final fit runs beside the CV folds; it must still be the plain fit on all the train split."""
    import numpy as np

    from ml.text import prepare_text
    from ml.training import train_model
    from predictions.model_store import load_version
    from predictions.selectors import gold_labelled

    make_gold_dataset(tags)
    version = _train()
    training = gold_labelled(split=Split.TRAIN)
    texts = [prepare_text(item.title, item.description) for item in training]
    alone = train_model(texts=texts, labels=[item.tag for item in training], algorithm="tfidf-linear", random_state=0)
    candidate = load_version(version)
    assert version.training_label_count == len(training) and list(candidate.classes_) == list(alone.classes_)
    probe = texts[:8] + ["a docker image for object detection"]
    assert np.allclose(candidate.predict_proba(probe), alone.predict_proba(probe), atol=1e-4)


def test_models_command_prints_one_comparison_table(tags, model_dir, capsys):
    from django.core.management import call_command

    make_gold_dataset(tags)
    _train(algorithm="rules", number=1)
    _train(algorithm="tfidf-linear", number=2)
    call_command("models")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["version", "algorithm", "status"]
    assert lines[2].startswith("v1") and "rules" in lines[2] and "±" in lines[2]
    assert lines[3].startswith("v2") and "tfidf-linear" in lines[3] and "[" in lines[3]


@pytest.mark.parametrize("algorithm", ["majority", "rules"])
def test_a_baseline_never_questions_gold_labels(tags, model_dir, algorithm):
    make_gold_dataset(tags)
    _train(algorithm)
    assert not ReviewTask.objects.filter(reason="suspect_label").exists()


def test_a_candidate_clearly_worse_than_the_active_model_never_questions_gold_labels(tags, model_dir, settings):
    make_gold_dataset(tags)
    wrong = make_content(title="image segmentation and object detection in photos", description="pixels and images")
    GoldLabel.objects.create(content=wrong, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    active = _train(number=1)
    ModelVersion.objects.filter(pk=active.pk).update(status=ModelStatus.ACTIVE)
    ReviewTask.objects.filter(reason="suspect_label").delete()
    # The same model again, but the active one now looks far better on paper.
    ModelVersion.objects.filter(pk=active.pk).update(cv_metrics={**active.cv_metrics, "mean_f1": 0.999})
    _train(number=2)
    assert not ReviewTask.objects.filter(reason="suspect_label").exists()
    settings.TAGLOOP_GATE_MAX_F1_DROP = 1.0  # within the allowed drop: it may
    _train(number=3)
    assert ReviewTask.objects.filter(content=wrong, reason="suspect_label").exists()


def test_on_a_suspect_label_enter_keeps_the_gold_tag_and_the_suggestion_is_shown(client, tags, model_dir, annotator):
    from django.urls import reverse

    make_gold_dataset(tags)
    wrong = make_content(title="image segmentation and object detection in photos", description="pixels and images")
    GoldLabel.objects.create(content=wrong, tag=tags["mlops"], provenance=Provenance.IMPORTED, split=Split.TRAIN)
    _train()
    task = ReviewTask.objects.get(content=wrong, reason="suspect_label")
    client.force_login(annotator)
    page = client.get(reverse("labeling:review-task", args=[task.pk])).content.decode()
    assert "The gold label says <strong>mlops</strong>; model v1 suggests <strong>computer-vision</strong>" in page
    assert 'value="mlops" data-key="Enter" class="primary">Keep mlops' in page
    assert "Confirm computer-vision" not in page


@pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)")
def test_the_default_encodes_each_item_once_across_retrains_and_batch_predictions(tags, model_dir):
    from ml.embeddings import clear_embedding_cache
    from predictions.selectors import gold_labelled
    from predictions.services.batch import predictions_create

    make_gold_dataset(tags, copies=2)
    clear_embedding_cache()
    first = _train(algorithm="minilm-linear")
    gold = gold_labelled(split=Split.TRAIN) + gold_labelled(split=Split.HOLDOUT)
    assert ContentEmbedding.objects.count() == len(gold) and first.metrics["overall"]["f1"] > 0.5
    stored = set(ContentEmbedding.objects.values_list("pk", flat=True))
    clear_embedding_cache()  # a new worker process
    _train(algorithm="minilm-linear", number=2)
    assert set(ContentEmbedding.objects.values_list("pk", flat=True)) == stored  # nothing re-encoded
    # A chunk of batch predictions: the known item's vector serves, the new one's is stored.
    new = make_content(title="object detection for drones", description="Bounding boxes from aerial photos.")
    clear_embedding_cache()
    assert predictions_create(model_version_id=first.pk, content_ids=[new.pk, gold[0].content_id]) == 2
    assert set(ContentEmbedding.objects.values_list("pk", flat=True)) > stored
    assert ContentEmbedding.objects.filter(content=new).count() == 1


@pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)")
def test_int8_and_fp32_vectors_are_stored_apart_and_each_model_reads_its_own(tags, model_dir, monkeypatch):
    from ml.embeddings import EMBEDDING_MODEL_NAME, clear_embedding_cache
    from ml.minilm_backends import SETTING
    from ml.minilm_onnx import int8_identity, onnx_available
    from predictions.services.batch import predictions_create

    if not onnx_available():
        pytest.skip("onnxruntime not installed")
    make_gold_dataset(tags, copies=2)
    clear_embedding_cache()
    monkeypatch.setenv(SETTING, "onnx-int8")
    int8_model = _train(algorithm="minilm-linear")
    int8_rows = dict(ContentEmbedding.objects.values_list("content_id", "model_name"))
    assert set(int8_rows.values()) == {int8_identity()}
    monkeypatch.setenv(SETTING, "numpy")
    clear_embedding_cache()
    _train(algorithm="minilm-linear", number=2)
    # The fp32 model stored its own vectors beside the int8 ones and left those alone.
    by_kind = {
        name: ContentEmbedding.objects.filter(model_name=name).count()
        for name in (int8_identity(), EMBEDDING_MODEL_NAME)
    }
    assert by_kind == {int8_identity(): len(int8_rows), EMBEDDING_MODEL_NAME: len(int8_rows)}
    # Re-predicting with the int8 model (the setting now says numpy) stores int8 vectors for a new item.
    new = make_content(title="object detection for drones", description="Bounding boxes from aerial photos.")
    clear_embedding_cache()
    assert predictions_create(model_version_id=int8_model.pk, content_ids=[new.pk]) == 1
    assert list(ContentEmbedding.objects.filter(content=new).values_list("model_name", flat=True)) == [int8_identity()]


def test_a_retrain_validates_on_its_newest_items_in_time_order_and_starts_no_lower_than_that_proves(
    tags, model_dir, client, admin_user
):
    make_gold_dataset(tags, copies=7)  # 140 training labels: three newest slices of 28 items
    version = _train()
    validation = version.cv_metrics["time_validation"]
    assert (validation["folds"], validation["share"], validation["sample"]) == (3, 0.2, "fair")  # all imported
    assert len(validation["items"]) == 84 and all(0 <= c <= 1 for c, _ in validation["items"])
    assert validation["precision"] == pytest.approx(sum(right for _, right in validation["items"]) / 84, abs=1e-4)
    cv_point = version.cv_metrics["operating_point"]["threshold"]
    assert version.review_threshold == max(cv_point, validation["threshold"])
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-detail", args=[version.number])).content.decode()
    assert 'id="threshold-sources"' in page and "84 items" in page and "the stricter applies" in page


def test_the_time_order_is_the_items_creation_with_undated_items_oldest():
    from datetime import UTC, datetime

    from predictions.selectors import oldest_first

    newer = make_content(title="newer", created_on=datetime(2024, 1, 1, tzinfo=UTC))
    older = make_content(title="older", created_on=datetime(2020, 1, 1, tzinfo=UTC))
    undated = make_content(title="undated")
    assert oldest_first(content_ids=[newer.pk, older.pk, undated.pk]) == [undated.pk, older.pk, newer.pk]
