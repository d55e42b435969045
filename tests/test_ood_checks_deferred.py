"""A re-prediction chunk reads its version without the out-of-distribution checks' JSON: the checks are the same.

``versions_without_ood_checks`` defers the field and reads only what the process's cache of built checks is keyed
on (the thresholds, and whether any checks are stored). These tests hold that version to the whole row's answers:
the same built checks, rebuilt when the stored thresholds change, none when the field is emptied, and the same flags
written by a chunk.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.models import Content
from predictions.models import ModelVersion
from predictions.selectors.ood import ood_check_contents, ood_checks_for, versions_without_ood_checks
from predictions.services import predictions_create
from tests.factories import make_active_model, make_content

pytestmark = pytest.mark.django_db

OFF_TOPIC = (
    "Cheap flights and hotel deals this summer",
    "Book your holiday today with free cancellation, breakfast included and a sea view from every room.",
)


def _slim(version: ModelVersion) -> ModelVersion:
    return versions_without_ood_checks(ModelVersion.objects.all()).get(pk=version.pk)


def test_the_slim_read_finds_the_checks_already_built_without_reading_the_field(tags, model_dir):
    version = make_active_model(tags)
    built = ood_checks_for(ModelVersion.objects.get(pk=version.pk))
    assert built is not None
    slim = _slim(version)
    assert "ood_checks" in slim.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert ood_checks_for(slim) is built
    assert not queries.captured_queries


def test_the_slim_read_builds_checks_it_has_not_seen_as_the_whole_row_does(tags, model_dir):
    version = make_active_model(tags)
    stored = ModelVersion.objects.get(pk=version.pk).ood_checks
    stored["thresholds"] = {name: value + 0.25 for name, value in stored["thresholds"].items()}
    ModelVersion.objects.filter(pk=version.pk).update(ood_checks=stored)
    from_slim = ood_checks_for(_slim(version))  # built here: the thresholds were never seen
    assert from_slim is not None
    assert from_slim.thresholds == {name: float(value) for name, value in stored["thresholds"].items()}
    assert ood_checks_for(ModelVersion.objects.get(pk=version.pk)) is from_slim


def test_a_version_whose_checks_were_emptied_has_none_either_way(tags, model_dir):
    version = make_active_model(tags)
    assert ood_checks_for(_slim(version)) is not None
    ModelVersion.objects.filter(pk=version.pk).update(ood_checks={})
    assert ood_checks_for(_slim(version)) is None
    assert ood_checks_for(ModelVersion.objects.get(pk=version.pk)) is None


def test_a_chunk_flags_the_same_items_as_the_checks_of_the_whole_row(tags, model_dir, settings):
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    version = make_active_model(tags)
    odd = make_content(title=OFF_TOPIC[0], description=OFF_TOPIC[1])
    usual = make_content(title="Parliament passes the budget", description="The vote ends a month of talks.")
    items = [odd.pk, usual.pk]
    expected = ood_check_contents(version=ModelVersion.objects.get(pk=version.pk), content_ids=items)
    predictions_create(model_version_id=version.pk, content_ids=items)
    written = dict(Content.objects.filter(pk__in=items).values_list("pk", "ood_reasons"))
    assert expected[odd.pk] and written == expected
