"""The review screen's rough edges found by trying it as an annotator (issue 15, bugs 1-5), in headless
Chromium at a desktop and a phone width."""

import pytest

from labeling.models import Annotation, ReportStatus, WrongTagReport
from labeling.services import report_create
from tests.browser import (
    WIDTHS,
    log_in,
    press_and_wait_for_next,
    start_reviewing,
    wait_until_ready,
)
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)


def _reported_item(tags):
    content = make_content(title="Serving models with Kubernetes", current_tag=tags["mlops"])
    report, _ = report_create(content=content, reporter_address="203.0.113.9", suggested_tag=tags["computer-vision"])
    return report


@pytest.mark.parametrize("width", WIDTHS)
def test_enter_in_the_note_for_the_reporter_writes_a_new_line_and_never_answers(
    browser, live_server, tags, annotator, width
):
    report = _reported_item(tags)
    page = start_reviewing(browser, live_server.url, annotator, width)
    url = page.url
    page.focus("[name=note]")
    page.keyboard.type("Thanks for telling us.")
    page.keyboard.press("Enter")
    page.keyboard.type("It is about images.")
    page.wait_for_timeout(500)  # an answer, had Enter sent one, would have swapped the item by now
    assert page.url == url
    assert not Annotation.objects.exists()
    assert page.input_value("[name=note]") == "Thanks for telling us.\nIt is about images."

    # Leaving the field gives the keys back: the answer carries the note.
    page.keyboard.press("Tab")
    press_and_wait_for_next(page, str(list(tags).index("computer-vision") + 1))
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    assert report.resolution.endswith("Note from the reviewer: Thanks for telling us.\nIt is about images.")
    assert WrongTagReport.objects.count() == 1


def _fail_with(kind):
    """A route handler: the answer request fails on the network, or the server answers with an error."""
    if kind == "network":
        return lambda route: route.abort("internetdisconnected")
    return lambda route: route.fulfill(status=500, body="Server Error")


@pytest.mark.parametrize(("kind", "width"), [("network", 1280), ("network", 390), ("server", 1280)])
def test_a_failed_answer_says_it_was_not_saved_and_the_keys_work_again(
    browser, live_server, tags, annotator, kind, width
):
    first = make_low_confidence_task(confidence=0.3)
    make_low_confidence_task(confidence=0.5)
    page = start_reviewing(browser, live_server.url, annotator, width)
    url = page.url
    page.route("**/answer", _fail_with(kind))
    page.keyboard.press("1")
    alert = page.locator("#review [role=alert]")
    alert.wait_for(state="visible", timeout=5000)
    assert "not saved" in alert.inner_text().lower()
    wait_until_ready(page)
    assert page.url == url and not Annotation.objects.exists()

    page.unroute("**/answer")
    press_and_wait_for_next(page, "2")
    assert Annotation.objects.get().content_id == first.content_id
    assert not page.locator("#review [role=alert]").is_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_after_the_last_answer_u_undoes_it_from_the_empty_queue_page(browser, live_server, tags, annotator, width):
    task = make_low_confidence_task(confidence=0.3)
    page = start_reviewing(browser, live_server.url, annotator, width)
    page.keyboard.press("1")
    page.wait_for_url(f"{live_server.url}/review/")
    assert "queue is empty" in page.content() and "Press U to undo" in page.content()
    wait_until_ready(page)
    page.keyboard.press("u")
    page.wait_for_url(f"**/review/task/{task.pk}/")
    assert "Undone" in page.content()
    assert Annotation.objects.get().undone_at is not None


def test_the_empty_queue_page_undoes_without_javascript(browser, live_server, tags, annotator):
    task = make_low_confidence_task(confidence=0.3)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 800})
    page = context.new_page()
    log_in(page, live_server.url, annotator.username)
    page.get_by_role("button", name="Start reviewing").click()
    page.wait_for_url(f"**/review/task/{task.pk}/")
    page.get_by_role("button", name="mlops").first.click()
    page.wait_for_url(f"{live_server.url}/review/")
    page.get_by_role("button", name="Undo last answer").click()
    page.wait_for_url(f"**/review/task/{task.pk}/")
    assert Annotation.objects.get().undone_at is not None
    context.close()


def test_queue_filters_belong_to_the_address_and_clearing_them_clears_the_page(browser, live_server, tags, annotator):
    vision = make_low_confidence_task(predicted="computer-vision", confidence=0.3)
    for _ in range(2):
        make_low_confidence_task(predicted="mlops", confidence=0.4)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, live_server.url, annotator.username)
    summary = page.locator("[data-queue-summary]")
    assert summary.inner_text().startswith("3 open items")

    page.select_option("#id_tag", "computer-vision")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/review/?*tag=computer-vision*")
    assert "1 open item matching predicted tag computer-vision" in summary.inner_text()
    page.get_by_role("button", name="Start reviewing").click()
    page.wait_for_url(f"**/review/task/{vision.pk}/")
    wait_until_ready(page)
    page.keyboard.press("2")
    # The filtered queue is done: the page says so, with the filter that emptied it, and the way out.
    page.wait_for_url("**/review/?tag=computer-vision")
    text = summary.inner_text()
    assert "0 open items matching predicted tag computer-vision" in text and "2 open in all" in text
    assert "No more items match your filters" in page.content()
    assert page.get_by_role("link", name="Clear filters").is_visible()

    # A later visit starts from the whole queue.
    page.goto(f"{live_server.url}/review/")
    assert summary.inner_text().startswith("2 open items") and "matching" not in summary.inner_text()
    assert page.input_value("#id_tag") == ""

    # Filtering, then setting every filter back to "any", shows the whole queue again.
    page.select_option("#id_tag", "mlops")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/review/?*tag=mlops*")
    page.select_option("#id_tag", "")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/review/?*tag=&*")
    assert summary.inner_text().startswith("2 open items") and "matching" not in summary.inner_text()
