"""Benchmark the review queue at scale: seed 100,000 items and 20,000 open tasks, time "next item" and the page."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.roles import ANNOTATOR, roles_ensure
from labeling.management.benchmarking import add_scratch_database_argument, require_scratch_database
from labeling.models import Content, ReviewReason, ReviewTask, Tag
from labeling.services import text_hash

SOURCE = "bench"


class Command(BaseCommand):
    help = "Seed a large queue in a scratch database and print p50/p99 of the queue's hot requests."

    def add_arguments(self, parser):
        parser.add_argument("--content", type=int, default=100_000)
        parser.add_argument("--tasks", type=int, default=20_000)
        parser.add_argument("--requests", type=int, default=300)
        add_scratch_database_argument(parser)

    def handle(self, content, tasks, requests, yes, **options):
        require_scratch_database(allowed=yes)
        self._seed(content, tasks)
        client = self._annotator_client()
        start, page, queries = self._measure(client, requests)
        baseline = self._measure_baseline(requests)
        self._report(start, page, queries, baseline, content, tasks, requests)

    def _seed(self, content_count: int, task_count: int) -> None:
        have = Content.objects.filter(source=SOURCE).count()
        if have < content_count:
            self.stderr.write(f"seeding {content_count - have} content items…")
            new_contents = (
                Content(
                    source=SOURCE,
                    external_id=str(i),
                    title=f"Benchmark item {i} about models",
                    description="A description long enough to look like real content. " * 3,
                    text_hash=text_hash(f"Benchmark item {i}", ""),
                )
                for i in range(have, content_count)
            )
            _bulk(Content, new_contents)
        open_tasks = ReviewTask.objects.filter(content__source=SOURCE, status="open").count()
        if open_tasks < task_count:
            self.stderr.write(f"seeding {task_count - open_tasks} open review tasks…")
            ids = Content.objects.filter(source=SOURCE, review_tasks__isnull=True).values_list("pk", flat=True)
            tags = list(Tag.objects.values_list("slug", flat=True))
            new_tasks = (
                ReviewTask(
                    content_id=content_id,
                    reason=ReviewReason.LOW_CONFIDENCE,
                    priority=2.0 + (i % 997) / 1000,
                    predicted_tag=tags[i % len(tags)],
                    probabilities={tag: 0.25 for tag in tags},
                )
                for i, content_id in enumerate(ids[: task_count - open_tasks])
            )
            _bulk(ReviewTask, new_tasks)

    def _annotator_client(self) -> Client:
        roles_ensure()
        user, _ = get_user_model().objects.get_or_create(username="bench-annotator")
        user.groups.add(Group.objects.get(name=ANNOTATOR))
        client = Client()
        client.force_login(user)
        return client

    def _measure(self, client: Client, requests: int):
        start_times, page_times, queries = [], [], set()
        for _ in range(requests):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as start_queries:
                response = client.post(reverse("labeling:review-start"))
            start_times.append(time.perf_counter() - began)
            task_url = _redirect_target(response)
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as page_queries:
                client.get(task_url)
            page_times.append(time.perf_counter() - began)
            queries.add((len(start_queries), len(page_queries)))
            # Skip the item so the next "start" leases a new one, as a working annotator would.
            client.post(task_url + "skip")
        return start_times, page_times, queries

    def _measure_baseline(self, requests: int) -> list[float]:
        # The floor: the same stack rendering a page that reads nothing (the login form).
        client = Client()
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            client.get(reverse("login"))
            times.append(time.perf_counter() - began)
        return times

    def _report(self, start, page, queries, baseline, content, tasks, requests) -> None:
        vendor = connection.vendor
        rows = [
            ("next item (POST /review/start)", start),
            ("review page (GET /review/task/N/)", page),
            ("baseline: login page (no queries)", baseline),
        ]
        self.stdout.write(f"{vendor}, {content:,} content items, {tasks:,} open tasks, {requests} requests each")
        self.stdout.write(f"{'request':38} {'p50 ms':>8} {'p99 ms':>8} {'x baseline':>10}")
        base = statistics.median(baseline)
        for label, times in rows:
            p50, p99 = statistics.median(times) * 1000, _p99(times) * 1000
            self.stdout.write(f"{label:38} {p50:8.1f} {p99:8.1f} {p50 / (base * 1000):10.2f}")
        self.stdout.write(f"queries per (next item, page): {sorted(queries)}")


def _redirect_target(response: HttpResponseBase) -> str:
    # "Start" redirects to the leased task; anything else (an empty queue, a lost login) ends the run.
    if response.status_code != 302:
        raise CommandError(f"POST /review/start answered {response.status_code}, not a redirect to a task")
    return response["Location"]


def _bulk(model, rows, size: int = 5000) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            model.objects.bulk_create(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)


def _p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
