"""Which way the arrows point: labeling never imports predictions; ml never imports the project (nor benchmarks).

Also: common (shared UI and infrastructure) imports neither app; labeling never names a
predictions permission (each app grants its own through common.roles); config never reads
an app's models (it asks the apps' selectors).
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _trees(package: str):
    for path in sorted((REPO / package).rglob("*.py")):
        yield str(path.relative_to(REPO)), ast.parse(path.read_text(), filename=str(path))


def imported_modules(package: str) -> dict[str, set[str]]:
    """Each module's imports, ``from a import b`` counted as both ``a`` and ``a.b`` (b may be a module)."""
    found = {}
    for path, tree in _trees(package):
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[path] = names
    return found


@pytest.mark.parametrize(
    "package,forbidden",
    [
        ("labeling", {"predictions"}),
        ("common", {"labeling", "predictions"}),
        ("ml", {"django", "rest_framework", "celery", "labeling", "predictions", "config", "benchmarks"}),
    ],
)
def test_dependency_direction(package, forbidden):
    offenders = {
        path: sorted(name for name in names if name.split(".")[0] in forbidden)
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_config_reads_no_app_models():
    """config/ (health, URLs, the admin site) asks the apps' selectors and services, never their models."""
    offenders = {
        path: sorted(name for name in names if name.split(".")[0] in APPS and name.split(".")[1:2] == ["models"])
        for path, names in imported_modules("config").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


APPS = {"labeling", "predictions", "common"}


def test_labeling_names_no_predictions_permission():
    """labeling grants and checks only its own permissions; the predictions app registers its own."""
    offenders = [
        (path, node.value)
        for path, tree in _trees("labeling")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("predictions.")
    ]
    assert offenders == []


def test_benchmarks_live_outside_the_library():
    # Benchmarks, the loop simulation and the docs writers are tools: they belong in benchmarks/.
    assert sorted(p.name for p in (REPO / "ml").glob("bench*.py")) == []
    assert (REPO / "benchmarks" / "bench_loop.py").exists()
