"""Report rates: merged repeats do not count; a version is charged for, and shown on, what people saw of it."""

import pytest

from labeling.models import ReportStatus, TagOrigin, WrongTagReport
from labeling.services import report_create
from predictions.models import CanaryArm, Prediction
from predictions.selectors import report_rates
from predictions.services import (
    canary_start,
    model_version_promote,
    model_version_rollback,
    predictions_create,
)
from predictions.services.canary import arm_for, content_key
from tests.factories import make_active_model, make_candidate, make_content

pytestmark = pytest.mark.django_db


def test_merged_repeats_do_not_count_in_report_rates(tags):
    content = make_content(current_tag=tags["mlops"], current_tag_origin=TagOrigin.MODEL, current_model_version=1)
    first, _ = report_create(content=content, reporter_address="1.1.1.1")
    report_create(content=content, reporter_address="2.2.2.2")
    # As the migration leaves a duplicate: a closed copy pointing at the kept report.
    WrongTagReport.objects.create(
        content=content,
        shown_tag=tags["mlops"],
        shown_model_version=1,
        reporter_hash="x",
        status=ReportStatus.MERGED,
        merged_into=first,
    )
    rates = report_rates()
    assert {row["name"]: row["reports"] for row in rates["by_tag"]}["mlops"] == 2
    assert {row["name"]: row["reports"] for row in rates["by_version"]}.get("v1", 2) == 2


def test_a_report_on_a_tag_a_person_set_is_charged_to_no_model_version(tags):
    # The item kept the number of the model that tagged it before a person's gold label replaced it.
    content = make_content(current_tag=tags["mlops"], current_tag_origin=TagOrigin.GOLD, current_model_version=1)
    report, _ = report_create(content=content, reporter_address="1.1.1.1")
    assert report.shown_model_version is None
    assert all(row["reports"] == 0 for row in report_rates()["by_version"])


def test_a_versions_shown_items_are_the_ones_its_canary_served_or_it_showed_while_active(tags, model_dir):
    first = make_active_model(tags)
    second = make_candidate("majority")
    canary = canary_start(candidate=second, share=0.3, override_reason="try it")
    ids = [make_content(title=f"graph networks {n}", description="").pk for n in range(40)]
    predictions_create(model_version_id=first.pk, content_ids=ids)  # shadow answers of v2 for the canary's items
    served = {c for c in ids if arm_for(canary, content_key(c)) == CanaryArm.CANDIDATE}
    assert _shown(f"v{second.number}") == len(served)
    model_version_promote(model_version=second, override_reason="after the canary")
    predictions_create(model_version_id=second.pk, content_ids=ids[:10])  # a few seconds as the active model
    model_version_rollback(reason="it tags everything the same")
    # Its queued chunks still run after the rollback: nobody is shown those answers.
    predictions_create(model_version_id=second.pk, content_ids=ids)
    predictions_create(model_version_id=first.pk, content_ids=ids)
    assert Prediction.objects.filter(model_version=second).count() == len(ids)
    assert _shown(f"v{second.number}") == len(served | set(ids[:10]))
    assert _shown(f"v{first.number}") == len(ids)


def _shown(name: str) -> int:
    return {row["name"]: row["shown"] for row in report_rates()["by_version"]}[name]
