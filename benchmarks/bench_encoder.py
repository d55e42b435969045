"""Which encoder the default model should use: F1 that holds on newer content, latency, retrain, size.

Run ``python -m benchmarks.bench_encoder [--dataset PATH] [--only NAME ...] [--backends BACKEND ...]
[--no-encoder-table] [--static] [--docs docs/benchmarks.md | --no-docs]`` (or ``make bench-encoder``).

Each candidate is measured the same way on the Made With ML dataset, ordered by ``created_on``:

- weighted F1 trained on the oldest 80% and tested on the newest 20% (the time split: what the
  default must hold), the reverse (newest 80% -> oldest 20%), and stratified 5-fold CV (mean and
  standard deviation over the folds).  Nothing is tuned here: each algorithm's settings were
  chosen by CV (see their docstrings), and the newest slice only ever tests;
- one prepared text per call through the served form (:mod:`ml.compiled`), encoder included
  (the embedding cache off), p50/p99 over the newest 20%;
- batch throughput: the newest 20% through the pipeline in one call, encoder included;
- the retrain the worker runs on the demo data (5-fold CV and the final fit on the oldest 80%,
  one thread) from a cold cache (every text encoded) and with the embeddings stored;
- the installed size of what the candidate needs (files of the installed distributions, no
  bytecode caches), from this virtualenv's package metadata.

static-linear (:mod:`ml.static_embedding`) is measured like the others, after its table is distilled afresh
into a temporary folder (the time and the file's size are reported).  ``--static`` adds the earlier recipe of a
static embedding distilled from the same MiniLM (model2vec's method: every
vocabulary token through the encoder, PCA to 256, Zipf/SIF weighting; the token pass by
:mod:`ml.minilm`, a few minutes) with the TF-IDF features; F1 only, as it is not shipped.
"""

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks.common import add_docs_arguments, argument_parser, command_line, p50_p99, utc_minute
from benchmarks.machine import cpu_model, load_average
from benchmarks.markdown_section import replace_section
from ml.catalogue import algorithm_available
from ml.compiled import compile_pipeline
from ml.dataset import read_dataset_rows
from ml.embeddings import cached_encode, clear_embedding_cache, embedding_cache_disabled
from ml.prediction import predict
from ml.text import prepare_text
from ml.training import train_model

MODULE = "benchmarks.bench_encoder"
DOCS_SECTION = "Encoders"
# (algorithm, TAGLOOP_MINILM_BACKEND): minilm-linear once per encoder backend.
CANDIDATES: tuple[tuple[str, str | None], ...] = (
    ("minilm-linear", "onnx-int8"),
    ("minilm-linear", "onnx-fp32"),
    ("minilm-linear", "numpy"),
    ("tfidf-linear", None),
    ("embeddings-linear", None),
    ("static-linear", None),
)
# The encoder alone: one text per call over this many of the newest texts, and batches of these sizes.
ENCODER_TEXTS = 150
ENCODER_BATCHES = (8, 32)
# What each candidate installs on top of Python: requirement files, and whether pip follows dependencies.
INSTALLS = {
    "tfidf-linear": (("requirements.txt", True),),
    "minilm-linear": (("requirements.txt", True), ("requirements-minilm.txt", False)),
    "embeddings-linear": (("requirements.txt", True), ("requirements-embeddings.txt", True)),
    # Its table is distilled at the first fit into TAGLOOP_VAR_DIR, not installed (see distillation()).
    "static-linear": (("requirements.txt", True), ("requirements-minilm.txt", False)),
}
TARGETS = "time-split F1 >= 0.92, single-item p50 <= 5 ms, retrain <= 30 s, installed <= 400 MB"


@dataclass(frozen=True)
class Row:
    name: str
    time_split: float
    reverse: float
    cv: tuple[float, float]  # mean, sd
    latency_ms: tuple[float, float] | None = None  # p50, p99
    latency_cpu_ms: float | None = None  # p50 of the CPU time the process spent per call
    items_per_second: float | None = None
    retrain_s: tuple[float, float] | None = None  # cold, stored embeddings
    installed_mb: float | None = None


