"""The public list's tag filters at scale: p50/p99 of pages and the plans PostgreSQL picks for them.

Run with ``manage.py shell < benchmarks/public_tag_filter.py`` from any checkout, on a database ``bench_public
--content 1000000`` seeded (TAGLOOP_PUBLIC_REQUESTS, default 50, requests per page). It uses only what every version
has: the public list's URL, ``selectors.content_public_list`` and the content API's filter, so the same file
measures the code before and after a change (each on its own schema). Prints one line per page and the EXPLAIN
(ANALYZE) of the list's first page, page 200 (the last the pager offers: it counts up to 10,000 rows) and the pager's
count, and of the API's first page and one deep in. The list's queries are the selector's: a tree whose pager
reads a page otherwise (through ContentTagOrder) runs other queries for the timed pages.
"""

import os
import statistics
import time

from django.db import connection
from django.test import Client
from django.urls import reverse

from labeling import selectors
from labeling.api.filters import ContentFilter
from labeling.models import Content

requests = int(os.environ.get("TAGLOOP_PUBLIC_REQUESTS", "50"))
client = Client()
url = reverse("labeling:content-list")
cases = [
    ("tag, first page", "?tag=mlops"),
    ("tag, page 200 (the pager's last)", "?tag=mlops&page=200"),
    ("untagged, first page", "?tag=untagged"),
    ("untagged, page 200", "?tag=untagged&page=200"),
    ("tag + search, first page", "?tag=mlops&q=kubernetes"),
    ("no filter, first page", ""),
]
print(f"{Content.objects.count():,} items; load {os.getloadavg()[0]:.2f}")
for label, query in cases:
    client.get(url + query)
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url + query)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    print(f"{label:34} p50 {statistics.median(times) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  ({requests} requests)")
print(f"load {os.getloadavg()[0]:.2f}")


def explain(title: str, queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        print(f"-- {title}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if os.environ.get("TAGLOOP_PUBLIC_EXPLAIN", "1") == "1":
    for tag in ["mlops", "untagged"]:
        items = selectors.content_public_list(tag=tag)
        explain(f"{tag}: first page", items[:50])
        explain(f"{tag}: page 200", items[9_950:10_000])
        explain(f"{tag}: the pager's count", items.values("pk")[:10_001])
        narrow = getattr(selectors, "content_public_list_narrow", lambda **_: None)(tag=tag)
        if narrow is not None:  # what this tree's pager runs instead of the two above
            explain(f"{tag}: the pager's count, from ContentTagOrder", narrow.values("pk")[:10_001])
            explain(
                f"{tag}: page 200, its ids from ContentTagOrder", items.filter(pk__in=narrow.values("pk")[9_950:10_000])
            )
    api = ContentFilter({"tag": "mlops"}, queryset=selectors.content_for_api()).qs.order_by("-pk")
    explain("API tag=mlops: first page", api[:51])
    explain("API tag=mlops: a page deep in", api.filter(pk__lt=200_000)[:51])
