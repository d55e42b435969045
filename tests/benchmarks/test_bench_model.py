"""The benchmark's measuring and reporting code, on tiny data and tiny settings."""

from datetime import datetime, timedelta

import pytest

from benchmarks import bench_model as benchmark
from benchmarks.bench_model import (
    Row,
    Settings,
    available_algorithms,
    benchmark_algorithm,
    format_table,
    format_targets,
)
from benchmarks.markdown_section import replace_section
from ml.dataset import DatasetRow
from ml.items import LabelledItem

TOPICS = {
    "computer-vision": "image pixels camera photo",
    "natural-language-processing": "sentence text words",
    "mlops": "deploy docker kubernetes",
}
TINY = Settings(folds=2, seed=0, latency_calls=5, throughput_items=20)


def rows(n_per_tag: int = 6) -> list[DatasetRow]:
    start = datetime(2020, 1, 1)
    made: list[DatasetRow] = []
    for i in range(n_per_tag):
        for tag, words in TOPICS.items():
            made.append(
                DatasetRow(
                    id=str(len(made)),
                    created_on=start + timedelta(days=len(made)),
                    item=LabelledItem(title=f"{words} {i}", description="", tag=tag),
                )
            )
    return made


def row(name: str, **changes) -> Row:
    values = dict(
        algorithm=name,
        cv_mean=0.9,
        cv_sd=0.01,
        automation_rate=0.9,
        threshold=0.5,
        fit_seconds=1.0,
        p50_ms=1.0,
        p99_ms=2.0,
        items_per_second=1000.0,
        time_split_f1=0.9,
    )
    return Row(**{**values, **changes})


@pytest.mark.parametrize("name", ["rules", "tfidf-linear"])
def test_benchmark_algorithm_measures_everything(name):
    result = benchmark_algorithm(name, rows(), TINY)
    assert result.algorithm == name
    assert 0 <= result.cv_mean <= 1 and result.cv_sd >= 0 and 0 <= result.automation_rate <= 1
    assert result.fit_seconds >= 0 and 0 < result.p50_ms <= result.p99_ms and result.items_per_second > 0
    assert 0 <= result.time_split_f1 <= 1


def test_rules_are_perfect_on_keyword_data():
    result = benchmark_algorithm("rules", rows(), TINY)
    assert result.cv_mean == 1.0 and result.automation_rate == 1.0 and result.time_split_f1 == 1.0


def test_table_order_starts_with_the_baselines():
    names = available_algorithms()
    assert names[:4] == ["random", "majority", "rules", "tfidf-linear"]


def test_table_has_one_line_per_algorithm_and_a_dash_for_no_threshold():
    table = format_table([row("tfidf-linear"), row("random", threshold=None, automation_rate=0.0)])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    assert "| tfidf-linear | 0.9000 ± 0.0100 | 90.0% | 0.500 |" in lines[2]
    assert "| random |" in lines[3] and "| — |" in lines[3]


def test_targets_are_judged_and_missing_algorithms_are_not_measured():
    text = format_targets([row("tfidf-linear", p50_ms=3.0), row("embeddings-linear", cv_mean=0.95)])
    assert "tfidf-linear single-item p50 <= 2 ms: **NOT met**" in text
    assert "embeddings-linear CV F1 >= 0.91: **met**" in text
    assert "**not measured**" not in text
    assert "**not measured**" in format_targets([row("tfidf-linear")])


def test_main_writes_only_the_models_section(tmp_path, monkeypatch):
    csv = tmp_path / "tiny.csv"
    lines = ["id,created_on,title,description,tag"]
    lines += [f"{r.id},{r.created_on.isoformat(sep=' ')},{r.item.title},,{r.item.tag}" for r in rows()]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Drift\n\nkeep me\n", encoding="utf-8")
    monkeypatch.setattr(benchmark, "available_algorithms", lambda: ["majority", "rules"])
    monkeypatch.setattr(benchmark, "Settings", lambda **kw: Settings(**{**vars(TINY), **kw}))
    benchmark.main(["--dataset", str(csv), "--folds", "2", "--docs", str(docs)])
    text = docs.read_text(encoding="utf-8")
    assert "## Drift\n\nkeep me" in text and "## Models" in text
    assert "| rules |" in text and "Command: `python -m benchmarks.bench_model --dataset" in text
    assert "cores" in text


def test_replace_section_creates_appends_and_replaces(tmp_path):
    path = tmp_path / "docs" / "b.md"
    replace_section(path, "Models", "one")
    assert path.read_text() == "# Benchmarks\n\n## Models\n\none\n"
    path.write_text("# B\n\n## Models\n\nold\n\n## Other\n\nkeep\n")
    replace_section(path, "Models", "new \\1")
    assert path.read_text() == "# B\n\n## Models\n\nnew \\1\n\n## Other\n\nkeep\n"
    replace_section(path, "Extra", "x")
    assert path.read_text().endswith("## Other\n\nkeep\n\n## Extra\n\nx\n")
