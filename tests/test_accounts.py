"""Account pages: password reset only with a mail server; password change in the site's own look."""
import importlib

import pytest
from django.core import mail
from django.urls import clear_url_caches, reverse

import config.urls

pytestmark = pytest.mark.django_db

RESET_PATHS = ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/set-password/",
               "/accounts/reset/done/"]


def _reload_urls():
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def no_mail_server(settings):
    settings.TAGLOOP_PASSWORD_RESET = False
    _reload_urls()
    yield
    settings.TAGLOOP_PASSWORD_RESET = bool(settings.EMAIL_URL)
    _reload_urls()


@pytest.fixture
def mail_server(settings):
    settings.TAGLOOP_PASSWORD_RESET = True  # EMAIL_URL set; the tests' locmem backend collects the mails
    _reload_urls()
    yield
    settings.TAGLOOP_PASSWORD_RESET = bool(settings.EMAIL_URL)
    _reload_urls()


@pytest.mark.parametrize("path", RESET_PATHS)
def test_without_a_mail_server_the_reset_pages_are_not_there(client, no_mail_server, path):
    assert client.get(path).status_code == 404


def test_without_a_mail_server_the_login_page_says_how_to_get_a_new_password(client, no_mail_server):
    page = client.get(reverse("login")).content.decode()
    assert "Ask an admin to set a new one" in page and "manage.py changepassword" in page
    assert "/accounts/password_reset/" not in page


def test_with_a_mail_server_a_reset_mails_a_link_from_the_sites_own_pages(client, mail_server, annotator):
    annotator.email = "ann@example.org"
    annotator.save()
    assert 'href="/accounts/password_reset/"' in client.get(reverse("login")).content.decode()
    page = client.get(reverse("password_reset")).content.decode()
    assert "Reset your password · tagloop" in page and "Django site admin" not in page
    done = client.post(reverse("password_reset"), {"email": "ann@example.org"}, follow=True).content.decode()
    assert "Check your email · tagloop" in done
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_a_logged_in_user_changes_their_password_on_the_sites_own_pages(client, annotator):
    client.force_login(annotator)
    page = client.get(reverse("password_change")).content.decode()
    assert "Change your password · tagloop" in page and "Django site admin" not in page
    assert 'href="/accounts/password_change/"' in client.get(reverse("labeling:content-list")).content.decode()
    new = "a-much-longer-passphrase-42"
    done = client.post(
        reverse("password_change"), {"old_password": "pw-ann", "new_password1": new, "new_password2": new}, follow=True
    ).content.decode()
    assert "Password changed · tagloop" in done
    annotator.refresh_from_db()
    assert annotator.check_password(new)
