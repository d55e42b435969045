"""The ml package must stay importable and usable without Django or the project."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ML = REPO / "ml"
# benchmarks/ sits on top of ml (it may import Django): the library never reaches up to it.
FORBIDDEN = {"django", "rest_framework", "celery", "labeling", "predictions", "config", "benchmarks"}


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def ml_modules() -> list[str]:
    return sorted("ml" if p.stem == "__init__" else f"ml.{p.stem}" for p in ML.glob("*.py"))


def test_no_source_file_imports_django_or_project_code():
    offenders = {str(p.relative_to(REPO)): sorted(top_level_imports(p) & FORBIDDEN) for p in sorted(ML.rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_scan_sees_the_package():
    assert {"ml.training", "ml.evaluation", "ml.persistence"} <= set(ml_modules())


def test_importing_every_module_does_not_load_django():
    # A fresh interpreter: the test process itself has Django loaded by pytest-django.
    modules = ml_modules()
    forbidden = sorted(FORBIDDEN)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = sorted(m for m in {forbidden!r} if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
