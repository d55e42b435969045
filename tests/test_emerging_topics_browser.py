"""An admin turns an emerging topic into a tag in a real headless Chromium, at 1280 and 390 px."""

import pytest

from labeling.models import ReviewReason, ReviewTask, Tag
from predictions.services import emerging_topics_refresh
from tests.browser import log_in
from tests.factories import make_active_model
from tests.test_emerging_topics import stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_turns_an_emerging_topic_into_a_tag(browser, live_server, settings, tmp_path, tags, admin_user, width):
    settings.MODEL_DIR = tmp_path / "models"
    settings.TAGLOOP_AUDIT_SHARE = 0.0
    stream(make_active_model(tags))
    topic = emerging_topics_refresh()[0]
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/monitoring/")
    card = page.locator(f"[data-emerging-topic='{topic.pk}']")
    assert "quantum" in card.inner_text()
    button = card.get_by_role("button", name="Turn into a tag")
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width  # reachable without scrolling sideways
    card.locator("input[name=slug]").fill("quantum-ml")
    card.locator("input[name=name]").fill("Quantum ML")
    button.click()
    page.wait_for_load_state()
    assert "Tag 'quantum-ml' created" in page.locator(".messages").inner_text()
    assert "turned into quantum-ml" in page.locator(f"[data-emerging-topic='{topic.pk}']").inner_text()
    tag = Tag.objects.get(slug="quantum-ml")
    assert ReviewTask.objects.filter(reason=ReviewReason.EMERGING_TOPIC).count() == len(topic.content_ids)
    assert tag.name == "Quantum ML"
