"""A retrain fits the per-item checks in the training items' time order (created_on), not their id order."""

import datetime

import pytest

from labeling.models import GoldLabel, Provenance, Split
from ml.ood import OODChecks, fit_ood_checks
from ml.text import prepare_text
from predictions.models import ModelStatus, ModelVersion
from predictions.services import model_version_train
from tests.factories import make_content
from tests.ml.test_ood_time_order import drifting_texts

pytestmark = pytest.mark.django_db

SLUGS = ("natural-language-processing", "computer-vision", "mlops", "other")


def test_retrain_calibrates_the_checks_on_time_blocks(tags, model_dir):
    texts = drifting_texts(240)  # oldest first
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    # Imported newest first: id order is the reverse of time order, and only created_on tells them apart.
    for i in reversed(range(len(texts))):
        content = make_content(title=texts[i], description="", created_on=start + datetime.timedelta(days=i))
        GoldLabel.objects.create(
            content=content, tag=tags[SLUGS[i % 4]], provenance=Provenance.IMPORTED, split=Split.TRAIN
        )
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    assert version.status == ModelStatus.CANDIDATE, version.error

    prepared = [prepare_text(text, "") for text in texts]
    in_time_order = fit_ood_checks(prepared, oldest_first=range(len(prepared)))
    stored = OODChecks.from_dict(version.ood_checks)
    assert stored.thresholds == pytest.approx(in_time_order.thresholds)
    assert stored.thresholds != pytest.approx(fit_ood_checks(prepared).thresholds)  # random folds differ
