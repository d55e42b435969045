"""Where SECRET_KEY comes from, and the refusal to serve on a weak one.

The key signs sessions, CSRF tokens and password-reset links, and salts the hashes of
anonymous reporters' addresses: with a public key (the one that used to be written in
settings.py) anyone can forge those and reverse the hashes by trying every address.

- ``DJANGO_SECRET_KEY`` set: used as it is; with DEBUG off it must be strong (below),
  otherwise the process refuses to start.
- not set: a random key is generated once and kept in ``VAR_DIR/secret_key`` (mode
  0600), so ``make run`` and the tests need no configuration and never run on a key
  anyone else knows. One machine only: every web process and worker of a deployment
  must share one key, so a deployment sets ``DJANGO_SECRET_KEY`` (``check --deploy``
  says so when it is missing, see config.checks).

config/settings/base.py calls it before Django is set up: nothing here needs a configured Django.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50  # Django's own deploy check (security.W009) asks for as much
MIN_UNIQUE_CHARACTERS = 5
# Keys that were public once: settings.py shipped the first; Django's startproject makes the second kind.
KNOWN_PUBLIC_KEYS = {"insecure-dev-key-change-me-in-production"}
INSECURE_PREFIX = "django-insecure-"
KEY_FILE_NAME = "secret_key"


class WeakSecret(ImproperlyConfigured):
    """A configured secret that must not be used with DEBUG off."""


def weakness(value: str) -> str | None:
    """Why ``value`` is not fit to be a production secret, or None when it is."""
    if value in KNOWN_PUBLIC_KEYS or value.startswith(INSECURE_PREFIX):
        return "is a published default"
    if len(value) < MIN_LENGTH:
        return f"has {len(value)} characters, fewer than {MIN_LENGTH}"
    if len(set(value)) < MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {MIN_UNIQUE_CHARACTERS} different characters"
    return None


def require_strong(name: str, value: str) -> str:
    """``value`` if it is strong; else WeakSecret with a message naming the variable ``name``."""
    reason = weakness(value)
    if reason:
        raise WeakSecret(
            f"{name} {reason}. With DJANGO_DEBUG off tagloop refuses to start on a weak secret: set {name} "
            f"to a long random value, e.g. the output of "
            f"python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    return value


def generated_key(var_dir: Path) -> str:
    """The key kept in ``var_dir``, made on first use.

    Several processes start at once (web, worker, a test's worker): the key is written
    to a private temporary file and linked into place, which fails if another process
    got there first; everyone then reads the one file that won.
    """
    path = Path(var_dir) / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def secret_key_setting(environ, *, debug: bool, var_dir: Path) -> tuple[str, bool]:
    """SECRET_KEY from ``environ`` (checked unless ``debug``), else the generated one; and whether it was generated.

    A variable set to an empty value counts as set: someone meant to give a key.
    """
    if "DJANGO_SECRET_KEY" not in environ:
        return generated_key(var_dir), True
    value = environ["DJANGO_SECRET_KEY"]
    return (value if debug else require_strong("DJANGO_SECRET_KEY", value)), False
