"""The API against its own OpenAPI schema: schemathesis fuzzes every operation as each role.

Zero server errors and zero answers that the schema does not describe (status, media type,
body, headers). Bounded (a few examples per operation and phase) to stay within a minute.
"""

import os
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from labeling.models import GoldLabel, WrongTagReport
from labeling.services import source_token_create
from labeling.services.api_tokens import api_token_create
from tests.factories import make_active_model, make_content, make_low_confidence_task

pytestmark = [pytest.mark.schema, pytest.mark.django_db(transaction=True)]

# Every check (server errors, status codes, media types, bodies and headers against the schema,
# valid input accepted and invalid rejected, undeclared methods answered 405, ...), with the exceptions below.
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
include-path = "/api/v1/gold-labels"
include-method = "POST"
# content names a stored item: one that does not exist is a 400 naming the field (tests/test_api_data.py).
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "/reports$"
# Reports are on an item that exists; an unknown item's 404 is tested in tests/test_api.py.
parameters = {{ "path.content_id" = {content_id} }}

# One object, and the actions on it, on an object that exists (".id." matches "{{id}}" and what is under it;
# unknown ids' 404s are tested in tests/test_api_data.py).
[[operations]]
include-path = "/api/v1/content/{{id}}"
parameters = {{ "path.id" = {content_id} }}

[[operations]]
include-path-regex = '^/api/v1/gold-labels/.id.'
parameters = {{ "path.id" = {gold_label_id} }}

[[operations]]
include-path-regex = '^/api/v1/review-tasks/.id.'
parameters = {{ "path.id" = {task_id} }}

[[operations]]
include-path = "/api/v1/reports/{{id}}"
parameters = {{ "path.id" = {report_id} }}

[[operations]]
include-path-regex = '^/api/v1/model-versions/.number.'
parameters = {{ "path.number" = {version_number} }}
"""
OPERATIONS = 24
AUTH = """
[auth.openapi.{scheme}]
{field} = "{value}"
"""
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = os.environ.get("TAGLOOP_SCHEMA_MAX_EXAMPLES", "5")


def _run(schema_url: str, config: Path, name: str) -> tuple[str, int, str]:
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
    ]
    # In the config's folder (a temporary one): schemathesis keeps its replay cache where it runs.
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=config.parent)
    return name, done.returncode, done.stdout + done.stderr


def test_every_operation_answers_as_documented_for_every_role(
    live_server,
    tmp_path,
    tags,
    model_dir,
    annotator,
    reviewer,
    admin_user,
    private_queue,
):
    version = make_active_model(tags)
    # Untagged: any tag may be suggested (suggesting the tag shown is a 400 no schema can express).
    content = make_content()
    ids = {
        "content_id": content.pk,
        "gold_label_id": GoldLabel.objects.order_by("pk").first().pk,
        "task_id": make_low_confidence_task().pk,
        "report_id": WrongTagReport.objects.create(content=make_content(current_tag=tags["mlops"])).pk,
        "version_number": version.number,
    }
    _, key = source_token_create(source="feed-a", name="fuzzer")
    # Each run signs in as schemathesis should know it (so it can also try without, and expect 401 or 403).
    runs = {
        "anonymous": "",
        **{
            role: AUTH.format(scheme="userToken", field="bearer", value=api_token_create(user=user, name="fuzzer")[1])
            for role, user in (("annotator", annotator), ("reviewer", reviewer), ("admin", admin_user))
        },
        "source token": AUTH.format(scheme="sourceToken", field="api_key", value=f"Token {key}"),
    }
    configs = []
    for name, auth in runs.items():
        folder = tmp_path / name.replace(" ", "-")  # schemathesis keeps its replay cache where it runs
        folder.mkdir()
        (folder / "schemathesis.toml").write_text(CONFIG.format(**ids) + auth)
        configs.append((folder / "schemathesis.toml", name))
    schema_url = f"{live_server.url}/api/v1/schema/?format=json"
    # Made once before the parallel runs: drf-spectacular loads its extensions on the first schema, not
    # thread-safely (two first requests at once answered a 500).
    urllib.request.urlopen(schema_url, timeout=60).read()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: _run(schema_url, *item), configs))
    failed = {name: output[-6000:] for name, code, output in results if code != 0}
    assert not failed, "\n\n".join(f"=== {name} ===\n{output}" for name, output in failed.items())
    for name, _, output in results:  # every operation was reached and tested, not skipped for want of access
        assert f"Tested: {OPERATIONS}" in output, f"{name}:\n{output[-3000:]}"
