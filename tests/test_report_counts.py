"""Counts of wrong-tag reports leave out repeats merged into their reporter's first report."""
import pytest

from labeling.models import ReportStatus, WrongTagReport
from labeling.services import report_create
from predictions.selectors import report_rates
from tests.factories import make_content

pytestmark = pytest.mark.django_db


def test_merged_repeats_do_not_count_in_report_rates(tags):
    content = make_content(current_tag=tags["mlops"], current_model_version=1)
    first, _ = report_create(content=content, reporter_address="1.1.1.1")
    report_create(content=content, reporter_address="2.2.2.2")
    # As the migration leaves a duplicate: a closed copy pointing at the kept report.
    WrongTagReport.objects.create(content=content, shown_tag=tags["mlops"], shown_model_version=1,
                                  reporter_hash="x", status=ReportStatus.MERGED, merged_into=first)
    rates = report_rates()
    assert {row["name"]: row["reports"] for row in rates["by_tag"]}["mlops"] == 2
    assert {row["name"]: row["reports"] for row in rates["by_version"]}.get("v1", 2) == 2
