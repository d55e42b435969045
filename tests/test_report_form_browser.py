"""Issue 15, bug 8: the item page after a report shows the report to change, not a blank form that "updates" it
with nothing; on an untagged item the form asks for the tag that fits. Headless Chromium, as an end user."""

import pytest
from django.urls import reverse

from labeling.models import WrongTagReport
from tests.browser import WIDTHS
from tests.factories import make_content

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(page, name):
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


@pytest.mark.parametrize("width", WIDTHS)
def test_after_a_report_the_item_page_shows_it_to_change(browser, live_server, tags, width):
    content = make_content(title="Serving models with Kubernetes", current_tag=tags["mlops"])
    item = f"{live_server.url}/content/{content.pk}/"
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(item)
    page.select_option("#id_suggested_tag", "computer-vision")
    page.fill("#id_comment", "It is about images.")
    _submit(page, "Report wrong tag")
    assert "Thank you: your report was received" in page.content()

    page.goto(item)
    assert "You reported this tag" in page.inner_text("#report")
    assert page.input_value("#id_suggested_tag") == "computer-vision"
    assert page.input_value("#id_comment") == "It is about images."
    _submit(page, "Update your report")  # as it is
    assert "Your report is unchanged" in page.content() and "we updated your report" not in page.content()

    page.goto(item)
    page.select_option("#id_suggested_tag", "other")
    _submit(page, "Update your report")
    assert "we updated your report" in page.content()
    report = WrongTagReport.objects.get()
    assert (report.suggested_tag.slug, report.comment) == ("other", "It is about images.")


@pytest.mark.parametrize("width", WIDTHS)
def test_on_an_untagged_item_the_form_asks_for_a_tag(browser, live_server, tags, width):
    content = make_content(title="An item nobody tagged yet")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/content/{content.pk}/")
    options = page.locator("#id_suggested_tag option").all_inner_texts()
    assert "I don't know" not in options and options[0] == "Pick a tag"
    page.get_by_role("button", name="Suggest a tag").click()  # nothing picked: the browser keeps the form
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/content/{content.pk}/") and not WrongTagReport.objects.exists()
    page.select_option("#id_suggested_tag", "computer-vision")
    _submit(page, "Suggest a tag")
    assert WrongTagReport.objects.get().suggested_tag.slug == "computer-vision"


def test_a_suggestion_without_a_tag_on_an_untagged_item_is_refused_without_javascript_too(client, tags):
    content = make_content()
    response = client.post(reverse("labeling:content-report", args=[content.pk]), {"comment": "no idea"})
    assert response.status_code == 400 and "Pick the tag that fits" in response.content.decode()
    assert not WrongTagReport.objects.exists()
