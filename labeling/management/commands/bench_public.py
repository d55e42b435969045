"""Benchmark the public pages at scale: 100,000 items, the list with search and tag filter, an item, a tag page.

Writes its figures to the "## Public pages" section of docs/benchmarks.md.
"""

import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.markdown_section import replace_section
from labeling.management.benchmarking import add_scratch_database_argument, require_scratch_database
from labeling.management.commands.bench_queue import _bulk, _p99
from labeling.models import Content, Tag, TagOrigin
from labeling.services import text_hash

SOURCE = "bench-public"
START = datetime(2020, 1, 1, tzinfo=UTC)
# Words titles are made of; "kubernetes" is in about 1 title in 40, "transformer" in about 1 in 6.
COMMON = ["model", "learning", "data", "neural", "deep", "training", "network", "pipeline", "transformer"]
RARE = ["kubernetes", "segmentation", "tokenizer", "drift", "diffusion", "graph", "speech", "bandit"]
CJK_TITLES = ["深層学習による画像認識", "自然语言处理入门", "머신러닝 파이프라인 배포"]


class Command(BaseCommand):
    help = "Seed 100,000 public items in a scratch database and print p50/p99 of the public pages."

    def add_arguments(self, parser):
        parser.add_argument("--content", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
        add_scratch_database_argument(parser)

    def handle(self, content, requests, no_write, yes, **options):
        require_scratch_database(allowed=yes)
        self._seed(content)
        item = Content.objects.filter(source=SOURCE).order_by("pk").first()
        client = Client()
        cases = [
            ("list, first page (`/`)", reverse("labeling:content-list")),
            ("list, page 1,000 (`/?page=1000`)", reverse("labeling:content-list") + "?page=1000"),
            ("tag filter (`/?tag=mlops`)", reverse("labeling:content-list") + "?tag=mlops"),
            ("search, rare word (`/?q=kubernetes`)", reverse("labeling:content-list") + "?q=kubernetes"),
            ("search, common word (`/?q=transformer`)", reverse("labeling:content-list") + "?q=transformer"),
            ("search, no match (`/?q=zebrafish`)", reverse("labeling:content-list") + "?q=zebrafish"),
            ("search + tag (`/?q=kubernetes&tag=mlops`)", reverse("labeling:content-list") + "?q=kubernetes&tag=mlops"),
            ("search, CJK (`/?q=画像`)", reverse("labeling:content-list") + "?q=画像"),
            ("item page (`/content/N/`)", reverse("labeling:content-detail", args=[item.pk])),
            ("tag page (`/tags/mlops/`)", reverse("labeling:tag-detail", args=["mlops"])),
            ("baseline: login page, no queries", reverse("login")),
        ]
        results = [(label, *self._measure(client, url, requests)) for label, url in cases]
        table = self._table(results, content, requests)
        self.stdout.write(table)
        if not no_write:
            replace_section(Path(settings.BASE_DIR) / "docs" / "benchmarks.md", "Public pages", table)
            self.stdout.write("wrote '## Public pages' in docs/benchmarks.md")

    def _seed(self, count: int) -> None:
        have = Content.objects.filter(source=SOURCE).count()
        if have >= count:
            return
        self.stderr.write(f"seeding {count - have} public items…")
        rng = random.Random(7)
        tags = list(Tag.objects.filter(is_active=True))

        def row(i: int) -> Content:
            title = self._title(rng, i)
            tag = tags[i % len(tags)] if i % 10 else None  # one item in ten untagged yet
            return Content(
                source=SOURCE,
                external_id=str(i),
                title=title,
                description=" ".join(rng.choice(COMMON) for _ in range(30)),
                text_hash=text_hash(title, str(i)),
                created_on=START + timedelta(minutes=i),
                current_tag=tag,
                current_tag_origin=TagOrigin.MODEL if tag else TagOrigin.NONE,
                current_tag_confidence=0.9 if tag else None,
                current_model_version=1 if tag else None,
            )

        _bulk(Content, (row(i) for i in range(have, count)))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Fresh statistics for the planner, and a visibility map so counts read only the index.
                cursor.execute("VACUUM ANALYZE labeling_content")

    @staticmethod
    def _title(rng: random.Random, i: int) -> str:
        if i % 500 == 0:
            return CJK_TITLES[(i // 500) % len(CJK_TITLES)]
        words = [rng.choice(COMMON) for _ in range(5)]
        if rng.random() < 0.025:
            words.insert(rng.randrange(len(words)), "kubernetes")
        words.insert(rng.randrange(len(words)), rng.choice(RARE[1:]))
        return f"{' '.join(words).capitalize()} {i}"

    def _measure(self, client: Client, url: str, requests: int):
        times, queries = [], set()
        client.get(url)  # warm: templates compiled, connection open
        for _ in range(requests):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            times.append(time.perf_counter() - began)
            queries.add(len(captured))
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
        return times, queries

    def _table(self, results, content: int, requests: int) -> str:
        base = statistics.median(results[-1][1])
        load = os.getloadavg()[0]
        lines = [
            f"Measured {date.today()} with `make bench-public` on {connection.vendor} ({content:,} items, {requests}"
            f" requests each, in-process test client, anonymous visitor; {os.cpu_count()} cores, load average"
            f" {load:.1f} at the end). Search is case-insensitive on title and description, served on PostgreSQL by"
            " trigram GIN indexes (migration 0012) from three characters; pages of 50; a search counts up to 10,000"
            " matches for the pager.",
            "",
            "| request | p50 ms | p99 ms | × baseline | queries |",
            "|---|---|---|---|---|",
        ]
        for label, times, queries in results:
            p50, p99 = statistics.median(times) * 1000, _p99(times) * 1000
            counts = ", ".join(str(n) for n in sorted(queries))
            lines.append(f"| {label} | {p50:.1f} | {p99:.1f} | {p50 / (base * 1000):.1f} | {counts} |")
        return "\n".join(lines)
