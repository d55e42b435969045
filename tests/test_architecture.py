"""Which way the arrows point: labeling never imports predictions; ml never imports the project (nor benchmarks)."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (REPO / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


@pytest.mark.parametrize(
    "package,forbidden",
    [
        ("labeling", {"predictions"}),
        ("ml", {"django", "rest_framework", "celery", "labeling", "predictions", "config", "benchmarks"}),
    ],
)
def test_dependency_direction(package, forbidden):
    offenders = {
        path: sorted(name for name in names if name.split(".")[0] in forbidden)
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_benchmarks_live_outside_the_library():
    # Benchmarks, the loop simulation and the docs writers are tools: they belong in benchmarks/.
    assert sorted(p.name for p in (REPO / "ml").glob("bench*.py")) == []
    assert (REPO / "benchmarks" / "bench_loop.py").exists()
