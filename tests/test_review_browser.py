"""The review screen in a real headless Chromium, driven by the keyboard alone."""
import pytest

from labeling.models import Annotation, GoldLabel, ReviewStatus, ReviewTask
from tests.conftest import REPO
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in_with_keys(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.focus("#id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("pw-" + username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/review/")
    # "Start reviewing" takes the focus by itself (autofocus), so Enter starts the queue.
    page.wait_for_function("document.activeElement && document.activeElement.textContent.includes('Start reviewing')")


def test_annotator_clears_twenty_items_with_the_keyboard_alone(browser, live_server, tags, annotator):
    slugs = list(tags)
    tasks = [make_low_confidence_task(confidence=0.30 + i / 100, predicted="mlops",
                                      content=make_content(title=f"Item {i:02d} <b>bold?</b>"))
             for i in range(20)]
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    _log_in_with_keys(page, live_server.url, annotator.username)
    page.keyboard.press("Enter")  # "Start reviewing" has the focus
    keys = []
    for i, task in enumerate(tasks):
        page.wait_for_url(f"**/review/task/{task.pk}/")
        assert page.locator("h1").inner_text() == task.content.title  # escaped, shown as text
        if i == 0:
            page.screenshot(path=str(REPO / "docs" / "review-screen.png"))
        key = "Enter" if i % 5 == 0 else str(1 + i % len(slugs))
        keys.append(key)
        page.keyboard.press(key)
    page.wait_for_url(f"{live_server.url}/review/")
    assert "queue is empty" in page.content()
    answers = dict(Annotation.objects.values_list("review_task_id", "tag__slug"))
    expected = {task.pk: ("mlops" if key == "Enter" else slugs[int(key) - 1]) for task, key in zip(tasks, keys)}
    assert answers == expected
    assert GoldLabel.objects.count() == 20
    assert not ReviewTask.objects.filter(status=ReviewStatus.OPEN).exists()


def test_two_annotators_in_parallel_never_see_the_same_item(browser, live_server, tags, annotator, second_annotator):
    for i in range(6):
        make_low_confidence_task(confidence=0.3 + i / 100)
    pages = {}
    for user in (annotator, second_annotator):
        context = browser.new_context()
        pages[user.username] = context.new_page()
        _log_in_with_keys(pages[user.username], live_server.url, user.username)
        pages[user.username].keyboard.press("Enter")
    seen = {name: [] for name in pages}
    for _round in range(3):
        # Both hold an item at the same time, then both answer.
        for name, page in pages.items():
            page.wait_for_url("**/review/task/*/")
            seen[name].append(page.url)
        for page in pages.values():
            with page.expect_navigation():
                page.keyboard.press("1")
    assert len(set(seen["ann"] + seen["ann2"])) == 6
    assert Annotation.objects.count() == 6
