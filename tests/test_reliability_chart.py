"""The reliability diagram on a model's page: one point per non-empty bin and model, on the right spot."""

import re

import pytest
from django.urls import reverse

from common.templatetags.charts import reliability_chart
from ml.calibration import calibration_report
from tests.factories import make_active_model


def _circles(svg: str) -> list[tuple[float, float, str]]:
    return [
        (float(x), float(y), title)
        for x, y, title in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>([^<]*)</title>', svg)
    ]


def test_points_sit_at_each_bins_confidence_and_accuracy_and_empty_bins_are_skipped():
    # Bin [0.9, 1.0): 4 items at 0.95, 3 right. Bin [0.5, 0.6): 2 items at 0.55, 1 right. Others empty.
    report = calibration_report([0.95] * 4 + [0.55] * 2, [True, True, True, False, True, False])
    svg = str(reliability_chart([("v2", report)], size=236))  # plot area 164 px from 36 to 200
    circles = _circles(svg)
    assert len(circles) == 2
    by_title = {title.split(" at ")[1]: (x, y) for x, y, title in circles}
    assert by_title["confidence 0.950, right 0.750"] == pytest.approx((36 + 164 * 0.95, 36 + 164 * 0.25), abs=0.05)
    assert by_title["confidence 0.550, right 0.500"] == pytest.approx((36 + 164 * 0.55, 36 + 164 * 0.5), abs=0.05)
    assert 'aria-label="reliability diagram"' in svg and ">v2<" in svg


@pytest.mark.django_db
def test_a_candidates_page_draws_both_models_in_the_reliability_diagram(client, tags, model_dir, admin_user):
    from predictions.models import ModelVersion
    from predictions.services import model_version_train

    make_active_model(tags)
    candidate = ModelVersion.objects.create(number=2, algorithm="majority", params={"random_state": 0})
    model_version_train(model_version_id=candidate.pk)
    client.force_login(admin_user)
    page = client.get(reverse("predictions:model-detail", args=[2])).content.decode()
    svg = page.split('aria-label="reliability diagram"')[1].split("</svg>")[0]
    titles = [title for _, _, title in _circles(svg)]
    assert any(t.startswith("v2:") for t in titles) and any(t.startswith("active v1:") for t in titles)


def test_legend_entries_do_not_overlap_however_long_the_names():
    from common.templatetags.charts import _legend

    names = ["items with a report accepted by reviewers", "b", "another fairly long series name"]
    starts = [float(x) for x in re.findall(r'<rect x="([\d.]+)"', str(_legend(names, y=20, width=10_000)))]
    for (start, name), following in zip(zip(starts, names), starts[1:]):
        assert following >= start + 14 + 6 * len(name)  # the swatch, then the name at >= 6 px a character


def test_legend_entries_that_would_pass_the_right_edge_start_a_new_row():
    from common.templatetags.charts import legend_places

    names = ["predicted-tags", "confidence", "text-length", "oov-share", "domain-classifier", "overall (Bonferroni)"]
    places = legend_places(names, swatch=26, left=48, width=360)
    assert places[0] == (48, 0) and max(row for _, row in places) >= 2
    for (x, row), name in zip(places, names):
        alone = sum(1 for _, other in places if other == row) == 1
        assert alone or x + 26 + 6 * len(name) <= 360, name
