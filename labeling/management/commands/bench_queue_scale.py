"""Benchmark the review queue at a million items: seed by SQL, ANALYZE, time the queue's requests, explain the slow queries.

Seeds 1,000,000 items and 200,000 open review tasks (a realistic mix of reasons, a long answered history,
audits half answered, leases others hold) with ``generate_series`` in a scratch database, in well under a
minute, then times p50/p99 of ``/review/``, the next item, the review page and an answer through Django's
test client, beside a page that reads nothing (the floor). The three slowest queries of each request are
shown with ``EXPLAIN ANALYZE``. Writes "## Review queue at a million items" in docs/benchmarks.md.
"""

import json
import os
import statistics
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.markdown_section import replace_section
from common.roles import ANNOTATOR, roles_ensure
from labeling.management.benchmarking import add_scratch_database_argument, require_scratch_database
from labeling.management.commands.bench_queue import _p99
from labeling.management.queue_seeding import SOURCES, QueueShape, seed_queue
from labeling.management.trigger_cost import trigger_cost
from labeling.models import Content

SECTION = "Review queue at a million items"
# What the figures measure and what changed (issue 18), written under the table on every run.
NOTES = """
The seeded queue: 1% reports, 0.5% disagreements, 80% low confidence, 4% out of distribution, 2% emerging
topics, 1% re-queued, 1.5% suspect labels, 10% audits (a fifth of them half answered, a third of those by the
measured annotator); 60 other annotators hold leases at the top of the queue; the measured annotator has
50,000 answers and 20 open reports of their own. "Next item" gives the leased task back (skip, untimed)
after each request, so every request walks the queue; "answer + next item" answers (settling reports and
low-confidence items in priority order) and leases the next one. The baseline is a page that reads nothing.

What the query plans (printed by the command) showed before, and what replaced it:

- `/review/` counted the open tasks twice, a GROUP BY by reason and the tasks "for you now" with two
  anti-joins over every open task (a parallel scan of 200,000 rows, plus a hash of the annotator's 50,000
  answers), and with a source filter a join of the 1,000,000 items besides. Now the counts are sums
  over a table PostgreSQL's triggers keep in the same transaction as every change to the tasks (migration
  0015, signed rows per reason, tag and source, folded by beat), and "for you now" is that count minus the
  tasks ruled out for the annotator, each set found through its own index: leases (a partial index on
  held open tasks), their own reports, and the open audits they answered (a merge of two index-only scans).
- "Next item" found the annotator's held task through the index on every task they ever held (50,000
  rows read), and excluded their answered tasks by hashing all 50,000 answers. Now a partial index on held
  open tasks answers the first, and the second is a per-row check on audits only (only a task that needs
  several answers can be open with one standing), so the walk down `review_open_order_idx` (priority,
  age, id, open tasks only) stops at the first free row, without a sort.
- The review page counted the annotator's answers today and this session over all their answers, and read
  the undo window and the history panel the same way; a partial index on standing answers by annotator,
  newest first, reads only the recent ones.
"""
STATEMENTS = ("SELECT", "(SELECT", "UPDATE", "INSERT", "DELETE", "WITH")  # a UNION opens with "("
SLOWEST_SHOWN = 3


