"""Account pages: password reset only with a mail server; password change in the site's own look."""

import importlib

import pytest
from django.core import mail
from django.urls import clear_url_caches, reverse

import config.urls

pytestmark = pytest.mark.django_db

RESET_PATHS = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


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
    assert "Ask whoever runs this tagloop for a new one" in page and "manage.py changepassword" in page
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


def test_a_wrong_password_is_told_once(client, annotator):
    page = client.post(reverse("login"), {"username": "ann", "password": "wrong"}).content.decode()
    assert page.count("Please enter a correct username and password") == 1
    assert "didn't match" not in page


def test_logging_in_leads_the_team_to_the_queue_and_a_user_without_a_role_to_the_content(client, annotator, plain_user):
    for user, landing in (
        (annotator, reverse("labeling:review-queue")),
        (plain_user, reverse("labeling:content-list")),
    ):
        response = client.post(
            reverse("login"), {"username": user.username, "password": "pw-" + user.username}, follow=True
        )
        assert response.redirect_chain[-1][0] == landing and response.status_code == 200
        if user == plain_user:
            assert "no role yet" in response.content.decode()
        client.logout()


def test_the_admin_link_shows_for_the_admin_role_without_a_staff_flag(client, django_user_model, annotator):
    from django.contrib.auth.models import Group

    role_only = django_user_model.objects.create_user(username="boss4", password="pw-boss4")
    role_only.groups.add(Group.objects.get(name="admin"))
    for user, shown in ((role_only, True), (annotator, False)):
        client.force_login(user)
        page = client.get(reverse("labeling:content-list")).content.decode()
        assert ('href="/admin/"' in page) == shown, user