def splits(n: int, labels: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, train indices, test indices): time split, reverse, then 5 stratified folds."""
    cut = int(n * 0.8)
    yield "time", np.arange(cut), np.arange(cut, n)
    yield "reverse", np.arange(n - cut, n), np.arange(n - cut)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for k, (train, test) in enumerate(folds.split(np.zeros(n), labels)):
        yield f"cv{k}", train, test


def f1_figures(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], labels: np.ndarray) -> dict[str, Any]:
    scores = {
        name: f1_score(labels[test], fit_predict(train, test), average="weighted")
        for name, train, test in splits(len(labels), labels)
    }
    cv = [scores[f"cv{k}"] for k in range(5)]
    return {"time_split": scores["time"], "reverse": scores["reverse"], "cv": (float(np.mean(cv)), float(np.std(cv)))}


@contextmanager
def minilm_backend(backend: str | None) -> Iterator[None]:
    """TAGLOOP_MINILM_BACKEND set to ``backend`` within the block (None leaves it alone)."""
    from ml.minilm_backends import SETTING

    previous = os.environ.get(SETTING)
    if backend is not None:
        os.environ[SETTING] = backend
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SETTING, None)
        else:
            os.environ[SETTING] = previous


def candidate_name(name: str, backend: str | None) -> str:
    from ml.minilm_backends import BACKENDS

    if backend is None:
        return name
    default = " (default)" if backend == BACKENDS[0] else ""
    return f"{name}, {backend}{default}"


def measure_algorithm(name: str, texts: list[str], labels: np.ndarray, backend: str | None = None) -> Row:
    with minilm_backend(backend):
        row = _measure_algorithm(name, texts, labels)
    return Row(**{**row.__dict__, "name": candidate_name(name, backend)})


def _measure_algorithm(name: str, texts: list[str], labels: np.ndarray) -> Row:
    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        model = train_model(texts=[texts[i] for i in train], labels=list(labels[train]), algorithm=name)
        return np.asarray(model.predict([texts[i] for i in test]))

    clear_embedding_cache()
    retrain = retrain_seconds(name, texts, labels)
    encoder = _encoder(name)
    if encoder is not None:
        cached_encode(texts, encoder=encoder)  # once for all the splits: the encoder is fixed, not fitted
    figures = f1_figures(fit_predict, labels)
    cut = int(len(texts) * 0.8)
    model = train_model(texts=texts[:cut], labels=list(labels[:cut]), algorithm=name)
    newest = texts[cut:]
    return Row(
        name=name,
        **figures,
        **single_item_ms(model, newest),
        items_per_second=throughput(model, newest),
        retrain_s=retrain,
        installed_mb=installed_mb(INSTALLS[name]),
    )


def retrain_seconds(name: str, texts: list[str], labels: np.ndarray) -> tuple[float, float]:
    """The worker's retrain on the oldest 80% (5-fold CV + final fit, one thread): cold, then warm cache."""
    from ml.selection import cross_validate

    cut = int(len(texts) * 0.8)
    timings = []
    for _ in ("cold", "stored"):
        start = time.perf_counter()
        cross_validate(
            texts=texts[:cut], labels=list(labels[:cut]), algorithm=name, folds=5, random_state=0, refit=True
        )
        timings.append(time.perf_counter() - start)
    return timings[0], timings[1]


def single_item_ms(model: Any, texts: Sequence[str]) -> dict[str, Any]:
    """Wall-clock p50/p99 and the p50 of the process's CPU time per call (what a quiet core would take)."""
    served = compile_pipeline(model) or model
    timings, cpu = [], []
    with embedding_cache_disabled():
        for text in texts:
            start, start_cpu = time.perf_counter(), time.process_time()
            predict(served, [text])
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    return {"latency_ms": p50_p99(timings), "latency_cpu_ms": float(np.median(cpu))}


def throughput(model: Any, texts: Sequence[str]) -> float:
    with embedding_cache_disabled():
        start = time.perf_counter()
        model.predict_proba(list(texts))
        return len(texts) / (time.perf_counter() - start)


