"""Production settings: the secret key is never a public one, and the documented environment passes check --deploy."""

import json
import multiprocessing
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from config.secret_key import WeakSecret, generated_key, secret_key_setting, weakness

REPO = Path(__file__).resolve().parent.parent
STRONG = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"  # 56 characters, 37 different


# --- the key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "short",
        "insecure-dev-key-change-me-in-production",
        "django-insecure-" + "x9" * 40,
        "ab" * 40,
    ],
)
def test_weak_keys_are_named_as_such(value):
    assert weakness(value)


def test_a_long_random_key_is_strong():
    assert weakness(STRONG) is None


@pytest.mark.parametrize("value", ["short", "insecure-dev-key-change-me-in-production", ""])
def test_with_debug_off_a_weak_key_refuses_to_start_naming_the_variable(value, tmp_path):
    with pytest.raises(WeakSecret, match="DJANGO_SECRET_KEY"):
        secret_key_setting({"DJANGO_SECRET_KEY": value}, debug=False, var_dir=tmp_path)


def test_with_debug_on_any_key_is_taken(tmp_path):
    assert secret_key_setting({"DJANGO_SECRET_KEY": "dev"}, debug=True, var_dir=tmp_path) == ("dev", False)


def test_a_strong_key_is_taken_as_it_is(tmp_path):
    assert secret_key_setting({"DJANGO_SECRET_KEY": STRONG}, debug=False, var_dir=tmp_path) == (STRONG, False)
    assert not (tmp_path / "secret_key").exists()


def test_without_a_key_one_is_generated_once_private_and_kept(tmp_path):
    first, generated = secret_key_setting({}, debug=False, var_dir=tmp_path)
    assert generated and weakness(first) is None
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert secret_key_setting({}, debug=False, var_dir=tmp_path) == (first, True)
    assert secret_key_setting({}, debug=False, var_dir=tmp_path / "elsewhere")[0] != first


def test_processes_starting_at_once_all_get_the_same_generated_key(tmp_path):
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.map(generated_key, [tmp_path] * 12)
    assert len(set(keys)) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


# --- in a real process -------------------------------------------------------------


def _environment(tmp_path, **extra) -> dict:
    """This process's environment without any Django/tagloop setting, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TAGLOOP_"))}
    return {**base, "TAGLOOP_VAR_DIR": str(tmp_path), **extra}


# manage.py's default (development, what `make run` uses) and what the image sets: both as strict.
SETTINGS_MODULES = pytest.mark.parametrize(
    "module", [{}, {"DJANGO_SETTINGS_MODULE": "config.settings.production"}], ids=["default", "production"]
)


def _manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def documented_production_environment() -> dict:
    """The block between "=== production ===" and "=== end production ===" of .env.example."""
    text = (REPO / ".env.example").read_text()
    block = text.split("# === production ===", 1)[1].split("# === end production ===", 1)[0]
    pairs = re.findall(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", block, flags=re.MULTILINE)
    return dict(pairs)


@SETTINGS_MODULES
def test_the_server_refuses_to_start_on_a_short_key(tmp_path, module):
    result = _manage(_environment(tmp_path, DJANGO_SECRET_KEY="change-me", **module), "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY has 9 characters" in result.stderr


@SETTINGS_MODULES
def test_a_weak_reporter_salt_is_refused_too(tmp_path, module):
    result = _manage(_environment(tmp_path, DJANGO_SECRET_KEY=STRONG, TAGLOOP_REPORTER_SALT="salt", **module), "check")
    assert result.returncode != 0 and "TAGLOOP_REPORTER_SALT has 4 characters" in result.stderr


@SETTINGS_MODULES
def test_the_documented_production_environment_passes_check_deploy_without_a_warning(tmp_path, module):
    production = documented_production_environment()
    assert {
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_SECURE_COOKIES",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
        "TAGLOOP_NUM_PROXIES",
        "DJANGO_SECRET_KEY",
    } <= set(production)
    production["DJANGO_SECRET_KEY"] = STRONG  # the placeholder says what to put there
    result = _manage(_environment(tmp_path, **production, **module), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@SETTINGS_MODULES
def test_check_deploy_warns_without_the_production_environment(tmp_path, module):
    """The test above can fail: the same check names what is missing when nothing is set."""
    result = _manage(_environment(tmp_path, **module), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    found = set(re.findall(r"\((\w+\.W\d+)\)", result.stdout + result.stderr))
    assert {"security.W004", "security.W008", "security.W012", "security.W016", "tagloop.W001"} <= found


@SETTINGS_MODULES
def test_the_production_environment_reaches_the_settings(tmp_path, module):
    production = {**documented_production_environment(), "DJANGO_SECRET_KEY": STRONG}
    script = (
        "from django.conf import settings as s; import json; print(json.dumps([s.SECURE_PROXY_SSL_HEADER, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.REST_FRAMEWORK['NUM_PROXIES'], s.TAGLOOP_NUM_PROXIES, s.SECRET_KEY == s.TAGLOOP_REPORTER_SALT]))"
    )
    result = _manage(_environment(tmp_path, **production, **module), "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        ["HTTP_X_FORWARDED_PROTO", "https"],
        True,
        True,
        True,
        31536000,
        1,
        1,
        True,
    ]


# --- HTTPS behind the proxy ------------------------------------------------------------


@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_plain_http_is_redirected_and_https_through_the_proxy_gets_hsts(client, db):
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=3600"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_health_probes_over_plain_http_are_not_redirected(client, db):
    assert client.get("/healthz/live").status_code == 200
    for path in ("/healthz", "/healthz/ready"):
        assert client.get(path).status_code in (200, 503)  # answered, whatever the verdict
    assert client.get("/healthzone").status_code == 301  # the exemption is the probes, not a prefix
