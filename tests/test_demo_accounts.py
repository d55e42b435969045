"""Issue 15, bug 10: `make run`'s demo accounts: one per role, and a restart keeps their passwords (and everyone
logged in) unless asked for new ones."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _accounts(capsys) -> dict[str, str]:
    """username -> password, as the command printed them."""
    return dict(re.findall(r"(\w+) / (\S+)", capsys.readouterr().out))


def test_one_account_per_role_each_with_its_role(capsys):
    call_command("create_demo_accounts")
    passwords = _accounts(capsys)
    assert set(passwords) == {"admin", "reviewer", "annotator"}
    users = {user.username: user for user in get_user_model().objects.all()}
    for name, password in passwords.items():
        assert users[name].check_password(password)
    assert users["reviewer"].has_perm("labeling.view_quality") and users["reviewer"].has_perm("labeling.adjudicate")
    assert not users["annotator"].has_perm("labeling.view_quality")
    assert users["admin"].is_superuser and not users["reviewer"].is_staff


def test_a_restart_keeps_the_passwords_and_the_sessions(client, capsys):
    call_command("create_demo_accounts")
    passwords = _accounts(capsys)
    assert client.login(username="reviewer", password=passwords["reviewer"])
    call_command("create_demo_accounts")
    out = capsys.readouterr().out
    assert re.findall(r"(\w+) / (\S+)", out) == []  # no password printed again
    assert "admin, reviewer, annotator: unchanged" in out and "--reset" in out
    for name, password in passwords.items():
        assert get_user_model().objects.get(username=name).check_password(password)
    assert client.get(reverse("labeling:quality")).status_code == 200  # still logged in


def test_reset_gives_new_passwords(capsys):
    call_command("create_demo_accounts")
    old = _accounts(capsys)
    call_command("create_demo_accounts", "--reset")
    new = _accounts(capsys)
    assert set(new) == set(old) and all(new[name] != old[name] for name in old)
    assert get_user_model().objects.get(username="annotator").check_password(new["annotator"])
