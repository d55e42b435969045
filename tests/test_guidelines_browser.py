"""Tag guidelines (issue 15): admins write a definition and examples per tag; annotators toggle them on the review
screen with G (the ? list names the key); end users reach them from every tag link. Headless Chromium at 1280 and
390 px."""

import pytest
from django.urls import reverse

from labeling.models import Tag
from tests.browser import WIDTHS, log_in, log_in_with_keys, wait_until_ready
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_edits_a_guideline_in_the_admin(client, tags, admin_user):
    client.force_login(admin_user)
    tag = tags["mlops"]
    url = reverse("admin:labeling_tag_change", args=[tag.pk])
    page = client.get(url).content.decode()
    assert 'name="definition"' in page and 'name="examples"' in page
    response = client.post(
        url,
        {
            "slug": "mlops",
            "name": "MLOps",
            "position": tag.position,
            "is_active": "on",
            "definition": "Shipping models.",
            "examples": "Serving with KServe\n\nFeature stores\n",
        },
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.definition == "Shipping models." and tag.example_lines == ["Serving with KServe", "Feature stores"]


def test_the_default_tags_come_with_guidelines(tags):
    assert all(tag.definition and tag.example_lines for tag in Tag.objects.all())


@pytest.mark.parametrize("width", WIDTHS)
def test_g_toggles_the_guidelines_on_the_review_screen_and_they_stay_open_on_the_next_item(
    browser, live_server, tags, annotator, width
):
    Tag.objects.filter(slug="mlops").update(definition="Getting models to production.", examples="KServe\nMLflow")
    make_low_confidence_task(confidence=0.3)
    make_low_confidence_task(confidence=0.35)
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in_with_keys(page, live_server.url, annotator.username)
    page.keyboard.press("Enter")
    page.wait_for_url("**/review/task/*/")
    wait_until_ready(page)

    panel = page.locator("details[data-guidelines]")
    definition = panel.get_by_text("Getting models to production.")
    assert not definition.is_visible()
    page.keyboard.press("?")
    assert page.locator("details[data-help]").get_by_text("show or hide the tag guidelines").is_visible()
    page.keyboard.press("?")
    page.keyboard.press("g")
    assert definition.is_visible() and panel.get_by_text("MLflow").is_visible()
    # Fits the width: the panel never makes the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # The next item keeps the panel as the annotator left it.
    before = page.url
    page.keyboard.press("2")
    page.wait_for_function("before => location.href !== before", arg=before)
    wait_until_ready(page)
    assert page.locator("details[data-guidelines]").get_by_text("Getting models to production.").is_visible()
    page.keyboard.press("g")
    assert not page.locator("details[data-guidelines]").get_by_text("Getting models to production.").is_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_public_tag_links_lead_to_the_guideline(browser, live_server, tags, width):
    Tag.objects.filter(slug="computer-vision").update(
        definition="Models that work on images or video.", examples="YOLO\nNot this tag: serving"
    )
    content = make_content(title="Detecting cats", current_tag=tags["computer-vision"])
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(live_server.url + "/")
    link = page.locator("a.tag", has_text="computer-vision")
    # The definition on hover or long-press, without leaving the list.
    assert link.get_attribute("title") == "Models that work on images or video."
    link.click()
    page.wait_for_url("**/tags/computer-vision/")
    assert page.locator("[data-definition]").inner_text() == "Models that work on images or video."
    assert page.locator("[data-examples] li").all_inner_texts() == ["YOLO", "Not this tag: serving"]
    page.get_by_role("link", name="All items tagged computer-vision").click()
    page.wait_for_url("**/?tag=computer-vision")
    assert page.get_by_role("link", name="Detecting cats").is_visible()
    page.goto(f"{live_server.url}/content/{content.pk}/")
    page.locator("a.tag", has_text="computer-vision").click()
    page.wait_for_url("**/tags/computer-vision/")


def test_an_unknown_tag_page_is_404(client, tags):
    assert client.get("/tags/no-such-tag/").status_code == 404


def test_the_review_screen_guidelines_work_without_javascript(browser, live_server, tags, annotator):
    Tag.objects.filter(slug="other").update(definition="None of the above.")
    task = make_low_confidence_task()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, annotator.username)
    page.goto(f"{live_server.url}/review/task/{task.pk}/")
    page.locator("details[data-guidelines] summary").click()
    assert page.get_by_text("None of the above.").is_visible()
    context.close()