def installed_mb(installs: tuple[tuple[str, bool], ...]) -> float | None:
    """Size of the distributions the requirement files install (following dependencies where pip does)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return None
    seen: set[str] = set()
    total = 0
    for path, follow in installs:
        lines = [_requirement(line) for line in Path(path).read_text().splitlines()]
        pending = [(Requirement(line), follow) for line in lines if line]
        while pending:
            requirement, deep = pending.pop()
            key = requirement.name.lower().replace("_", "-")
            if key in seen:
                continue
            try:
                dist = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                return None  # not installed here: no honest figure
            seen.add(key)
            total += sum(_size(dist, file) for file in dist.files or [] if "__pycache__" not in file.parts)
            if deep:
                extras = requirement.extras or {""}
                for text in dist.requires or []:
                    child = Requirement(text)
                    # A dependency applies when its marker holds for one of the extras asked for.
                    if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in extras):
                        pending.append((child, True))
    return total / 1e6


def _requirement(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    return None if not line or line.startswith("-") else line


def _size(dist: metadata.Distribution, file: metadata.PackagePath) -> int:
    try:
        return Path(str(dist.locate_file(file))).stat().st_size
    except OSError:
        return 0


def _backend_available(name: str, backend: str | None) -> bool:
    from ml.minilm_onnx import onnx_available

    return algorithm_available(name) and (backend is None or backend == "numpy" or onnx_available())


def _encoder(name: str) -> Any:
    from ml.algorithms import embedding_encoder

    return embedding_encoder(name)


# The encoder alone ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderRow:
    name: str
    threads: int
    single_ms: tuple[float, float]  # p50, p99
    single_cpu_ms: float  # p50 of the process's CPU time per text
    batch_items_per_second: dict[int, float]
    max_difference: float  # largest |difference| to the numpy reference's vectors
    min_cosine: float  # smallest cosine to the numpy reference's vectors


def encoder_configurations() -> list[tuple[str, int, Callable[[list[str]], np.ndarray]]]:
    """(name, intra-op threads, encode): the numpy reference first, then ONNX Runtime fp32 and int8 at 1 and 2
    threads, then int8 as graph version 2 had it (the baseline of graph 3's changes, in the same run)."""
    from ml import minilm, minilm_onnx

    configurations: list[tuple[str, int, Callable[[list[str]], np.ndarray]]] = [("numpy fp32", 1, minilm.encode)]
    if not minilm_onnx.onnx_available():
        return configurations
    for precision in minilm_onnx.PRECISIONS:
        path = minilm_onnx.graph_file(precision)
        for threads in (1, 2):
            session = minilm_onnx.OnnxMiniLM(path, precision=precision, intra_op_threads=threads)
            configurations.append((f"onnx {precision}", threads, session.encode))
    configurations.append(("onnx int8, graph 2 (standard attention, every fusion)", 1, graph2_int8_encoder()))
    return configurations


def graph2_int8_encoder() -> Callable[[list[str]], np.ndarray]:
    """The int8 encoder before graph version 3: attention in standard operators, every ONNX Runtime fusion on."""
    import tempfile

    from ml import minilm, minilm_onnx
    from ml.minilm_graph import build_minilm_graph

    with tempfile.TemporaryDirectory() as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        weights = minilm.read_safetensors(minilm.weights_path())
        fp32.write_bytes(build_minilm_graph(weights, fused_attention=False).SerializeToString())
        minilm_onnx._quantise(fp32, int8)
        # The session holds the graph in memory: the files may go.
        return minilm_onnx.OnnxMiniLM(int8, precision="int8", disabled_fusions=()).encode


def measure_encoders(texts: list[str]) -> list[EncoderRow]:
    """Each configuration on the same texts, interleaved text by text so a change of load hits all alike."""
    configurations = encoder_configurations()
    for _, _, encode in configurations:
        encode(texts[:2])  # warm: sessions allocate on their first run
    single: list[list[float]] = [[] for _ in configurations]
    cpu: list[list[float]] = [[] for _ in configurations]
    vectors: list[list[np.ndarray]] = [[] for _ in configurations]
    for text in texts:
        for k, (_, _, encode) in enumerate(configurations):
            start, start_cpu = time.perf_counter(), time.process_time()
            vectors[k].append(encode([text])[0])
            single[k].append((time.perf_counter() - start) * 1000)
            cpu[k].append((time.process_time() - start_cpu) * 1000)
    batch_seconds = {size: [0.0] * len(configurations) for size in ENCODER_BATCHES}
    for size in ENCODER_BATCHES:
        for begin in range(0, len(texts), size):
            for k, (_, _, encode) in enumerate(configurations):
                start = time.perf_counter()
                encode(texts[begin : begin + size])
                batch_seconds[size][k] += time.perf_counter() - start
    reference = np.vstack(vectors[0])
    rows = []
    for k, (name, threads, _) in enumerate(configurations):
        mine = np.vstack(vectors[k])
        rows.append(
            EncoderRow(
                name=name,
                threads=threads,
                single_ms=p50_p99(single[k]),
                single_cpu_ms=float(np.median(cpu[k])),
                batch_items_per_second={size: len(texts) / batch_seconds[size][k] for size in ENCODER_BATCHES},
                max_difference=float(np.abs(mine - reference).max()),
                min_cosine=float((mine * reference).sum(axis=1).min()),
            )
        )
    return rows


def encoder_report(rows: list[EncoderRow], count: int) -> list[str]:
    reference = rows[0].single_ms[0]
    lines = [
        "",
        f"The encoder alone (`ml.minilm.encode`, `ml.minilm_onnx`), tokenising included, on the {count} newest texts: "
        "one text per call (p50 / p99), then all of them in batches of "
        f"{' and '.join(map(str, ENCODER_BATCHES))}; the configurations interleaved text by text, the numpy path "
        "the reference measured in the same run. CPU ms: the process's CPU time per text, all threads counted. "
        "Vectors compared with the numpy path's.",
        "",
        "| encoder | intra-op threads | one text p50 / p99 ms | p50 ratio to numpy | one text CPU ms p50 | "
        + " | ".join(f"batches of {size}, items/s" for size in ENCODER_BATCHES)
        + " | max abs difference | min cosine |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(ENCODER_BATCHES) + "---:|---:|",
    ]
    for r in rows:
        batches = " | ".join(f"{r.batch_items_per_second[size]:,.0f}" for size in ENCODER_BATCHES)
        lines.append(
            f"| {r.name} | {r.threads} | {r.single_ms[0]:.2f} / {r.single_ms[1]:.2f} | "
            f"{r.single_ms[0] / reference:.2f} | {r.single_cpu_ms:.2f} | {batches} | {r.max_difference:.1e} | "
            f"{r.min_cosine:.4f} |"
        )
    return lines


# The static candidate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Distillation:
    seconds: float  # wall clock
    cpu_seconds: float  # the process's CPU time, every thread counted
    file_mb: float  # the table file static-linear keeps in TAGLOOP_VAR_DIR
    pieces: int
    dimensions: int


def distillation() -> Distillation:
    """static-linear's table distilled afresh (into a temporary TAGLOOP_VAR_DIR), as a machine's first fit does."""
    import tempfile

    from ml import static_embedding

    previous = os.environ.get("TAGLOOP_VAR_DIR")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TAGLOOP_VAR_DIR"] = folder
        static_embedding._tables.clear()  # the process's copy too: the first fit reads or distils
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            table = static_embedding.load_table()
            seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            size = sum(path.stat().st_size for path in static_embedding.table_dir().iterdir())
        finally:
            if previous is None:
                os.environ.pop("TAGLOOP_VAR_DIR", None)
            else:
                os.environ["TAGLOOP_VAR_DIR"] = previous
    # The table stays in this process's memory, so the candidate's fits below do not distil again.
    return Distillation(seconds, cpu, size / 1e6, *table.vectors.shape)


def distillation_line(result: Distillation) -> str:
    return (
        f"static-linear's table: {result.pieces:,} word pieces x {result.dimensions} int8 distilled in "
        f"{result.seconds:.1f} s ({result.cpu_seconds:.1f} s of CPU), a {result.file_mb:.1f} MB file in "
        "TAGLOOP_VAR_DIR/static-embeddings, made at a machine's first fit (the MiniLM of "
        "TAGLOOP_MINILM_BACKEND, each piece alone), not by the install; each saved model holds a copy."
    )


def measure_static(texts: list[str], labels: np.ndarray) -> Row:
    """model2vec's recipe on MiniLM, then the TF-IDF features; LogisticRegression. F1 only."""
    from scipy import sparse
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from ml import minilm
    from ml.algorithms import _tfidf_features
    from ml.features import SequentialFeatureUnion

    encoder = minilm.load_encoder()
    vocabulary = encoder._tokenizer.get_vocab_size()
    cls, sep = encoder.token_ids([""])[0]  # an empty text is [CLS] [SEP]
    tokens = np.vstack(
        [
            encoder.embed([[cls, token, sep] for token in range(start, min(start + 512, vocabulary))])
            for start in range(0, vocabulary, 512)
        ]
    )
    table = PCA(n_components=256, random_state=0).fit_transform(tokens)
    rank_probability = 1 / np.arange(2, vocabulary + 2)
    table *= (1e-4 / (1e-4 + rank_probability / rank_probability.sum()))[:, None]
    ids = [encoding.ids[1:-1] for encoding in encoder._tokenizer.encode_batch(texts)]
    vectors = np.vstack([table[i].mean(axis=0) if len(i) else np.zeros(256) for i in ids])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        tfidf = SequentialFeatureUnion(_tfidf_features()).fit([texts[i] for i in train])

        def features(index: np.ndarray) -> Any:
            return sparse.hstack(
                [sparse.csr_matrix(vectors[index] * 2.0), tfidf.transform([texts[i] for i in index])]
            ).tocsr()

        model = LogisticRegression(C=30.0, max_iter=3000).fit(features(train), labels[train])
        return np.asarray(model.predict(features(test)))

    return Row(name="static MiniLM (model2vec method) x2 + TF-IDF, LR; not shipped", **f1_figures(fit_predict, labels))


# Report ---------------------------------------------------------------------------------------


def report(
    rows: list[Row],
    *,
    command: str,
    load_before: str,
    skipped: list[str],
    encoder_lines: list[str] | None = None,
    distilled: Distillation | None = None,
) -> str:
    def cell(value: Any, fmt: Callable[[Any], str]) -> str:
        return "n/a" if value is None else fmt(value)

    lines = [
        f"`{command}`, {utc_minute()}, {cpu_model()}, 1-minute load average "
        f"{load_before} before and {load_average()} after (2 cores shared with other work: latency, throughput and "
        "retrain times are inflated by the load; F1 is not). Made With ML dataset ordered by `created_on`. "
        f"Targets: {TARGETS}.",
        "",
        "| candidate | F1 oldest 80% -> newest 20% | F1 reverse | F1 5-fold CV (mean ± sd) | one item p50 / p99 ms "
        "| one item CPU ms p50 "
        "| batch items/s | retrain s (cold / stored embeddings) | installed MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.time_split:.4f} | {r.reverse:.4f} | {r.cv[0]:.4f} ± {r.cv[1]:.4f} | "
            f"{cell(r.latency_ms, lambda v: f'{v[0]:.1f} / {v[1]:.1f}')} | {cell(r.latency_cpu_ms, lambda v: f'{v:.2f}')} | "
            f"{cell(r.items_per_second, lambda v: f'{v:,.0f}')} | "
            f"{cell(r.retrain_s, lambda v: f'{v[0]:.1f} / {v[1]:.1f}')} | {cell(r.installed_mb, lambda v: f'{v:,.0f}')} |"
        )
    lines += [
        "",
        "One item: `ml.prediction.predict` on the compiled form, the embedding cache off (the encoder runs every "
        "call); CPU ms is the process's CPU time per call (`time.process_time`, every thread counted): what the call "
        "costs a core, without the wait for one that the load adds to the wall clock. Retrain: `ml.selection.cross_validate` (5 folds + final fit, one thread) on the oldest 80%; "
        '"stored" is the same with every embedding cached, as a retrain finds them in `ContentEmbedding`. '
        "Installed: the files of the distributions pip installs for it (minilm-linear: requirements.txt, then "
        "requirements-minilm.txt with `--no-deps`), bytecode caches not counted.",
    ]
    lines += [
        "",
        "Why minilm-linear is the default: the MiniLM embedding beside the TF-IDF features is what holds on the "
        "newest slice. The encoder runs without torch: the numpy forward pass (`ml.minilm`, the reference: the "
        "same vectors as sentence-transformers to 2e-7) or the same network as an ONNX graph written from the "
        "packaged weights (`ml.minilm_graph`) on ONNX Runtime (`ml.minilm_onnx`): in fp32 its vectors equal the "
        "numpy path's (the max difference below), in int8 (dynamic quantisation, weights per output channel, "
        "one text per run) they are close, not equal, and are cached and stored under their own identity. "
        "`TAGLOOP_MINILM_BACKEND` chooses what new models train on (onnx-int8 by default); a model is served the "
        "kind of vectors it was trained on. The settings of the classifier were chosen by 5-fold CV, not on the "
        "newest slice (see `ml.algorithms.minilm_linear`); the int8 settings by the vectors' cosine to fp32 "
        "on dataset texts, before any F1 was measured. static-linear (a static embedding distilled from the same "
        "encoder, `ml.static_embedding`) is an option: far cheaper per item, it holds less on the newest slice.",
    ]
    if distilled is not None:
        lines += ["", distillation_line(distilled)]
    lines += encoder_lines or []
    if skipped:
        lines += ["", f"Not measured (packages missing): {', '.join(skipped)}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argument_parser(MODULE, (__doc__ or "").splitlines()[0])
    parser.add_argument("--static", action="store_true", help="also the distilled static embedding (slow)")
    parser.add_argument("--only", nargs="*", default=None, help="algorithms to measure (default: all installed)")
    parser.add_argument("--encoders-only", action="store_true", help="only the encoder-alone table (quick)")
    parser.add_argument(
        "--backends", nargs="*", default=None, help="minilm-linear's encoder backends to measure (default: all)"
    )
    parser.add_argument("--no-encoder-table", action="store_true", help="leave out the encoder-alone table")
    add_docs_arguments(parser, DOCS_SECTION)
    args = parser.parse_args(argv)
    load_before = load_average()
    rows_in_time = sorted(read_dataset_rows(args.dataset), key=lambda row: row.created_on)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows_in_time]
    labels = np.asarray([row.item.tag for row in rows_in_time])
    newest = texts[int(len(texts) * 0.8) :][:ENCODER_TEXTS]
    measure_encoder = not args.no_encoder_table and (
        args.encoders_only or args.only is None or "minilm-linear" in args.only
    )
    encoder_lines = (
        encoder_report(measure_encoders(newest), len(newest))
        if measure_encoder and algorithm_available("minilm-linear")
        else []
    )
    print("\n".join(encoder_lines), flush=True)
    wanted = [] if args.encoders_only else [c for c in CANDIDATES if args.only is None or c[0] in args.only]
    wanted = [c for c in wanted if c[1] is None or args.backends is None or c[1] in args.backends]
    available = [(name, backend) for name, backend in wanted if _backend_available(name, backend)]
    distilled = None
    if ("static-linear", None) in available:
        distilled = distillation()
        print(distillation_line(distilled), flush=True)
    rows = []
    for name, backend in available:
        rows.append(measure_algorithm(name, texts, labels, backend))
        print(rows[-1], flush=True)
    if args.static:
        rows.append(measure_static(texts, labels))
        print(rows[-1], flush=True)
    skipped = [candidate_name(*candidate) for candidate in wanted if candidate not in available]
    body = report(
        rows,
        command=command_line(MODULE, argv),
        load_before=load_before,
        skipped=skipped,
        encoder_lines=encoder_lines,
        distilled=distilled,
    )
    print(body)
    if args.docs is not None:
        replace_section(args.docs, DOCS_SECTION, body)
        print(f"\nwrote the '## {DOCS_SECTION}' section of {args.docs}")


if __name__ == "__main__":
    main()
