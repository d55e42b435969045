"""The review screen in a real headless Chromium, driven by the keyboard alone."""

import pytest

from labeling.models import Annotation, GoldLabel, ReviewStatus, ReviewTask
from tests.browser import log_in_with_keys, press_and_wait_for_next, wait_until_ready
from tests.factories import make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_annotator_clears_twenty_items_with_the_keyboard_alone(browser, live_server, tags, annotator):
    slugs = list(tags)
    tasks = [
        make_low_confidence_task(
            confidence=0.30 + i / 100, predicted="mlops", content=make_content(title=f"Item {i:02d} <b>bold?</b>")
        )
        for i in range(20)
    ]
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    log_in_with_keys(page, live_server.url, annotator.username)
    page.keyboard.press("Enter")  # "Start reviewing" has the focus
    keys = []
    for i, task in enumerate(tasks):
        page.wait_for_url(f"**/review/task/{task.pk}/")
        assert page.locator("h1").inner_text() == task.content.title  # escaped, shown as text
        if i == 0:
            page.evaluate("window.sameDocument = true")
        if i == len(tasks) - 1:
            # Every item after the first arrived by htmx, without a page load.
            assert page.evaluate("window.sameDocument === true")
        key = "Enter" if i % 5 == 0 else str(1 + i % len(slugs))
        keys.append(key)
        wait_until_ready(page)
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
        log_in_with_keys(pages[user.username], live_server.url, user.username)
        pages[user.username].keyboard.press("Enter")
    seen = {name: [] for name in pages}
    for _round in range(3):
        # Both hold an item at the same time, then both answer.
        for name, page in pages.items():
            page.wait_for_url("**/review/task/*/")
            wait_until_ready(page)
            seen[name].append(page.url)
        for page in pages.values():
            press_and_wait_for_next(page, "1")
    assert len(set(seen["ann"] + seen["ann2"])) == 6
    assert Annotation.objects.count() == 6


def test_undo_and_help_keys(browser, live_server, tags, annotator):
    first = make_low_confidence_task(confidence=0.3)
    make_low_confidence_task(confidence=0.5)
    page = browser.new_page()
    log_in_with_keys(page, live_server.url, annotator.username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/task/{first.pk}/")
    wait_until_ready(page)
    page.keyboard.press("?")
    assert page.locator("details[data-help]").get_attribute("open") is not None
    press_and_wait_for_next(page, "2")
    assert GoldLabel.objects.get(content=first.content).tag.slug == list(tags)[1]
    press_and_wait_for_next(page, "u")
    assert page.url.endswith(f"/review/task/{first.pk}/")
    assert "Undone" in page.content()
    assert not GoldLabel.objects.filter(content=first.content).exists()
    press_and_wait_for_next(page, "3")
    assert GoldLabel.objects.get(content=first.content).tag.slug == list(tags)[2]
    assert Annotation.objects.filter(content=first.content, undone_at__isnull=False).count() == 1


def test_back_after_an_answer_reloads_the_answered_item_from_the_server(browser, live_server, tags, annotator):
    first = make_low_confidence_task(confidence=0.3)
    second = make_low_confidence_task(confidence=0.5)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_with_keys(page, live_server.url, annotator.username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/task/{first.pk}/")
    press_and_wait_for_next(page, "1")
    assert page.url.endswith(f"/review/task/{second.pk}/")
    page.go_back()
    # Not a stale snapshot of the answered item: the server says it was answered.
    page.wait_for_selector("text=That item was already answered.")
    assert "Saved:" not in page.content()
    assert errors == []
    page.goto(f"{live_server.url}/review/task/{second.pk}/")
    press_and_wait_for_next(page, "2")
    assert Annotation.objects.filter(content=second.content).count() == 1
