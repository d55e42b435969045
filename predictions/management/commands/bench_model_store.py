"""How long a cold model load takes from each backend of the model store, and how large artifacts are."""

import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max
from django.test import override_settings

from benchmarks.machine import cpu_model, load_average
from benchmarks.markdown_section import replace_section
from labeling.management.benchmarking import add_scratch_database_argument, require_scratch_database
from ml.catalogue import algorithm_available
from ml.dataset import read_dataset_rows
from ml.text import prepare_text
from predictions.artifact_store import BACKENDS, artifact_load
from predictions.models import ModelStatus, ModelVersion

ALGORITHMS = ("tfidf-linear", "embeddings-linear")
DOCS_SECTION = "Model store"


@dataclass(frozen=True)
class Row:
    algorithm: str
    backend: str
    size_bytes: int
    save_ms: float
    read_ms: list[float]  # fetching the bytes alone
    load_ms: list[float]  # artifact_load: fetch, sha256, type check, build


class Command(BaseCommand):
    help = (
        "Time cold loads (no per-process cache) of the same model from the local and the database backend, "
        "alternating; artifact sizes. Rewrites '## Model store' in docs/benchmarks.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loads", type=int, default=20)
        parser.add_argument(
            "--algorithm",
            dest="algorithms",
            action="append",
            choices=ALGORITHMS,
            help=f"repeat for several (default: {', '.join(ALGORITHMS)}; embeddings if installed)",
        )
        parser.add_argument("--data", type=Path, default=Path("data/madewithml_dataset.csv"))
        parser.add_argument("--docs", type=Path, default=Path("docs/benchmarks.md"))
        parser.add_argument("--no-docs", dest="docs", action="store_const", const=None, help="only print")
        add_scratch_database_argument(parser)

    def handle(self, loads, algorithms, data, docs, yes, **options):
        require_scratch_database(allowed=yes)
        load_before = load_average()
        items = read_dataset_rows(data)
        texts = [prepare_text(row.item.title, row.item.description) for row in items]
        tags = [row.item.tag for row in items]
        names = algorithms or [name for name in ALGORITHMS if algorithm_available(name)]
        rows = []
        with tempfile.TemporaryDirectory() as model_dir, override_settings(MODEL_DIR=Path(model_dir)):
            for name in names:
                self.stderr.write(f"  {name}: training, then {loads} cold loads from each backend")
                rows.extend(self._bench(name, _train(name, texts, tags), loads))
        table = format_table(rows)
        self.stdout.write(table)
        if docs is not None:
            replace_section(docs, DOCS_SECTION, "\n\n".join([_method(load_before, len(items), loads), table, READING]))
            self.stdout.write(f"wrote the '{DOCS_SECTION}' section of {docs}")

    def _bench(self, algorithm: str, model, loads: int) -> list[Row]:
        # A version per backend: two saves of one model differ (skops' zip records the time).
        versions, save_ms = {}, {}
        try:
            for backend, store in BACKENDS.items():
                number = (ModelVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
                version = ModelVersion.objects.create(
                    number=number,
                    algorithm=algorithm,
                    status=ModelStatus.CANDIDATE,
                    notes="bench_model_store (deleted after the run)",
                )
                versions[backend] = version
                began = time.perf_counter()
                saved = store.save(
                    model_version=version,
                    model=model,
                    name=f"v{number}-{algorithm}",
                    metadata={"model_version": number, "algorithm": algorithm},
                )
                save_ms[backend] = (time.perf_counter() - began) * 1000
                version.artifact_path, version.artifact_sha256 = saved.name, saved.sha256
                version.save(update_fields=["artifact_path", "artifact_sha256"])
            read_ms: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
            load_ms: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
            for _ in range(loads):
                for backend, store in BACKENDS.items():
                    version = versions[backend]
                    read_ms[backend].append(_ms(lambda store=store, version=version: store.read(version)))
                    with override_settings(TAGLOOP_MODEL_STORE=backend):  # the store reads this backend first
                        load_ms[backend].append(_ms(lambda version=version: artifact_load(version)))
            return [
                Row(
                    algorithm,
                    backend,
                    _stored_size(backend, versions[backend]),
                    save_ms[backend],
                    read_ms[backend],
                    load_ms[backend],
                )
                for backend in BACKENDS
            ]
        finally:
            for version in versions.values():
                version.delete()  # its artifact row goes with it; files go with the temporary folder


def _stored_size(backend: str, version: ModelVersion) -> int:
    payload = BACKENDS[backend].read(version)
    if payload is None:  # saved just before: only another process deleting it gets here
        raise CommandError(f"v{version.number}: the artifact saved through the {backend} backend is gone")
    return len(payload)


def _method(load_before: str, items: int, loads: int) -> str:
    command = "manage.py bench_model_store " + shlex.join(sys.argv[2:])
    return (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command.strip()}` (`make bench-store`) "
        f"on {cpu_model()}; {connection.vendor} on {connection.settings_dict['HOST'] or 'a local socket'}; 1-minute "
        f"load average {load_before} before, {load_average()} after. Each model trained on the {items} dataset "
        "items and saved once through each backend (save: one sample each, the local one first; serialise, sha256, "
        f"write), then loaded {loads} times from each, alternating, with `predictions.artifact_store.artifact_load` "
        '(no per-process cache: fetch, sha256 check, trusted-types check, build). "Fetch" is reading the bytes '
        "alone (the file is in the OS page cache after the first read; the row comes over a kept connection)."
    )


READING = (
    "A process loads a version once, on its first prediction, and keeps the last `TAGLOOP_MODEL_CACHE_SIZE` it "
    "used; what the database backend adds is the fetch, paid on those loads only. The sizes are the skops "
    "artifacts (deflated); the embedding encoder is not in them."
)


def format_table(rows: list[Row]) -> str:
    lines = [
        "| algorithm | backend | artifact | save | fetch: median / p99 | load: median / p99 |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.algorithm} | {row.backend} | {row.size_bytes / 1e6:.2f} MB | {row.save_ms:.0f} ms "
            f"| {_median(row.read_ms):.1f} / {_p99(row.read_ms):.1f} ms "
            f"| {_median(row.load_ms):.1f} / {_p99(row.load_ms):.1f} ms |"
        )
    return "\n".join(lines)


def _ms(call) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _train(algorithm: str, texts: list[str], tags: list[str]):
    # Imported here: ml.training brings scikit-learn (~1 s), which `manage.py help` and every
    # other command should not pay for by importing this module.
    from ml.training import train_model

    return train_model(texts=texts, labels=tags, algorithm=algorithm, random_state=0)
