"""The public pages as an end user uses them (issue 15), in headless Chromium at 1280 and 390 px: search and the tag
filter, plain words with the details on demand, CJK titles drawn with real glyphs (not tofu boxes); and the gold
browser's change form as a reviewer."""

import pytest
from django.db import transaction

from labeling.models import Annotation, GoldLabel, Provenance, TagOrigin
from labeling.services import gold_label_set
from tests.browser import WIDTHS, log_in
from tests.factories import make_content

pytestmark = pytest.mark.django_db(transaction=True)

CJK_TITLE = "深層学習による画像認識"


@pytest.mark.parametrize("width", WIDTHS)
def test_an_end_user_searches_and_filters_the_list(browser, live_server, tags, width):
    make_content(
        title="Serving models on Kubernetes",
        current_tag=tags["mlops"],
        current_tag_origin=TagOrigin.MODEL,
        current_model_version=3,
        current_tag_confidence=0.91,
    )
    make_content(title="Kubernetes for image pipelines", current_tag=tags["computer-vision"])
    make_content(title="Attention is all you need", current_tag=tags["natural-language-processing"])
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox").fill("kubernetes")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=kubernetes*")
    assert page.locator("[data-results]").inner_text() == "2 items found."
    page.select_option("#id_tag", "mlops")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=kubernetes&tag=mlops")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "Serving models on Kubernetes" in rows.inner_text()
    assert "suggested automatically" in rows.inner_text() and "0.91" not in rows.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("link", name="Serving models on Kubernetes").click()
    page.get_by_text("How was this tag chosen?").click()
    assert page.get_by_text("91% sure").is_visible()
    page.goto(live_server.url + "/?q=kubernetes")
    page.get_by_role("link", name="Show all").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("table.list tbody tr").count() == 3


# One <span> per character, in the title's own font, so each can be screenshotted alone.
GLYPHS = """(chars) => {
  const font = getComputedStyle(document.querySelector('h1')).font;
  return chars.map((ch, i) => {
    const span = document.createElement('span');
    span.id = 'glyph-' + i;
    span.textContent = ch;
    span.style.font = font;
    span.style.display = 'inline-block';
    document.body.append(span);
    return span.getBoundingClientRect().width;
  });
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_a_cjk_title_is_drawn_with_real_glyphs(browser, live_server, tags, width):
    content = make_content(title=CJK_TITLE, current_tag=tags["computer-vision"])
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(f"{live_server.url}/content/{content.pk}/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == CJK_TITLE
    # A character no font has is drawn as the "missing glyph" box: every missing character looks the same.
    chars = ["深", "層", "画", "認", "\U0010fffd"]
    widths = page.evaluate(GLYPHS, chars)
    assert all(w > 0 for w in widths), widths
    shots = [page.locator(f"#glyph-{i}").screenshot() for i in range(len(chars))]
    tofu = shots[-1]
    assert all(shot != tofu for shot in shots[:-1]), "CJK characters drawn as missing-glyph boxes"
    assert len(set(shots[:-1])) == len(chars) - 1, "different CJK characters drawn alike: boxes, not glyphs"
    # And in the list, where the title is a link.
    page.goto(live_server.url + "/")
    assert page.get_by_role("link", name=CJK_TITLE).is_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reviewer_changes_a_gold_label_from_the_gold_browser(browser, live_server, tags, reviewer, width):
    content = make_content(title="Serving models", current_tag=tags["mlops"])
    with transaction.atomic():
        gold_label_set(content=content, tag=tags["computer-vision"], provenance=Provenance.IMPORTED)
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, live_server.url, reviewer.username)
    page.goto(live_server.url + "/gold/")
    page.get_by_role("link", name="change").click()
    page.wait_for_url(f"**/gold/{content.pk}/#change")
    page.select_option("#id_tag", "mlops")
    page.fill("#id_note", "It is about serving, not images.")
    page.get_by_role("button", name="Change the gold label").click()
    page.wait_for_url(f"**/gold/{content.pk}/")
    assert "Gold label changed to mlops (version 2)" in page.content()
    assert page.locator("[data-history]").get_by_text("It is about serving, not images.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    label = GoldLabel.objects.get(content=content)
    assert (label.tag.slug, label.decided_by, label.provenance) == ("mlops", reviewer, Provenance.ANNOTATOR)
    assert Annotation.objects.get().note == "It is about serving, not images."
