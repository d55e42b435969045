"""A re-prediction chunk's CPU with its statements unprepared, prepared (plan_cache_mode auto), prepared with custom plans.

Run with ``manage.py shell < benchmarks/repredict_prepared_modes.py`` on a database a bench-repredict run left (the
server on this machine: the backend's CPU is read from /proc). Each run re-predicts 10,000 items (ids 4,001-14,000)
in chunks of 2,000 on one connection; the three modes rotate round by round. MODE=shown|first as in
repredict_chunk.py, ROUNDS (4). STATS=1 also reads pg_stat_statements (planning and executing time per item, the
top statements of each mode's last run): the server needs it preloaded with track_planning on.
"""

import os
import statistics
import time

from django.conf import settings
from django.db import connection

from common.gc_freeze import freeze_long_lived
from labeling.models import Content
from predictions.model_store import load_version
from predictions.models import ModelStatus, ModelVersion, Prediction
from predictions.services import predictions_create

version = ModelVersion.objects.get(status=ModelStatus.ACTIVE)
load_version(version)
freeze_long_lived()
MODE = os.environ.get("MODE", "shown")
ids = list(Content.objects.order_by("pk").values_list("pk", flat=True)[4000:14000])


def reset():
    Prediction.objects.filter(model_version=version, content_id__in=ids).delete()
    if MODE == "first":
        Content.objects.filter(pk__in=ids).update(
            current_tag=None,
            current_tag_origin="none",
            current_tag_confidence=None,
            current_model_version=None,
            current_probabilities={},
        )
    else:
        Content.objects.filter(pk__in=ids).update(current_model_version=version.number - 1)
    with connection.cursor() as c:
        c.execute("VACUUM labeling_content, predictions_prediction")


def server_cpu():
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def run(mode):
    settings.TAGLOOP_PREPARE_BULK_STATEMENTS = mode != "off"
    with connection.cursor() as c:
        c.execute(f"SET plan_cache_mode = {'force_custom_plan' if mode == 'custom' else 'auto'}")
    reset()
    if STATS:
        with connection.cursor() as c:
            c.execute("SELECT pg_stat_statements_reset()")
    cpu, srv = time.process_time(), server_cpu()
    for at in range(0, len(ids), 2000):
        predictions_create(model_version_id=version.pk, content_ids=ids[at : at + 2000])
    out = (time.process_time() - cpu) / len(ids) * 1e6, (server_cpu() - srv) / len(ids) * 1e6
    if STATS:
        with connection.cursor() as c:
            c.execute(
                "SELECT sum(total_plan_time), sum(total_exec_time), sum(plans), sum(calls) FROM pg_stat_statements WHERE toplevel AND query !~ 'pg_stat_statements'"
            )
            plan, exe, plans, calls = c.fetchone()
            stats[mode].append((plan * 1e3 / len(ids), exe * 1e3 / len(ids)))
            c.execute(
                "SELECT total_plan_time * 1e3 / %s, total_exec_time * 1e3 / %s, plans, calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_statements WHERE toplevel ORDER BY total_plan_time + total_exec_time DESC LIMIT 14",
                [len(ids), len(ids)],
            )
            top[mode] = c.fetchall()
    return out


STATS = os.environ.get("STATS")
stats: dict[str, list[tuple[float, float]]] = {m: [] for m in ("off", "auto", "custom")}
top: dict[str, list] = {}
res: dict[str, list[tuple[float, float]]] = {m: [] for m in ("off", "auto", "custom")}
order = ["off", "auto", "custom"]
run("auto")  # warm: statements prepared, plans cached
run("custom")
for r in range(int(os.environ.get("ROUNDS", "4"))):
    for m in order[r % 3 :] + order[: r % 3]:
        res[m].append(run(m))
    print(
        f"round {r + 1}, load {open('/proc/loadavg').read().split()[0]}: "
        + "; ".join(f"{m} {c:.1f}+{s:.1f}" for m, v in res.items() for c, s in v[-1:])
    )
for m, v in res.items():
    cs, ss = [c for c, _ in v], [s for _, s in v]
    print(
        f"{MODE} {m}: client {statistics.median(cs):.1f} ({min(cs):.1f}-{max(cs):.1f}) us/item, server {statistics.median(ss):.1f} ({min(ss):.1f}-{max(ss):.1f}) us/item"
    )

if STATS:
    for m, v in stats.items():
        print(
            f"{MODE} {m}: planning {statistics.median(p for p, _ in v):.2f} us/item ({min(p for p, _ in v):.2f}-{max(p for p, _ in v):.2f}), executing {statistics.median(e for _, e in v):.2f} ({min(e for _, e in v):.2f}-{max(e for _, e in v):.2f})"
        )
    for m, rows in top.items():
        print(f"-- {m} (last round), us/item plan / exec, plans, calls")
        for row in rows:
            print(f"   {row[0]:.2f} / {row[1]:.2f}  {row[2]:>4} {row[3]:>4}  {row[4]}")
