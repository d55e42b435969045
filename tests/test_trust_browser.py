"""The precision-promise panel of /monitoring/ in headless Chromium, at 1280 and 390 px: the evidence is
readable, the page fits the window, the plot is not clipped, and an admin pins a threshold with the form."""

import pytest

from predictions.models import SourceThreshold
from predictions.services.trust import trust_check
from tests.browser import WIDTHS, log_in
from tests.test_charts_browser import CLIPPED
from tests.test_layout_browser import OVERFLOW
from tests.test_trust import answered_audit, bare_active_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_panel_shows_the_evidence_and_an_admin_pins(
    browser, live_server, settings, tmp_path, tags, admin_user, width
):
    settings.TAGLOOP_TRUST_MIN_AUDITS = 10
    version = bare_active_version(0.6)
    for k in range(30):
        answered_audit(tags, version, source="partner-feed", confidence=0.7 + k / 100, right=k % 4 != 0)
    trust_check()
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/monitoring/")
    row = page.locator('#trust-sources tr[data-source="partner-feed"]')
    assert "everything to review" in row.inner_text()
    assert "22/30 = 0.733" in row.inner_text() and "nothing accepted" in row.inner_text()
    events = page.inner_text("#trust-events")
    assert "threshold raised" in events and "0.600 → everything to review" in events and "audits right" in events
    assert page.locator('svg.chart[aria-label="precision per window"]').count() == 1
    assert page.evaluate(CLIPPED) == []
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["width"], measured
    page.locator("#trust").screenshot(path=tmp_path / f"trust-panel-{width}.png")  # to look at, when it fails

    page.fill('#pin-form input[name="source"]', "partner-feed")
    page.fill('#pin-form input[name="threshold"]', "0.9")
    page.fill('#pin-form input[name="reason"]', "reviewing the partner's new feed")
    page.click("#pin-form button")
    page.wait_for_selector("text=is pinned at 0.900")
    assert "pinned" in page.locator('#trust-sources tr[data-source="partner-feed"]').inner_text()
    assert SourceThreshold.objects.get(source="partner-feed").pinned_by == admin_user
