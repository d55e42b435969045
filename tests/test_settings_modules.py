"""The settings package: every module named anywhere exists, and importing settings makes no folder."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

MODULES = ["config.settings.development", "config.settings.test", "config.settings.production"]
# Where a settings module is named: the entry points, the test and deployment configuration, the benches.
SOURCES = ["manage.py", "config/wsgi.py", "config/celery.py", "pyproject.toml", "Dockerfile", "compose.yaml"]
SOURCE_FOLDERS = ["tests", "benchmarks", "scripts", "deploy"]


def _named_modules() -> dict[str, set[str]]:
    paths = [REPO / name for name in SOURCES]
    for folder in SOURCE_FOLDERS:
        paths += [p for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".sh", ".toml", ".yaml", "")]
    found: dict[str, set[str]] = {}
    for path in paths:
        if path.is_file() and path.name != "test_settings_modules.py":
            text = path.read_text(errors="replace")
            for name in re.findall(r"DJANGO_SETTINGS_MODULE\W{1,6}(config\.settings[\w.]*)", text):
                found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def _clean_environment(tmp_path, **extra) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TAGLOOP_"))}
    return {**base, "TAGLOOP_VAR_DIR": str(tmp_path / "var"), "DJANGO_SECRET_KEY": "k" * 60 + "abcdef", **extra}


def test_every_settings_module_named_is_one_of_the_modules():
    named = _named_modules()
    assert {"config.settings.development", "config.settings.test"} <= set(named)  # the scan sees them
    assert {name: paths for name, paths in named.items() if name not in MODULES} == {}


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_settings_makes_no_folder_and_starting_django_makes_them(tmp_path, module):
    code = (
        "import os, sys; from django.conf import settings; settings.INSTALLED_APPS; "
        "print(os.path.exists(sys.argv[1])); import django; django.setup(); "
        "print(sorted(os.listdir(sys.argv[1])))"
    )
    env = _clean_environment(tmp_path, DJANGO_SETTINGS_MODULE=module)
    env.pop("REDIS_URL", None)  # the embedded filesystem broker, whose folders are made too
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "var")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    imported, started = result.stdout.strip().splitlines()[-2:]
    assert imported == "False"
    assert started == "['broker', 'staticfiles']"


def test_the_default_module_is_development_for_every_entry_point():
    for name in ("manage.py", "config/wsgi.py", "config/celery.py"):
        text = (REPO / name).read_text()
        assert 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")' in text, name
