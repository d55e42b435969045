"""Every page a logged-in user sees fits the window, a phone's 390 px too, without scrolling sideways
(issue 15, bug 4)."""

import json

import pytest

from tests.browser import WIDTHS, log_in
from tests.factories import make_active_model, make_content, make_low_confidence_task

pytestmark = pytest.mark.django_db(transaction=True)

# The widest element of the page past the viewport's right edge, to name it when the test fails.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => {
      const classes = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes;
      return `${name} (${Math.round(el.getBoundingClientRect().right)} px)`;
    });
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_logged_in_pages_fit_the_window_width(browser, live_server, settings, tmp_path, tags, admin_user, width):
    settings.MODEL_DIR = tmp_path / "models"
    version = make_active_model(tags)
    task = make_low_confidence_task(content=make_content(title="A long title " * 8))
    page = browser.new_page(viewport={"width": width, "height": 800})
    log_in(page, live_server.url, admin_user.username)
    paths = [
        "/",
        f"/content/{task.content_id}/",
        "/review/",
        f"/review/task/{task.pk}/",
        "/dashboard/",
        "/quality/",
        "/gold/",
        "/models/",
        f"/models/{version.number}/",
        "/monitoring/",
        "/accounts/password_change/",
    ]
    too_wide = {}
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"]:
            too_wide[path] = measured
    assert not too_wide, json.dumps(too_wide, indent=1)
