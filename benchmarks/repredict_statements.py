"""The PostgreSQL backend's CPU per item of a re-prediction chunk, statement by statement.

Run with ``manage.py shell < benchmarks/repredict_statements.py`` on a database a ``bench-repredict`` run left
(as benchmarks/repredict_chunk.py, whose knobs it takes: REPREDICT_MODE, REPREDICT_ITEMS, REPREDICT_START,
REPREDICT_ROUNDS). Each statement the chunks send is timed by its backend's on-CPU time (/proc/<pid>/schedstat:
nanoseconds, where /proc/<pid>/stat counts 10 ms ticks), grouped by the statement's first words; the commit is its
own line. The server must run on this machine.
"""

import os
import re
import time
from collections import defaultdict

from django.db import connection

from labeling.models import Content
from predictions.models import ModelStatus, ModelVersion, Prediction
from predictions.services import predictions_create

CHUNK = 2000
mode = os.environ.get("REPREDICT_MODE", "shown")
items = int(os.environ.get("REPREDICT_ITEMS", "10000"))
start = int(os.environ.get("REPREDICT_START", "40000"))
rounds = int(os.environ.get("REPREDICT_ROUNDS", "3"))

version = ModelVersion.objects.get(status=ModelStatus.ACTIVE)
ids = list(Content.objects.filter(pk__gte=start).order_by("pk").values_list("pk", flat=True)[:items])


def prepare_items() -> None:
    """As benchmarks/repredict_chunk.py: the items as the mode says, the version's predictions of them gone."""
    Prediction.objects.filter(model_version=version, content_id__in=ids).delete()
    chosen = Content.objects.filter(pk__in=ids)
    if mode == "first":
        chosen.update(
            current_tag=None,
            current_tag_origin="none",
            current_tag_confidence=None,
            current_model_version=None,
            current_probabilities={},
        )
    else:
        chosen.update(current_model_version=version.number - 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM labeling_content, predictions_prediction")


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def on_cpu(pid: int) -> int:
    return int(open(f"/proc/{pid}/schedstat").read().split()[0])


def shape(sql: str) -> str:
    """A statement's kind: its first words and its table, without parameters."""
    sql = re.sub(r"\s+", " ", sql).strip()
    table = re.search(r"(?:INTO|UPDATE|FROM) \"?(\w+)", sql)
    return f"{sql[:70]} … {table.group(1) if table else ''}"


cpu: defaultdict[str, int] = defaultdict(int)
whole = 0
calls: defaultdict[str, int] = defaultdict(int)
pid = 0


def timed(execute, sql, params, many, context):
    before = on_cpu(pid)
    try:
        return execute(sql, params, many, context)
    finally:
        key = shape(sql)
        cpu[key] += on_cpu(pid) - before
        calls[key] += 1


predictions_create(model_version_id=version.pk, content_ids=ids[:10])  # the model loaded, caches warm
for n in range(rounds):
    prepare_items()
    pid = backend_pid()
    total_before, began = on_cpu(pid), time.perf_counter()
    with connection.execute_wrapper(timed):
        for at in range(0, len(ids), CHUNK):
            predictions_create(model_version_id=version.pk, content_ids=ids[at : at + CHUNK])
    total = on_cpu(pid) - total_before
    whole += total
    print(f"round {n + 1}: backend {total / len(ids) / 1e3:.1f} us/item, wall {time.perf_counter() - began:.1f} s")
per = len(ids) * rounds
load = open("/proc/loadavg").read().split()[0]
print(f"\n{mode}, {len(ids):,} items x {rounds}, load {load}; backend CPU per item by statement:")
print("| statement | calls per chunk | us per item |\n|---|---|---|")
for key in sorted(cpu, key=lambda name: cpu[name], reverse=True):
    print(f"| {key} | {calls[key] / rounds / (len(ids) / CHUNK):.1f} | {cpu[key] / per / 1e3:.1f} |")
print(f"| commits and the rest (not a statement) | | {(whole - sum(cpu.values())) / per / 1e3:.1f} |")
print(f"| the backend in all | | {whole / per / 1e3:.1f} |")
