"""Every view that follows a ``next`` parameter stays on this site (the gold re-queue has its own test)."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

OFF_SITE = ["https://evil.example/phish", "//evil.example/"]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_log_in_never_redirects_off_site(client, annotator, next_url):
    response = client.post(reverse("login"), {"username": "ann", "password": "pw-ann", "next": next_url})
    assert response.status_code == 302 and response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_log_out_never_redirects_off_site(client, annotator, next_url):
    client.force_login(annotator)
    response = client.post(reverse("logout"), {"next": next_url})
    assert "evil.example" not in response.get("Location", "")
