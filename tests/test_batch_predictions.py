"""Batch predictions are idempotent, yet an item whose text changed is predicted again."""

import pytest

from labeling.models import Content
from labeling.parsing import ContentRow
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


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_model_tags_are_shown_on_items_without_gold_and_nothing_else_changes(tags, vendor, monkeypatch):
    from labeling.models import GoldLabel, Provenance, Split, TagOrigin
    from labeling.services import content as content_services
    from labeling.services.content import ModelTag
    from tests.factories import make_content

    plain, gold = make_content(title="plain"), make_content(title="gold", current_tag=tags["mlops"])
    GoldLabel.objects.create(content=gold, tag=tags["mlops"], split=Split.TRAIN, provenance=Provenance.IMPORTED)
    if vendor == "other":  # the portable path (bulk_update), as on SQLite
        from common import bulk_update

        monkeypatch.setattr(bulk_update, "connection", type("Other", (), {"vendor": "other"})())
    probabilities = {"computer-vision": 0.7, "mlops": 0.1, "natural-language-processing": 0.1, "other": 0.1}
    shown = content_services.content_show_model_tags(
        model_tags=[ModelTag(item.pk, tags["computer-vision"].pk, 0.7, 3, probabilities) for item in (plain, gold)]
    )
    assert shown == 1
    plain.refresh_from_db()
    assert (
        plain.current_tag,
        plain.current_tag_origin,
        plain.current_tag_confidence,
        plain.current_model_version,
        plain.current_probabilities,
        plain.title,
    ) == (tags["computer-vision"], TagOrigin.MODEL, 0.7, 3, probabilities, "plain")
    gold.refresh_from_db()
    assert (gold.current_tag, gold.current_model_version) == (tags["mlops"], None)


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_a_flag_in_force_hides_the_model_tag_and_a_dismissed_one_does_not(tags, vendor, monkeypatch):
    # PostgreSQL applies the rule inside the UPDATE, other databases read the items first: the same items change.
    from django.db import connection

    from labeling.services import content as content_services
    from labeling.services.content import ModelTag
    from tests.factories import make_content

    if vendor == "postgresql" and connection.vendor != "postgresql":
        pytest.skip("the in-statement rule is PostgreSQL's")
    flagged = make_content(title="flagged", is_out_of_distribution=True)
    dismissed = make_content(title="dismissed", is_out_of_distribution=True, ood_dismissed=True)
    plain = make_content(title="plain")
    if vendor == "other":
        from common import bulk_update

        monkeypatch.setattr(bulk_update, "connection", type("Other", (), {"vendor": "other"})())
    probabilities = {"computer-vision": 0.7, "mlops": 0.1, "natural-language-processing": 0.1, "other": 0.1}
    shown = content_services.content_show_model_tags(
        model_tags=[
            ModelTag(item.pk, tags["computer-vision"].pk, 0.7, 3, probabilities) for item in (flagged, dismissed, plain)
        ]
    )
    assert shown == 2
    tagged = set(Content.objects.filter(current_model_version=3).values_list("title", flat=True))
    assert tagged == {"dismissed", "plain"}
