"""The review screen's progress, report keys, "why it is here" and layout (issue 15), in headless Chromium at
1280 and 390 px."""

import pytest

from labeling.models import Annotation, ReportStatus, WrongTagReport
from labeling.services import report_create
from tests.browser import (
    WIDTHS,
    press_and_wait_for_next,
    screenshot_path,
    start_reviewing,
    wait_until_ready,
)
from tests.conftest import REPO
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_progress_shows_what_is_left_by_reason_this_sessions_answers_and_the_daily_goal(
    browser, live_server, settings, tags, annotator, width
):
    settings.TAGLOOP_DAILY_GOAL = 2
    for confidence in (0.3, 0.35, 0.4):
        make_low_confidence_task(confidence=confidence)
    content = make_content(title="Reported", current_tag=tags["mlops"])
    report_create(content=content, reporter_address="203.0.113.9", suggested_tag=tags["computer-vision"])
    page = start_reviewing(browser, live_server.url, annotator, width)
    progress = page.locator("[data-progress]")
    assert progress.locator("[data-left]").inner_text() == "4"
    assert "3 low confidence" in progress.inner_text() and "1 wrong-tag report" in progress.inner_text()
    assert progress.locator("[data-session]").inner_text() == "0"
    assert "0 of 2 today" in progress.locator("[data-goal]").inner_text()

    press_and_wait_for_next(page, "Enter")
    wait_until_ready(page)
    progress = page.locator("[data-progress]")
    assert progress.locator("[data-left]").inner_text() == "3"
    assert progress.locator("[data-session]").inner_text() == "1"
    assert page.evaluate("document.querySelector('[data-progress] > progress').value") == 1
    press_and_wait_for_next(page, "Enter")
    wait_until_ready(page)
    assert "2 of 2 today: goal reached" in page.locator("[data-goal]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_without_a_daily_goal_no_goal_is_shown(browser, live_server, tags, annotator):
    make_low_confidence_task()
    page = start_reviewing(browser, live_server.url, annotator, 1280)
    assert page.locator("[data-progress]").is_visible() and page.locator("[data-goal]").count() == 0


@pytest.mark.parametrize("width", WIDTHS)
def test_a_accepts_the_reporters_suggestion_and_enter_says_it_keeps_the_tag(
    browser, live_server, tags, annotator, width
):
    content = make_content(title="Serving models with Kubernetes", current_tag=tags["mlops"])
    report, _ = report_create(content=content, reporter_address="203.0.113.9", suggested_tag=tags["computer-vision"])
    make_low_confidence_task()
    page = start_reviewing(browser, live_server.url, annotator, width)
    enter = page.locator('button[data-key="Enter"]')
    assert enter.inner_text().startswith("Keep mlops: report wrong")
    accept = page.locator('button[data-key="a"]')
    assert accept.inner_text().startswith("Accept computer-vision")
    page.keyboard.press("?")
    assert page.get_by_text("accept the reporter's suggestion").is_visible()
    page.keyboard.press("?")
    press_and_wait_for_next(page, "a")
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED and report.resolution.startswith("Corrected to computer-vision")
    assert Annotation.objects.get().tag.slug == "computer-vision" and WrongTagReport.objects.count() == 1


def test_a_low_confidence_item_names_the_runner_up(browser, live_server, tags, annotator):
    make_low_confidence_task(confidence=0.4, predicted="mlops")  # the others get 0.2 each
    page = start_reviewing(browser, live_server.url, annotator, 1280)
    line = page.locator("[data-runner-up]").inner_text()
    assert line.startswith("The model hesitated: mlops 0.40, then ") and line.endswith(" 0.20.")


# Each answer button's top edge, and each probability table header's height in lines.
MEASURE = """() => {
  const tops = [...document.querySelectorAll('form.answers button')].map(b => Math.round(b.getBoundingClientRect().top));
  const lines = [...document.querySelectorAll('table.probabilities th')].map(th =>
    th.getBoundingClientRect().height / parseFloat(getComputedStyle(th).lineHeight));
  const buttons = [...document.querySelectorAll('#review button')].map(b => b.getBoundingClientRect().right);
  return {tops, lines, rightmost: Math.max(...buttons), scroll: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_the_review_screen_layout(browser, live_server, tags, annotator, width):
    # The widest case: the longest tag predicted, and a report with a suggestion (one more button).
    probabilities = {"natural-language-processing": 0.45, "computer-vision": 0.3, "mlops": 0.15, "other": 0.1}
    content = make_content(
        title="A long title about many things " * 3,
        current_tag=tags["natural-language-processing"],
        current_probabilities=probabilities,
    )
    report_create(content=content, reporter_address="203.0.113.9", suggested_tag=tags["computer-vision"])
    page = start_reviewing(browser, live_server.url, annotator, width)
    assert page.locator('button[data-key="a"]').is_visible()
    measured = page.evaluate(MEASURE)
    assert measured["scroll"] <= width and measured["rightmost"] <= width, measured
    if width == 1280:
        assert len(set(measured["tops"])) == 1, f"answer buttons on several rows: {measured['tops']}"
        assert measured["lines"] and all(n < 1.5 for n in measured["lines"]), measured["lines"]


@pytest.mark.parametrize("width", WIDTHS)
def test_h_shows_my_recent_answers_and_one_click_changes_one(browser, live_server, tags, annotator, width):
    first = make_low_confidence_task(content=make_content(title="Serving on Kubernetes"), confidence=0.3)
    make_low_confidence_task(confidence=0.35)
    make_low_confidence_task(confidence=0.4)
    page = start_reviewing(browser, live_server.url, annotator, width)
    press_and_wait_for_next(page, str(list(tags).index("computer-vision") + 1))
    wait_until_ready(page)
    current = page.url
    page.keyboard.press("h")
    row = page.locator("[data-history] [data-history-list] li").first
    assert "Serving on Kubernetes" in row.inner_text() and "computer-vision" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    row.get_by_role("button", name="mlops").click()
    page.wait_for_url(current)
    assert "is now mlops" in page.content()
    first.content.refresh_from_db()
    assert first.content.current_tag.slug == "mlops"
    # Still on the item being reviewed: the keys answer it.
    wait_until_ready(page)
    press_and_wait_for_next(page, "4")
    assert Annotation.objects.filter(undone_at__isnull=True).count() == 2


SHOTS = {1280: "review-screen.png", 390: "review-screen-phone.png"}


@pytest.mark.parametrize("width", WIDTHS)
def test_the_review_screen_as_in_the_docs(browser, live_server, settings, tags, annotator, width, tmp_path):
    """The screenshots in docs/ (TAGLOOP_UPDATE_SCREENSHOTS=1): an uncertain item, a session under way, a daily goal."""
    settings.TAGLOOP_DAILY_GOAL = 40
    for i, title in enumerate(["Fine-tuning BERT for legal contracts", "YOLOv8 on a Raspberry Pi"]):
        make_low_confidence_task(content=make_content(title=title), confidence=0.3 + i / 100)
    item = make_content(
        title="Serving transformer models with KServe on Kubernetes",
        description="How we moved our NLP models from notebooks to an autoscaling inference service, "
        "with canary rollouts and request logging.",
    )
    make_low_confidence_task(content=item, predicted="mlops", confidence=0.46)
    make_low_confidence_task(confidence=0.6)
    page = start_reviewing(browser, live_server.url, annotator, width)
    for key in ("1", "2"):
        press_and_wait_for_next(page, key)
        wait_until_ready(page)
    assert "KServe" in page.locator("h1").inner_text()
    page.keyboard.press("g")
    measured = page.evaluate(MEASURE)
    assert measured["scroll"] <= width, measured
    page.screenshot(path=screenshot_path(SHOTS[width], docs=REPO / "docs", tmp=tmp_path), full_page=True)
