"""The models page in headless Chromium with a real worker (issue 15, bug 6): the F1 chart gains the new version
when its retrain finishes, without a reload, and shows the figure the table shows."""

import pytest

from predictions.models import ModelStatus, ModelVersion
from predictions.services import model_version_promote
from tests.browser import log_in
from tests.factories import make_candidate, make_gold_dataset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_the_f1_chart_gains_a_version_when_its_retrain_finishes(
    browser, live_server, celery_worker_process, settings, tags, admin_user
):
    settings.MODEL_DIR = celery_worker_process["model_dir"]
    make_gold_dataset(tags)
    model_version_promote(model_version=make_candidate())
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/models/")
    chart = page.locator("#f1-chart svg")
    assert chart.locator("title").all_text_contents() == [f"v1: {ModelVersion.objects.get(number=1).weighted_f1:.3f}"]
    page.evaluate("window.sameDocument = true")

    page.get_by_role("button", name="Retrain").click()
    page.wait_for_url(f"{live_server.url}/models/")
    page.evaluate("window.sameDocument = true")  # the redirect after the POST loaded the page; from here, no load
    page.locator("#f1-chart title", has_text="v2:").wait_for(state="attached", timeout=120_000)
    assert page.evaluate("window.sameDocument === true")

    second = ModelVersion.objects.get(number=2)
    assert second.status == ModelStatus.CANDIDATE
    shown = f"{second.weighted_f1:.3f}"
    assert chart.locator("title").all_text_contents()[-1] == f"v2: {shown}"
    assert page.locator("#version-2 td").nth(5).inner_text() == f"{shown} on {second.holdout_count} items"
    assert "as it was when the version was trained" in page.locator("#f1-chart").inner_text()
