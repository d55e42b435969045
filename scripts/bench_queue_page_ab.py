"""The queue page's three variants and the login page (the reference), interleaved request by request.

Run through ``manage.py shell`` by ``scripts/bench_queue_page_ab.sh``, against a database seeded by
``manage.py bench_queue_scale``; prints one JSON line of milliseconds per request.
"""

import json
import os
import time

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

annotator = Client()
annotator.force_login(get_user_model().objects.get(username="bench-annotator"))
anonymous = Client()
queue = reverse("labeling:review-queue")
pages = {
    "queue": (annotator, queue),
    "reason": (annotator, queue + "?reason=audit_sample"),
    "source": (annotator, queue + "?source=bench-b"),
    "login": (anonymous, reverse("login")),
}
for client, url in pages.values():
    client.get(url)  # templates compiled, connection open
times: dict[str, list[float]] = {name: [] for name in pages}
for _ in range(int(os.environ.get("N", "25"))):
    for name, (client, url) in pages.items():
        began = time.perf_counter()
        response = client.get(url)
        times[name].append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{name} answered {response.status_code}")
print("JSON" + json.dumps(times))
