"""Emerging topics also gather items the model is sure of when their meaning is far from training (ml.emerging)."""

import pytest

from ml.catalogue import minilm_available
from predictions.models import Prediction
from predictions.services import emerging_topics_refresh, predictions_create
from tests.factories import make_active_model, make_content
from tests.test_emerging_topics import QUANTUM

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not minilm_available(), reason="MiniLM weights not installed (requirements-minilm.txt)"),
]


def test_a_new_field_the_model_is_sure_of_still_surfaces(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    # Nothing is unsure and nothing is flagged: only novelty in meaning can make a candidate.
    version.review_threshold, version.ood_checks = 0.0, {}
    version.save(update_fields=["review_threshold", "ood_checks"])
    quantum = [make_content(title=t, description=d) for t, d in QUANTUM]
    familiar = [make_content(title=f"image detection {n}", description="A note on image detection.") for n in (7, 8)]
    predictions_create(model_version_id=version.pk, content_ids=[item.pk for item in quantum + familiar])
    assert Prediction.objects.filter(model_version=version).count() == len(quantum + familiar)

    topics = emerging_topics_refresh()

    assert topics, "the quantum items are far in meaning from every training text"
    members = set(topics[0].content_ids)
    assert len(members & {item.pk for item in quantum}) >= 5
    assert not members & {item.pk for item in familiar}
    assert {"quantum", "qubits"} & set(topics[0].top_terms[:3])
