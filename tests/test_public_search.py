"""The public content list for end users (issue 15): search and a tag filter, plain words instead of model jargon
with the details on demand, and a page that declares its language."""

import pytest
from django.urls import reverse

from labeling.models import TagOrigin
from tests.factories import make_content

pytestmark = pytest.mark.django_db


def _titles(client, query: str = "") -> list[str]:
    response = client.get(reverse("labeling:content-list") + query)
    assert response.status_code == 200
    return [item.title for item in response.context["page"]]


def test_search_finds_titles_and_descriptions_whatever_the_case(client, tags):
    make_content(title="Serving models on Kubernetes", current_tag=tags["mlops"])
    make_content(title="A tokenizer", description="Runs on KUBERNETES too.")
    make_content(title="Cats and dogs", current_tag=tags["computer-vision"])
    assert sorted(_titles(client, "?q=kubernetes")) == ["A tokenizer", "Serving models on Kubernetes"]
    assert _titles(client, "?q=zebra") == []
    assert "Nothing matches" in client.get("/?q=zebra").content.decode()


def test_the_tag_filter_narrows_and_untagged_finds_items_with_no_tag_yet(client, tags):
    make_content(title="Serving", current_tag=tags["mlops"])
    make_content(title="Detecting", current_tag=tags["computer-vision"])
    make_content(title="Waiting")
    assert _titles(client, "?tag=mlops") == ["Serving"]
    assert _titles(client, "?tag=untagged") == ["Waiting"]
    assert _titles(client, "?q=serving&tag=computer-vision") == []


def test_a_bad_tag_filter_says_so_and_shows_nothing_rather_than_everything(client, tags):
    make_content(title="Serving", current_tag=tags["mlops"])
    response = client.get("/?tag=nope")
    assert response.status_code == 200 and list(response.context["page"]) == []
    assert "“nope” is not allowed" in response.content.decode()


def test_the_pager_keeps_the_search(client, tags):
    for i in range(55):
        make_content(title=f"Kubernetes item {i}", current_tag=tags["mlops"])
    make_content(title="Other thing")
    page = client.get("/?q=kubernetes").content.decode()
    assert "55 items found" in page and "?q=kubernetes&amp;page=2" in page
    assert len(_titles(client, "?q=kubernetes&page=2")) == 5


def test_no_model_jargon_on_public_pages_and_the_details_on_demand(client, tags):
    machine = make_content(
        title="Guessed",
        current_tag=tags["mlops"],
        current_tag_origin=TagOrigin.MODEL,
        current_model_version=1,
        current_tag_confidence=0.8,
    )
    person = make_content(title="Checked", current_tag=tags["mlops"], current_tag_origin=TagOrigin.GOLD)
    listing = client.get("/").content.decode()
    assert "suggested automatically" in listing and "checked by a person" in listing
    assert "model v1" not in listing and "0.80" not in listing
    detail = client.get(reverse("labeling:content-detail", args=[machine.pk])).content.decode()
    assert "suggested automatically" in detail and "model v1" not in detail
    # Details for who asks: a disclosure saying how sure the model was.
    assert "How was this tag chosen?" in detail and "80% sure" in detail and "model version 1" in detail
    detail = client.get(reverse("labeling:content-detail", args=[person.pk])).content.decode()
    assert "A person on our team read this item" in detail


def test_pages_declare_their_language_and_titles_their_direction(client, tags):
    item = make_content(title="مرحبا بالعالم", current_tag=tags["other"])
    for url in ("/", reverse("labeling:content-detail", args=[item.pk]), "/tags/other/"):
        page = client.get(url).content.decode()
        assert '<html lang="en">' in page
    assert 'dir="auto">مرحبا بالعالم' in client.get("/").content.decode()


def test_a_search_matching_more_than_the_cap_says_so_without_counting_them_all(client, tags, monkeypatch):
    from labeling.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for i in range(5):
        make_content(title=f"Kubernetes {i}")
    page = client.get("/?q=kubernetes").content.decode()
    assert "More than 3 items found" in page
    assert "1 item found" in client.get("/?q=kubernetes 4").content.decode()


def test_the_whole_list_counts_only_up_to_the_cap_and_says_where_it_stops(client, tags, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from labeling.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 60)
    for i in range(70):
        make_content(title=f"Item {i}")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("labeling:content-list")).content.decode()
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 61" in sql for sql in counts)  # never a count of the whole table
    assert "page 1 of 2+" in first and "data-list-end" not in first
    last = client.get(reverse("labeling:content-list") + "?page=2")
    assert len(last.context["page"]) == 10  # the 60 newest, 50 and 10
    assert "The list stops at the newest 60 items" in last.content.decode()
    under_cap = client.get(reverse("labeling:content-list") + "?q=item 1").content.decode()
    assert "+" not in under_cap.split("page 1 of ")[1][:3] and "data-list-end" not in under_cap


def test_short_and_caseless_queries_find_cjk_words(client, tags):
    make_content(title="深層学習による画像認識")
    make_content(title="Other", description="自然语言处理入门: 画像")
    make_content(title="Ai for all")
    assert sorted(_titles(client, "?q=画像")) == ["Other", "深層学習による画像認識"]
    assert _titles(client, "?q=AI") == ["Ai for all"]
