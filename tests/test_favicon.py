"""Every page names tagloop's icon, so no browser asks for /favicon.ico (a 404 logged per page)."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["admin:index", "admin:labeling_content_import", "labeling:content-list"])
def test_pages_and_admin_pages_link_the_icon(client, admin_user, url_name):
    client.force_login(admin_user)
    page = client.get(reverse(url_name))
    assert page.status_code == 200
    assert 'rel="icon"' in page.content.decode() and "favicon.svg" in page.content.decode()
