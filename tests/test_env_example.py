"""Issue 15, bug 10: `.env.example` lists every setting tagloop reads, so nobody has to read the code to find one."""

import ast
import re

from tests.conftest import REPO

EXAMPLE = REPO / ".env.example"


def _listed() -> set[str]:
    """Every NAME in a `# NAME=value` (or `NAME=value`) line of .env.example."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), flags=re.MULTILINE))


def _read_by_settings() -> set[str]:
    """The names config/settings/*.py read with env(...), env.bool(...), env.db(...) and the like."""
    names = set()
    for path in sorted((REPO / "config" / "settings").glob("*.py")):
        names |= _env_reads(path)
    return names


def _env_reads(path) -> set[str]:
    """The names one settings module reads with env(...) and its typed forms."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
            and func.attr != "read_env"
        )
        if is_env and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


def _read_elsewhere() -> set[str]:
    """TAGLOOP_* read outside the settings: `make run`'s script and the app's own os.environ reads."""
    run = (REPO / "scripts" / "run.sh").read_text()
    names = set(re.findall(r"\bsetting (TAGLOOP_[A-Z0-9_]+)", run))
    names |= set(re.findall(r"\$\{(TAGLOOP_[A-Z0-9_]+):-", run))
    for package in ("config", "labeling", "predictions", "ml"):
        for path in (REPO / package).rglob("*.py"):
            if "bench" in path.name:
                continue  # a benchmark's knobs are its own, documented with the benchmark
            names |= set(re.findall(r"os\.environ(?:\.get)?[\(\[]\s*\"(TAGLOOP_[A-Z0-9_]+)\"", path.read_text()))
    return names


def test_the_parser_finds_the_settings_it_should():
    found = _env_reads(REPO / "config" / "settings" / "base.py")
    # One of each form: env(...), env.bool, env.db (the database), env.list, a call spread over lines.
    assert {"TAGLOOP_VAR_DIR", "DJANGO_DEBUG", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS", "TAGLOOP_MODEL_STORE"} <= found
    assert {"TAGLOOP_HOST", "TAGLOOP_PORT", "TAGLOOP_METRICS_TOKEN"} <= _read_elsewhere()


def test_every_setting_read_is_listed_in_env_example():
    missing = sorted((_read_by_settings() | _read_elsewhere()) - _listed())
    assert missing == [], f".env.example lacks: {', '.join(missing)}"
