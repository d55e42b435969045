"""One process re-predicts N items chunk by chunk, beside the model's raw rate on the same texts, timed in turn.

Run with ``manage.py shell < benchmarks/repredict_chunk.py`` from any checkout (it uses only what every version
since the issue-18 work has: ``predictions_create`` and the active version), on a database a ``bench-repredict``
run left behind (an active version, every item predicted and showing a tag). The workers' benchmark moves with
whatever else holds the two cores in the minute it runs; here the raw predict and the chunks alternate within
seconds in one process, so their ratio is what A/B compares (scripts/bench_repredict_chunk.sh). Steadier still is
the CPU each item costs, this process's and its PostgreSQL backend's (read from /proc: the server must run on this
machine): with as many cores as workers, the "cpu ratio" (the model's CPU per item over the chunk's) is what the
workers' ratio would be with nothing else running. It leaves out PostgreSQL's background writers.

REPREDICT_MODE: ``shown`` (default) the items and their open review tasks show the active version's answer under an
older version number, as after a promotion when the tag stays; ``first`` the items show nothing yet and have no review
task (the first promotion).
REPREDICT_ITEMS (10,000) items from REPREDICT_START (40,000); REPREDICT_ROUNDS (3) raw/chunks alternations.
"""

import os
import statistics
import time

from django.db import connection

from labeling.models import Content, ReviewTask
from ml.prediction import predict
from ml.text import prepare_text
from predictions.model_store import load_version
from predictions.models import ModelStatus, ModelVersion, Prediction
from predictions.services import predictions_create

CHUNK = int(os.environ.get("REPREDICT_CHUNK", "2000"))
mode = os.environ.get("REPREDICT_MODE", "shown")
items = int(os.environ.get("REPREDICT_ITEMS", "10000"))
start = int(os.environ.get("REPREDICT_START", "40000"))
rounds = int(os.environ.get("REPREDICT_ROUNDS", "3"))

version = ModelVersion.objects.get(status=ModelStatus.ACTIVE)
ids = list(Content.objects.filter(pk__gte=start).order_by("pk").values_list("pk", flat=True)[:items])
texts = [
    prepare_text(t, d) for t, d in Content.objects.filter(pk__in=ids).order_by("pk").values_list("title", "description")
]
model = load_version(version)
predict(model, texts[:10])
# As the tree's worker processes are once started (config.celery): the model loaded, the objects that live as long
# as the process frozen out of the garbage collector's full collections. A tree without it never froze.
try:
    from common.gc_freeze import freeze_long_lived
except ImportError:
    pass
else:
    print(f"objects frozen, as this tree's workers do: {freeze_long_lived():,}")


def prepare_items() -> None:
    """The items as the mode says, committed before timing; the version's predictions of them gone."""
    Prediction.objects.filter(model_version=version, content_id__in=ids).delete()
    chosen = Content.objects.filter(pk__in=ids)
    if mode == "first":
        # Nor any review task: a first promotion opens them.
        ReviewTask.objects.filter(content_id__in=ids).delete()
        chosen.update(
            current_tag=None,
            current_tag_origin="none",
            current_tag_confidence=None,
            current_model_version=None,
            current_probabilities={},
        )
    else:
        chosen.update(current_model_version=version.number - 1)
        # Their open tasks hold the older version's answer too, so the chunk re-ranks them, as a promotion does.
        ReviewTask.objects.filter(content_id__in=ids, status="open").update(model_version=version.number - 1)
    # What autovacuum does between two promotions, minutes apart: the versions just replaced are removed, so the
    # timed rewrite finds the room a page had (and main's indexes are as clean as this code's). The predictions
    # deleted above too: left (autovacuum is off on the shared server), 30 rounds had bloated the table to 20x its
    # live rows, and the chunks' ANALYZE of it read the dead pages (a third of the server's CPU per item).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM labeling_content, predictions_prediction, labeling_reviewtask")


def server_cpu() -> float:
    """CPU seconds this connection's PostgreSQL backend has used (the server runs on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def raw_seconds() -> tuple[float, float]:
    """(wall, CPU) seconds of the model on every text."""
    began, cpu = time.perf_counter(), time.process_time()
    for at in range(0, len(texts), CHUNK):
        predict(model, texts[at : at + CHUNK])
    return time.perf_counter() - began, time.process_time() - cpu


def content_updates() -> tuple[int, int]:
    """All updates of content rows so far, and how many were in place (HOT): the server's counters, flushed first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # at the end of this statement's transaction
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'labeling_content'")
        return cursor.fetchone()


def chunk_seconds() -> tuple[float, float, float]:
    """(wall, this process's CPU, the PostgreSQL backend's CPU) seconds of the chunks."""
    began, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    for at in range(0, len(ids), CHUNK):
        predictions_create(model_version_id=version.pk, content_ids=ids[at : at + CHUNK])
    return time.perf_counter() - began, time.process_time() - cpu, server_cpu() - server


# Wall rates move with whatever else holds the cores; CPU per item hardly does. With as many cores as workers,
# re-prediction / (raw x workers) is the model's CPU per item over the chunk's, the server's included: cpu ratio.
ratios, cpu_ratios = [], []
for n in range(rounds):
    prepare_items()
    updated, hot = content_updates()
    (raw_before, raw_cpu_before), (chunks, client, server), (raw_after, raw_cpu_after) = (
        raw_seconds(),
        chunk_seconds(),
        raw_seconds(),
    )
    raw_rate, chunk_rate = 2 * len(texts) / (raw_before + raw_after), len(ids) / chunks
    raw_cpu = (raw_cpu_before + raw_cpu_after) / (2 * len(texts))
    ratios.append(chunk_rate / raw_rate)
    cpu_ratios.append(raw_cpu / ((client + server) / len(ids)))
    load = open("/proc/loadavg").read().split()[0]
    updated, hot = (now - before for now, before in zip(content_updates(), (updated, hot), strict=True))
    print(
        f"round {n + 1} ({mode}, {len(ids):,} items, load {load}): raw {raw_rate:,.0f}/s, "
        f"re-predict {chunk_rate:,.0f}/s, ratio {ratios[-1]:.3f}; CPU per item: model {raw_cpu * 1e6:.0f} us, "
        f"chunk {client / len(ids) * 1e6:.0f} us here + {server / len(ids) * 1e6:.0f} us PostgreSQL, "
        f"cpu ratio {cpu_ratios[-1]:.3f}; content rows rewritten {updated:,}, in place (HOT) {hot:,}"
    )
print(f"median ratio ({mode}): {statistics.median(ratios):.3f}; median cpu ratio: {statistics.median(cpu_ratios):.3f}")
