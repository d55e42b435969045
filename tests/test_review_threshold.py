"""The review threshold is chosen on labels that no model's doubt selected."""

import pytest

from labeling.models import GoldLabel, Provenance, ReviewReason, ReviewStatus, ReviewTask, Split
from predictions.models import ModelVersion
from predictions.selectors import fair_sample_content_ids
from predictions.services import model_version_train
from tests.factories import SYNTHETIC, make_content, make_gold_dataset

pytestmark = pytest.mark.django_db


def _label(tags, slug: str, title: str, provenance: str):
    content = make_content(title=title, description="")
    GoldLabel.objects.create(content=content, tag=tags[slug], provenance=provenance, split=Split.TRAIN)
    return content


def test_the_fair_sample_is_imported_labels_and_answered_audit_samples(tags):
    imported = _label(tags, "mlops", "imported", Provenance.IMPORTED)
    audited = _label(tags, "mlops", "audited", Provenance.ANNOTATOR)
    ReviewTask.objects.create(content=audited, reason=ReviewReason.AUDIT_SAMPLE, status=ReviewStatus.DONE)
    unsure = _label(tags, "mlops", "unsure", Provenance.ANNOTATOR)
    ReviewTask.objects.create(content=unsure, reason=ReviewReason.LOW_CONFIDENCE, status=ReviewStatus.DONE)
    reported = _label(tags, "mlops", "reported", Provenance.REPORT)
    still_open = _label(tags, "mlops", "audit still open", Provenance.ANNOTATOR)
    ReviewTask.objects.create(content=still_open, reason=ReviewReason.AUDIT_SAMPLE, status=ReviewStatus.OPEN)
    ids = [c.pk for c in (imported, audited, unsure, reported, still_open)]
    assert fair_sample_content_ids(content_ids=ids) == {imported.pk, audited.pk}


def test_a_retrain_takes_its_threshold_on_the_fair_sample_once_it_is_large_enough(tags, model_dir):
    make_gold_dataset(tags, copies=6)  # 6 x 20 = 120 imported training labels
    for n, (slug, phrases) in enumerate(SYNTHETIC.items()):
        for phrase in phrases:
            _label(tags, slug, f"{phrase} answered {n}", Provenance.ANNOTATOR)
    version = ModelVersion.objects.create(number=1, algorithm="tfidf-linear", params={"random_state": 0})
    model_version_train(model_version_id=version.pk)
    version.refresh_from_db()
    point = version.cv_metrics["operating_point"]
    assert (point["sample"], point["sample_size"]) == ("fair", 120)
    # The version keeps the stricter of the fair sample's operating point and the time-ordered one (which, on
    # these few synthetic phrases, may send everything to review).
    over_time = version.cv_metrics["time_validation"]["threshold"]
    assert version.review_threshold == max(point["threshold"], over_time if over_time is not None else 0)
    assert version.review_threshold >= point["threshold"]