class Command(BaseCommand):
    help = "Seed 1M items and 200k open tasks by SQL in a scratch database; print p50/p99 and query plans."

    def add_arguments(self, parser):
        parser.add_argument("--content", type=int, default=1_000_000)
        parser.add_argument("--tasks", type=int, default=200_000, help="open review tasks")
        parser.add_argument("--requests", type=int, default=100)
        parser.add_argument("--label", default="", help="what this run measures (e.g. 'before'), for the table")
        parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
        parser.add_argument("--no-explain", action="store_true")
        parser.add_argument("--no-trigger-cost", action="store_true", help="skip timing the counts' triggers")
        parser.add_argument("--save", help="write the figures to this JSON file (a 'before' run for --before)")
        parser.add_argument("--before", help="a JSON file from --save: show its figures beside these")
        add_scratch_database_argument(parser)

    def handle(
        self, content, tasks, requests, label, no_write, no_explain, no_trigger_cost, save, before, yes, **options
    ):
        require_scratch_database(allowed=yes)
        if connection.vendor != "postgresql":
            raise SystemExit("this benchmark seeds with PostgreSQL's generate_series: set DATABASE_URL")
        shape = QueueShape(content=content, open_tasks=tasks)
        user = self._annotator()
        began = time.perf_counter()
        if seed_queue(shape, annotator_id=user.pk, progress=self.stderr.write):
            self.stderr.write(f"seeded and analyzed in {time.perf_counter() - began:.0f} s")
        client = Client()
        client.force_login(user)
        results = self._measure_all(client, requests)
        figures = _figures(results)
        if save:
            Path(save).write_text(json.dumps(figures, indent=1), encoding="utf-8")
        reference = json.loads(Path(before).read_text(encoding="utf-8")) if before else None
        table = self._table(figures, reference, shape, requests, label)
        if not no_trigger_cost:
            first = Content.objects.filter(source__in=SOURCES).order_by("pk").values_list("pk", flat=True).first()
            table += "\n" + _cost_table(trigger_cost(first_free_item=first + shape.open_tasks + shape.done_tasks))
        table += "\n" + NOTES
        self.stdout.write(table)
        if not no_explain:
            self.stdout.write(self._plans(results))
        if not no_write:
            replace_section(Path(settings.BASE_DIR) / "docs" / "benchmarks.md", SECTION, table)
            self.stdout.write(f"wrote '## {SECTION}' in docs/benchmarks.md")

    def _annotator(self):
        roles_ensure()
        user, _ = get_user_model().objects.get_or_create(username="bench-annotator")
        user.groups.add(Group.objects.get(name=ANNOTATOR))
        return user

    def _measure_all(self, client: Client, requests: int) -> list[dict]:
        queue = reverse("labeling:review-queue")
        cases = [
            ("queue page (`GET /review/`)", lambda: client.get(queue)),
            ("queue page, reason filter (`?reason=audit_sample`)", lambda: client.get(queue + "?reason=audit_sample")),
            ("queue page, source filter (`?source=bench-b`)", lambda: client.get(queue + "?source=bench-b")),
            ("next item (`POST /review/start`)", _leasing(client, {})),
            ("next item, reason filter (audit_sample)", _leasing(client, {"reason": "audit_sample"})),
            ("next item, tag filter (other)", _leasing(client, {"tag": "other"})),
            ("next item, source filter (bench-b)", _leasing(client, {"source": "bench-b"})),
        ]
        results = [self._measure(name, request, requests) for name, request in cases]
        results.append(self._measure_review_and_answer(client, requests))
        results.append(
            self._measure("baseline: login page, no queries", lambda: Client().get(reverse("login")), requests)
        )
        return results

    def _measure(self, name: str, request, requests: int) -> dict:
        after = getattr(request, "after", lambda response: None)
        after(request())  # warm: templates compiled, connection open
        times, statements, queries = [], [], set()
        for _ in range(requests):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = request()
            times.append(time.perf_counter() - began)
            if response.status_code not in (200, 302):
                raise RuntimeError(f"{name} answered {response.status_code}")
            queries.add(len(captured))
            statements = _statements(captured.captured_queries)
            after(response)
        return {"name": name, "times": times, "queries": queries, "statements": statements}

    def _measure_review_and_answer(self, client: Client, requests: int) -> dict:
        """The review page, then the answer (which leases the next item): what an annotator waits for each item."""
        page_times, answer_times, statements, queries = [], [], [], set()
        url = client.post(reverse("labeling:review-start"))["Location"]
        for _ in range(requests):
            began = time.perf_counter()
            client.get(url)
            page_times.append(time.perf_counter() - began)
            task_id = int(url.rstrip("/").rsplit("/", 1)[1])
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.post(reverse("labeling:review-answer", args=[task_id]), {"tag": "mlops"})
            answer_times.append(time.perf_counter() - began)
            queries.add(len(captured))
            statements = _statements(captured.captured_queries)
            url = response["Location"]
        return {
            "name": "answer + next item (`POST …/answer`)",
            "times": answer_times,
            "queries": queries,
            "statements": statements,
            "page_times": page_times,
        }

    def _table(self, figures: dict, reference: dict | None, shape: QueueShape, requests: int, label: str) -> str:
        lines = [
            f"Measured {date.today()}{f' ({label})' if label else ''} with `make bench-queue-scale` on PostgreSQL:"
            f" {shape.content:,} items, {shape.open_tasks:,} open review tasks, {shape.done_tasks:,} answered ones,"
            f" {requests} requests each through the in-process test client, after VACUUM ANALYZE;"
            f" {os.cpu_count()} cores, load average {figures['load']} at the end"
            + (f" (before: {reference['load']})." if reference else "."),
            "",
        ]
        if reference:
            lines += [
                "| request | before p50 ms | before p99 ms | p50 ms | p99 ms | before / now (p50) | × baseline | queries |",
                "|---|---|---|---|---|---|---|---|",
            ]
        else:
            lines += ["| request | p50 ms | p99 ms | × baseline | queries |", "|---|---|---|---|---|"]
        base = figures["rows"][-1]["p50"]
        for row in figures["rows"]:
            then = {old["name"]: old for old in (reference or {}).get("rows", [])}.get(row["name"])
            cells = [row["name"]]
            if reference:
                cells += [f"{then['p50']:.1f}", f"{then['p99']:.1f}"] if then else ["", ""]
            cells += [f"{row['p50']:.1f}", f"{row['p99']:.1f}"]
            if reference:
                cells.append(f"{then['p50'] / row['p50']:.1f}" if then else "")
            cells += [f"{row['p50'] / base:.1f}", row["queries"]]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def _plans(self, results: list[dict]) -> str:
        """Each request's last run, every statement explained; the SLOWEST_SHOWN slowest printed whole."""
        out = []
        for row in results[:-1]:
            plans = sorted((_explain(sql) for sql in row["statements"]), key=lambda plan: -plan[0])
            total = sum(ms for ms, _ in plans)
            out.append(f"\n=== {row['name']}: {len(plans)} statements, {total:.1f} ms in the database ===")
            for ms, plan in plans[:SLOWEST_SHOWN]:
                out.append(f"--- {ms:.2f} ms\n{plan}")
        return "\n".join(out)


