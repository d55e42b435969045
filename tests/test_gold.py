"""Gold labels: browse, search, re-queue, export that is spreadsheet-safe and imports back."""

import csv
import io
import json

import pytest
from django.urls import reverse

from labeling.models import GoldLabel, Provenance, ReviewTask, Split
from labeling.parsing import parse_content_bytes
from tests.factories import make_content

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(tags):
    items = [
        ('=HYPERLINK("http://evil")', "formula title", "mlops"),
        ("Vision transformers", "-minus start", "computer-vision"),
        ("Plain title", "@handle and +plus", "other"),
    ]
    for title, description, slug in items:
        content = make_content(title=title, description=description)
        GoldLabel.objects.create(content=content, tag=tags[slug], provenance=Provenance.IMPORTED, split=Split.TRAIN)


def test_browse_search_and_filter(client, labelled, annotator):
    client.force_login(annotator)
    page = client.get(reverse("labeling:gold-list"), {"q": "vision"}).content.decode()
    assert "Vision transformers" in page and "Plain title" not in page
    page = client.get(reverse("labeling:gold-list"), {"tag": "other"}).content.decode()
    assert "Plain title" in page and "Vision transformers" not in page
    assert "Export CSV" not in page and "Send selected back" not in page  # annotators only browse


def test_csv_export_neutralises_formulas_and_imports_back(client, labelled, reviewer, tags):
    client.force_login(reviewer)
    response = client.get(reverse("labeling:gold-export", args=["csv"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    cells = [value for row in rows for value in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert {row["title"] for row in rows} >= {'\'=HYPERLINK("http://evil")'}
    parsed = parse_content_bytes(body, fmt="csv", tags=set(tags))
    assert parsed.errors == []
    assert {row.title for row in parsed.rows} == {'=HYPERLINK("http://evil")', "Vision transformers", "Plain title"}
    assert {row.description for row in parsed.rows} >= {"-minus start", "@handle and +plus"}


def test_jsonl_export_keeps_values_exact(client, labelled, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("labeling:gold-export", args=["jsonl"]), {"tag": "mlops"})
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(rows) == 1 and rows[0]["title"].startswith("=HYPERLINK") and rows[0]["tag"] == "mlops"
    assert rows[0]["provenance"] == "imported" and rows[0]["split"] == "train"


def test_reviewer_sends_gold_labels_back_to_review(client, labelled, reviewer, annotator):
    ids = list(GoldLabel.objects.values_list("content_id", flat=True)[:2])
    client.force_login(annotator)
    assert client.post(reverse("labeling:gold-requeue"), {"content": ids}).status_code == 403
    assert client.get(reverse("labeling:gold-export", args=["csv"])).status_code == 403
    client.force_login(reviewer)
    client.post(reverse("labeling:gold-requeue"), {"content": ids})
    client.post(reverse("labeling:gold-requeue"), {"content": ids})  # twice: still one task each
    tasks = ReviewTask.objects.filter(reason="requeued", status="open")
    assert sorted(tasks.values_list("content_id", flat=True)) == sorted(ids)
    assert {task.predicted_tag for task in tasks} <= {"mlops", "computer-vision", "other"}


def test_anonymous_visitors_are_sent_to_log_in(client, labelled):
    response = client.get(reverse("labeling:gold-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.fixture
def both_splits(tags):
    for title, split in [("Held out paper", Split.HOLDOUT), ("Training paper", Split.TRAIN)]:
        GoldLabel.objects.create(
            content=make_content(title=title), tag=tags["mlops"], provenance=Provenance.IMPORTED, split=split
        )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize(
    "query,named",
    [
        ({"split": "holdout", "tag": "junk"}, ["tag: “junk” is not allowed", "mlops"]),
        ({"split": "holdout", "provenance": "Imported"}, ["provenance: “Imported” is not allowed", "imported"]),
        ({"split": "Holdout"}, ["split: “Holdout” is not allowed; use one of: train, holdout"]),
        ({"split": "holdout", "q": "x" * 201}, ["q: Keep the search to 200 characters (this one has 201)"]),
        ({"spilt": "holdout"}, ["Unknown parameter(s): spilt; the filters are q, tag, provenance, split"]),
    ],
)
def test_an_export_with_a_bad_filter_is_refused_rather_than_widened(client, both_splits, reviewer, fmt, query, named):
    client.force_login(reviewer)
    response = client.get(reverse("labeling:gold-export", args=[fmt]), query)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert all(text in body for text in named), body
    assert "paper" not in body


def test_a_valid_export_filter_still_narrows(client, both_splits, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("labeling:gold-export", args=["csv"]), {"split": "holdout", "tag": "mlops"})
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and "Held out paper" in body and "Training paper" not in body


def test_the_list_shows_a_bad_filter_and_no_rows(client, both_splits, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("labeling:gold-list"), {"split": "holdout", "tag": "junk"}).content.decode()
    assert "No gold labels shown: fix the filter first." in page
    assert "“junk” is not allowed; use one of:" in page
    assert "Held out paper" not in page and "Training paper" not in page
    assert "Export CSV" not in page  # it would be refused
    page = client.get(reverse("labeling:gold-list"), {"split": "holdout", "page": "1"}).content.decode()
    assert "Held out paper" in page and "Training paper" not in page and "fix the filter" not in page


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/phish", "//evil.example/", "/\\evil.example/", "https:evil.example", " //evil.example"],
)
def test_requeue_never_redirects_off_site(client, labelled, reviewer, next_url):
    client.force_login(reviewer)
    content_id = GoldLabel.objects.values_list("content_id", flat=True).first()
    response = client.post(reverse("labeling:gold-requeue"), {"content": [content_id], "next": next_url})
    assert response.status_code == 302 and response["Location"] == reverse("labeling:gold-list")


def test_requeue_goes_back_to_the_filtered_page_it_came_from(client, labelled, reviewer):
    client.force_login(reviewer)
    back = reverse("labeling:gold-list") + "?split=train&page=2"
    response = client.post(reverse("labeling:gold-requeue"), {"content": ["1"], "next": back})
    assert response["Location"] == back
