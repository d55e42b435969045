"""The dashboard's and monitoring's charts, read in headless Chromium (issue 15, bug 9): reasons in words, no
label cut off at the chart's edge, and a chart of one point that is not mostly empty space."""

import pytest
from django.utils import timezone

from labeling.services import review_task_answer, review_task_next, review_task_open
from predictions.models import DriftCheck
from tests.browser import WIDTHS, log_in
from tests.factories import make_active_model, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)

DRIFT_TESTS = ["predicted-tags", "confidence", "text-length", "oov-share", "domain-classifier", "overall (Bonferroni)"]

# Each chart's text that reaches past its drawing area (the SVG clips it), as "chart: text".
CLIPPED = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
  const box = svg.viewBox.baseVal;
  return [...svg.querySelectorAll('text')].filter(text => {
    const b = text.getBBox();
    return b.x < box.x - 0.5 || b.y < box.y - 0.5 || b.x + b.width > box.x + box.width + 0.5
      || b.y + b.height > box.y + box.height + 0.5;
  }).map(text => `${svg.getAttribute('aria-label')}: ${text.textContent}`);
})"""

# For each chart with points at one place only (one day, one version, one check): how much of its width the
# drawing uses, and how much the page enlarged it (a small drawing stretched to the page's width is empty space too).
ONE_POINT = """() => [...document.querySelectorAll('svg.chart')]
  .filter(svg => new Set([...svg.querySelectorAll('circle')].map(dot => dot.getAttribute('cx'))).size === 1)
  .map(svg => {
    const boxes = [...svg.querySelectorAll('circle, text')].map(mark => mark.getBBox());
    const left = Math.min(...boxes.map(b => b.x)), right = Math.max(...boxes.map(b => b.x + b.width));
    return {chart: svg.getAttribute('aria-label'), used: (right - left) / svg.viewBox.baseVal.width,
            scale: svg.getBoundingClientRect().width / svg.viewBox.baseVal.width};
  })"""


def _one_of_each(tags, annotator):
    """One model version, one day of answers, open items of two reasons, one drift check of all sources."""
    version = make_active_model(tags)
    answered = make_low_confidence_task(confidence=0.2)
    assert review_task_next(user=annotator).pk == answered.pk
    review_task_answer(task_id=answered.pk, user=annotator, tag=tags["mlops"])
    make_low_confidence_task(confidence=0.3)
    review_task_open(content=make_low_confidence_task(confidence=0.9).content, reason="audit_sample")
    now = timezone.now()
    DriftCheck.objects.create(
        window_start=now,
        window_end=now,
        n=40,
        model_version=version,
        drifted=False,
        tests=[{"name": name, "p_value": 0.2 + i / 10} for i, name in enumerate(DRIFT_TESTS)],
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_and_monitoring_charts_are_readable(
    browser, live_server, settings, tmp_path, tags, admin_user, annotator, width
):
    settings.MODEL_DIR = tmp_path / "models"
    _one_of_each(tags, annotator)
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, live_server.url, admin_user.username)

    page.goto(f"{live_server.url}/dashboard/")
    text = page.inner_text("main")
    assert "audit_sample" not in text and "low_confidence" not in text
    assert "audit sample" in text and "low confidence" in text
    clipped = page.evaluate(CLIPPED)
    one_point = page.evaluate(ONE_POINT)
    page.goto(f"{live_server.url}/monitoring/")
    clipped += page.evaluate(CLIPPED)
    one_point += page.evaluate(ONE_POINT)

    assert clipped == [], clipped
    assert {chart["chart"] for chart in one_point} >= {"answers", "holdout F1", "drift p-values"}
    assert [chart for chart in one_point if chart["used"] < 0.6 or chart["scale"] > 1.01] == [], one_point
