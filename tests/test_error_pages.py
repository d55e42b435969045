"""Error pages are the app's own: styled, with a way back, and the 500 page needs no context."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse


@pytest.mark.django_db
def test_not_found_and_not_allowed_pages_offer_a_way_back(client, django_user_model):
    missing = client.get("/content/999999/")
    assert missing.status_code == 404 and "Not found" in missing.content.decode()
    plain = django_user_model.objects.create_user("plain", password="x")
    client.force_login(plain)
    refused = client.get(reverse("predictions:model-list"))
    page = refused.content.decode()
    assert refused.status_code == 403 and "Not allowed" in page and "Ask an admin" in page
    assert reverse("labeling:content-list") in page


def test_the_server_error_page_renders_without_a_request():
    page = render_to_string("500.html")
    assert "Something went wrong" in page and "tagloop.css" in page


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_problem_json_404_and_pages_keep_the_html_one(client):
    for path in ("/api/v1/content/abc/reports", "/api/v1/nothing-here"):
        response = client.post(path, {}, content_type="application/json")
        assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": f"No endpoint or object at {path}.",
        }
    page = client.get("/no-such-page/")
    assert (
        page.status_code == 404
        and page["Content-Type"].startswith("text/html")
        and "Not found" in page.content.decode()
    )
