"""The API against its own OpenAPI schema: schemathesis fuzzes every operation as each role.

Zero server errors and zero answers that the schema does not describe (status, media type,
body, headers). Bounded (a few examples per operation and phase) to stay within a minute.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from labeling.services import source_token_create
from tests.factories import make_active_model, make_content

pytestmark = [pytest.mark.schema, pytest.mark.django_db(transaction=True)]

# Every check (server errors, status codes, media types, bodies and headers against the schema,
# valid input accepted and invalid rejected, undeclared methods answered 405, ...), with two exceptions.
CONFIG = """
[checks]
enabled = true

[[operations]]
include-path = "/api/v1/predict"
# content_id names a stored item: any integer is schema-valid, and one naming no item is a 400
# naming the field (tests/test_canary.py), which this check would count as valid input rejected.
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path = "/api/v1/content"
# created_on is read by the import's date parser (a date or a date-time, several spellings): no schema
# pattern says exactly which strings it reads, so a schema-valid unreadable date is a 400 naming the field.
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "/reports$"
# Reports are on an item that exists; an unknown item's 404 is tested in tests/test_api.py.
parameters = {{ "path.content_id" = {content_id} }}
"""
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = os.environ.get("TAGLOOP_SCHEMA_MAX_EXAMPLES", "5")


def _run(schema_url: str, config: Path, name: str, auth: list[str]) -> tuple[str, int, str]:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        schema_url,
        "--max-examples",
        MAX_EXAMPLES,
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "1",
        "--workers",
        "1",
        "--no-color",
        *auth,
    ]
    # In the config's folder (a temporary one): schemathesis keeps its replay cache where it runs.
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=config.parent)
    return name, done.returncode, done.stdout + done.stderr


def test_every_operation_answers_as_documented_for_every_role(
    live_server,
    settings,
    tmp_path,
    tags,
    model_dir,
    annotator,
    reviewer,
    admin_user,
):
    # Basic auth hashes the password on every request: the default hasher would make the run minutes long.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for user in (annotator, reviewer, admin_user):
        user.set_password(f"pw-{user.username}")
        user.save()
    make_active_model(tags)
    # Untagged: any tag may be suggested (suggesting the tag shown is a 400 no schema can express).
    content = make_content()
    _, key = source_token_create(source="feed-a", name="fuzzer")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(content_id=content.pk))
    runs = {
        "anonymous": [],
        **{
            role: ["--auth", f"{user.username}:pw-{user.username}"]
            for role, user in (("annotator", annotator), ("reviewer", reviewer), ("admin", admin_user))
        },
        "source token": ["--header", f"Authorization: Token {key}"],
    }
    schema_url = f"{live_server.url}/api/v1/schema/?format=json"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: _run(schema_url, config, *item), runs.items()))
    failed = {name: output[-6000:] for name, code, output in results if code != 0}
    assert not failed, "\n\n".join(f"=== {name} ===\n{output}" for name, output in failed.items())
    for name, _, output in results:  # every operation was reached and tested, not skipped for want of access
        assert "Tested: 4" in output, f"{name}:\n{output[-3000:]}"
