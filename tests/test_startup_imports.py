"""Start-up: no manage.py command, nor the admin, imports scikit-learn, scipy or skops until it uses a model.

They cost about a second and ~100 MB per process; ml/ code that needs them imports them where it is
used (ml.lazy, ml.evaluation._metrics, ml.paired._binomtest). Each check runs in a fresh
interpreter: this test process has loaded them already.
"""

import json
import os
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("scipy", "sklearn", "skops", "skops.io", "torch", "sentence_transformers")

SETUP_AND_COMMANDS = f"""
import json, sys
import django
django.setup()
from django.contrib import admin
from django.core.management import call_command, get_commands, load_command_class
from django.urls import get_resolver

heavy = {HEAVY!r}
loaded = lambda: sorted(m for m in heavy if m in sys.modules)
found = {{}}
admin.autodiscover()
get_resolver().url_patterns  # every URL module, hence every view and the admin's
found["setup, admin and URLs"] = loaded()
call_command("check", verbosity=0)
found["check"] = loaded()
names = sorted(get_commands().items())
for name, app in names:
    load_command_class(app, name)
    if loaded():
        found[f"command {{name}}"] = loaded()
        break
found["commands"] = len(names)
print(json.dumps(found))
"""

HELP = f"""
import sys
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "help"])
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def _run(code: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.development"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_setup_the_admin_check_and_every_command_module_import_no_heavy_library():
    found = json.loads(_run(SETUP_AND_COMMANDS))
    assert found.pop("commands") > 40  # Django's and ours: the loop saw them all
    assert found == {"setup, admin and URLs": [], "check": []}


def test_manage_py_help_imports_no_heavy_library():
    assert _run(HELP) == "[]"
