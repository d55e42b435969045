"""The test suite's settings (pyproject.toml); the workers and servers tests start inherit them.

Only what tests need differs from ``base``.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, VAR_DIR, env

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a worker process in an end-to-end test sees the test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-tagloop.sqlite3")

# Webhooks to private addresses: the tests' receivers listen on loopback (base refuses them).
TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=True)
