"""The test suite's settings (pyproject.toml); the workers and servers tests start inherit them.

Only what tests need differs from ``base``.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, VAR_DIR

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a worker process in an end-to-end test sees the test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-tagloop.sqlite3")
