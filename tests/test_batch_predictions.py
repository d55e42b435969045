"""Batch predictions are idempotent, yet an item whose text changed is predicted again."""
import pytest

from labeling.importing import ContentRow
from labeling.models import Content
from labeling.services.ingestion import content_ingest
from predictions.models import Prediction
from predictions.services import predictions_create
from tests.factories import make_active_model

pytestmark = pytest.mark.django_db


def _ingest(title: str) -> Content:
    [result] = content_ingest(
        rows=[ContentRow(line=0, external_id="item-1", title=title, description="", created_on=None, tag=None)],
        source="feed",
    )
    return Content.objects.get(source="feed", external_id="item-1")


def test_an_unchanged_item_is_not_predicted_twice_and_a_changed_one_is_predicted_again(tags, model_dir):
    active = make_active_model(tags)
    item = _ingest("image segmentation with convolutional networks")
    assert predictions_create(model_version_id=active.pk, content_ids=[item.pk]) == 1
    assert predictions_create(model_version_id=active.pk, content_ids=[item.pk]) == 0
    item.refresh_from_db()
    assert item.current_tag.slug == "computer-vision"

    item = _ingest("deploying models with kubernetes")  # same id, new text
    assert predictions_create(model_version_id=active.pk, content_ids=[item.pk]) == 1
    prediction = Prediction.objects.get(content=item, model_version=active)
    assert (prediction.tag.slug, prediction.text_hash) == ("mlops", item.text_hash)
    item.refresh_from_db()
    assert item.current_tag.slug == "mlops"
    assert predictions_create(model_version_id=active.pk, content_ids=[item.pk]) == 0
