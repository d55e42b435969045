"""The two limits a re-prediction is judged against, measured in the benchmark's own run.

- The model's raw predict rate: one process, texts already in memory, no database. For a model that encodes
  text (minilm-linear) that is encoder and head; its rate on the vectors stored in the database (what a
  re-prediction after the first pass runs) is measured beside it.
- PostgreSQL's COPY rate into a table shaped like the predictions table (same columns and
  indexes, no foreign keys), so writing can go no faster than this on the same server.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

from ml.catalogue import USES_STORED_EMBEDDINGS
from ml.text import prepare_text
from predictions.model_store import load_version
from predictions.models import ModelVersion, Prediction
from predictions.selectors.ood import ood_checks_for

CHUNK = 2000  # texts per predict call, as a worker's chunk
# A model that encodes text (minilm-linear) predicts about 100 texts/s per process: timing it on 30,000 texts
# would take minutes, so its rate from text is timed on this many.
ENCODED_SAMPLE = 1000


@dataclass(frozen=True)
class RawRate:
    items: int
    model: float  # items/s of the model alone, from text (an embedding model: encoder and head)
    with_checks: float  # items/s of the model and the out-of-distribution checks
    # An embedding model only: items/s of the model on vectors stored in the database (read before timing), which
    # is what a re-prediction after the first pass runs; None for models without an encoder.
    encodes: bool = False  # the model encodes text (minilm-linear): ``model`` is the encoder and its head
    stored_vectors: float | None = None
    stored_items: int = 0


def raw_predict_rate(version: ModelVersion, *, log: Callable[[str], object], limit: int = 30_000) -> RawRate:
    """Predict up to ``limit`` stored texts in this process, in chunks; the database is read before timing."""
    from labeling.models import Content
    from ml.embeddings import embedding_cache_disabled, model_text_encoder
    from ml.prediction import predict

    rows = Content.objects.order_by("pk").values_list("pk", "title", "description")[:limit]
    ids = [pk for pk, _, _ in rows]
    texts = [prepare_text(title, description) for _, title, description in rows]
    model = load_version(version)
    encoder = model_text_encoder(model) if version.algorithm in USES_STORED_EMBEDDINGS else None
    if encoder is not None:
        ids, texts = ids[:ENCODED_SAMPLE], texts[:ENCODED_SAMPLE]
    with embedding_cache_disabled():  # from text every time: no vector this process saw before
        predict(model, texts[:10])  # warm: first-call imports are not the model's rate
        model_seconds = _timed(lambda chunk: predict(model, chunk), texts)
    log(f"  raw predict: {len(texts):,} texts in {model_seconds:.1f} s")
    if encoder is not None:
        predict(model, texts)  # the checks reuse the vectors the model made (as in a chunk): not timed twice
    checks = ood_checks_for(version)
    check_seconds = _timed(checks.flagged_reasons, texts) if checks is not None else 0.0
    rate = RawRate(len(texts), len(texts) / model_seconds, len(texts) / (model_seconds + check_seconds))
    if encoder is None:
        return rate
    stored, seconds = _stored_vectors_seconds(model, encoder.identity, limit)
    return replace(rate, encodes=True, stored_vectors=stored / seconds if stored else None, stored_items=stored)


def _stored_vectors_seconds(model, identity: str, limit: int) -> tuple[int, float]:
    """(items, seconds) of the model on the vectors stored for up to ``limit`` items, primed into the cache first."""
    from labeling.models import Content
    from ml.prediction import predict
    from predictions.models import ContentEmbedding
    from predictions.services.embeddings_store import embeddings_prime

    have = ContentEmbedding.objects.filter(model_name=identity).order_by("content_id")
    ids = list(have.values_list("content_id", flat=True)[:limit])
    rows = Content.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "title", "description")
    texts = [prepare_text(title, description) for _, title, description in rows]
    contents = [SimpleNamespace(content_id=pk) for pk, _, _ in rows]
    primed = embeddings_prime(contents=contents, texts=texts, identity=identity)  # as a re-prediction chunk does
    if not texts or primed != len(texts):  # a text without its vector would be encoded: not this rate
        return 0, 0.0
    return len(texts), _timed(lambda chunk: predict(model, chunk), texts)


def _timed(work: Callable[[list[str]], object], texts: list[str]) -> float:
    began = time.perf_counter()
    for start in range(0, len(texts), CHUNK):
        work(texts[start : start + CHUNK])
    return time.perf_counter() - began


def copy_rate(*, rows: int) -> float:
    """Rows/s of one binary COPY of ``rows`` prediction-shaped rows into a fresh logged table (then dropped)."""
    table = Prediction._meta.db_table
    now = timezone.now()
    probabilities = json.dumps({"computer-vision": 0.1, "mlops": 0.2, "natural-language-processing": 0.6, "other": 0.1})
    raw = connection.connection  # psycopg's own connection: COPY is not in Django's cursor API
    with connection.cursor():  # make sure Django has connected
        pass
    with raw.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
        cursor.execute(
            f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
        raw.commit()
        began = time.perf_counter()
        columns = "content_id, model_version_id, tag_id, probabilities, confidence, text_hash, created_at, predicted_at"
        with cursor.copy(f"COPY bench_copy_{table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int8", "int8", "jsonb", "float8", "text", "timestamptz", "timestamptz"])
            for n in range(rows):
                copy.write_row((n + 1, 1, 1 + n % 4, probabilities, 0.6, "0" * 64, now, now))
        raw.commit()
        seconds = time.perf_counter() - began
        cursor.execute(f"DROP TABLE bench_copy_{table}")
        raw.commit()
    return rows / seconds
