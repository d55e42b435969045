"""An admin runs a canary in a real headless Chromium: start it, read the comparison, stop it."""

import pytest

from labeling.services import review_task_answer, review_task_next
from predictions.models import Canary
from predictions.services import predictions_create
from tests.browser import log_in, screenshot_path
from tests.conftest import REPO
from tests.factories import make_active_model, make_candidate, make_content
from tests.test_canary import TITLES, _true_tag

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_starts_reads_and_stops_a_canary(browser, live_server, settings, tmp_path, tags, admin_user, annotator):
    settings.MODEL_DIR = tmp_path / "models"
    # No audit draws: an audited item needs more than one answer to get its label, so it would not count as
    # reviewed below, and which ids are drawn depends on the ids earlier tests used.
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    active = make_active_model(tags)
    candidate = make_candidate("majority")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/models/{candidate.number}/")
    page.fill("#id_canary_share_percent", "50")  # with its control group: every item
    page.fill("#id_canary_override_reason", "see how it does on live items")
    page.get_by_role("button", name="Start a canary").click()
    page.wait_for_url(f"{live_server.url}/models/canaries/*/")
    canary = Canary.objects.get(running=True)
    assert canary.share == 0.5 and "Canary started" in page.content()

    # Items arrive and people review some of them; the page then compares both models.
    ids = [make_content(title=title, description="").pk for title in TITLES]
    predictions_create(model_version_id=active.pk, content_ids=ids)
    for _ in range(10):
        task = review_task_next(user=annotator)
        review_task_answer(task_id=task.pk, user=annotator, tag=tags[_true_tag(task.content_id)])
    page.reload()
    table = page.locator("h2:has-text('On the items people reviewed') + table")
    assert "of 10" in table.inner_text()
    assert page.locator("svg").count() >= 1
    page.screenshot(path=screenshot_path("canary-page.png", docs=REPO / "docs", tmp=tmp_path), full_page=True)

    page.fill("input[name=reason]", "the candidate is worse")
    page.get_by_role("button", name="Stop the canary").click()
    page.wait_for_load_state()
    assert "Canary stopped" in page.content() and "ended" in page.locator("h1").inner_text()
    canary.refresh_from_db()
    assert not canary.running and canary.ended_by == admin_user