def _cost_table(costs: list[dict]) -> str:
    lines = [
        "",
        "What the counts' triggers cost a set-based writer (one statement each, in a transaction rolled back; medians"
        " of 3, with the triggers and with them disabled):",
        "",
        "| statement | with triggers ms | without ms | ratio |",
        "|---|---|---|---|",
    ]
    for row in costs:
        lines.append(
            f"| {row['step']} | {row['with']:.0f} | {row['without']:.0f} | {row['with'] / row['without']:.2f} |"
        )
    return "\n".join(lines)


def _figures(results: list[dict]) -> dict:
    """p50/p99 (ms) and query counts per request, in the table's order: what ``--save`` keeps for a later run."""
    answer = results[-2]
    page = {"name": "review page (`GET /review/task/N/`)", "times": answer["page_times"], "queries": set()}
    rows = [*results[:-2], page, answer, results[-1]]
    return {
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "rows": [
            {
                "name": row["name"],
                "p50": statistics.median(row["times"]) * 1000,
                "p99": _p99(row["times"]) * 1000,
                "queries": ", ".join(str(n) for n in sorted(row["queries"])),
            }
            for row in rows
        ],
    }


def _leasing(client: Client, filters: dict):
    """Ask for the next item; the measurement gives it back unanswered (skip, untimed), so each request walks the queue."""

    def request():
        return client.post(reverse("labeling:review-start"), filters)

    request.after = lambda response: _skip(client, response)  # type: ignore[attr-defined]
    return request


def _skip(client: Client, response) -> None:
    if "/review/task/" in response.url:
        client.post(response.url + "skip")


def _statements(captured: list[dict]) -> list[str]:
    """The request's reads and writes (not its transaction control), each once."""
    kept = [query["sql"] for query in captured if query["sql"].lstrip().upper().startswith(STATEMENTS)]
    return list(dict.fromkeys(kept))


def _explain(sql: str) -> tuple[float, str]:
    """EXPLAIN ANALYZE in a transaction rolled back, so a locking or writing statement changes nothing.

    Returns the execution time (ms) and the statement with its plan.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
            lines = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
    except DatabaseError as error:
        return 0.0, f"{sql}\n(no plan: {error})"
    ms = next((float(line.split()[-2]) for line in lines if line.startswith("Execution Time")), 0.0)
    return ms, sql + "\n" + "\n".join(lines)
