"""Light, bounded traffic against a fault site: what users and clients do, and what they got back.

One round sends one request of each kind: two pages (the content list and an item) and
three API calls (predict, a wrong-tag report, an ingestion batch of three new items).
Every answer is kept with the time it was sent, so a test can tell what happened before,
during and after a fault. Loopback only; a loop stops after a bounded time or count.
"""

import itertools
import re
import threading
import time
from dataclasses import dataclass, field

import requests

INGEST_BATCH = 3
PAGE, API = "page", "api"


@dataclass(frozen=True)
class Call:
    name: str
    kind: str  # PAGE (HTML) or API (JSON)
    method: str
    path: str
    normal: tuple[int, ...]  # the statuses of a normal answer
    json: object = None
    headers: dict = field(default_factory=dict)
    ingest_ids: tuple[str, ...] = ()  # the ids an ingestion call sends


@dataclass(frozen=True)
class Answer:
    call: Call
    sent_at: float  # time.monotonic()
    seconds: float
    status: int  # 0: no HTTP answer at all (connection refused or reset, timeout)
    content_type: str
    retry_after: str | None
    text: str

    @property
    def normal(self) -> bool:
        return self.status in self.call.normal

    @property
    def server_error(self) -> bool:
        """A 5xx other than a proper 503, or no answer: what a client must never get."""
        return self.status == 0 or (self.status >= 500 and not self.unavailable)

    @property
    def unavailable(self) -> bool:
        """503 with Retry-After, as HTML with the 'briefly unavailable' page or as problem+json on the API."""
        if self.status != 503 or not (self.retry_after or "").isdigit():
            return False
        if self.call.kind == API:
            return self.content_type.startswith("application/problem+json")
        return self.content_type.startswith("text/html") and "briefly unavailable" in self.text

    def describe(self) -> str:
        return f"{self.call.method} {self.call.path} -> {self.status} {self.content_type} {self.text[:200]!r}"


class Traffic:
    """Builds each round's calls for a seeded site and sends them."""

    def __init__(self, base_url: str, *, token: str, content_ids: list[int]):
        self.base_url, self.token, self.content_ids = base_url, token, content_ids
        self.session = requests.Session()
        self._rounds = itertools.count()
        self._tag = f"{time.time_ns():x}"  # item ids unique across sites and runs

    def round(self) -> list[Call]:
        number = next(self._rounds)
        item = self.content_ids[number % len(self.content_ids)]
        ids = tuple(f"faults-{self._tag}-{number}-{index}" for index in range(INGEST_BATCH))
        return [
            Call("content list", PAGE, "GET", "/", (200,)),
            Call("content page", PAGE, "GET", f"/content/{item}/", (200,)),
            Call(
                "predict",
                API,
                "POST",
                "/api/v1/predict",
                (200,),
                json={"title": "Semantic segmentation of street scenes", "description": f"a U-Net, call {number}"},
            ),
            Call(
                "report",
                API,
                "POST",
                f"/api/v1/content/{item}/reports",
                (200, 201),
                json={"comment": f"fault traffic {number}"},
            ),
            Call(
                "ingest",
                API,
                "POST",
                "/api/v1/content",
                (201,),
                json=[
                    {"id": item_id, "title": f"Streaming item {item_id}", "description": "object detection"}
                    for item_id in ids
                ],
                headers={"Authorization": f"Token {self.token}"},
                ingest_ids=ids,
            ),
        ]

    def send(self, call: Call, *, timeout: float = 10) -> Answer:
        sent_at = time.monotonic()
        try:
            response = self.session.request(
                call.method, self.base_url + call.path, json=call.json, headers=call.headers, timeout=timeout
            )
        except requests.RequestException as exc:
            return Answer(call, sent_at, time.monotonic() - sent_at, 0, "", None, f"{type(exc).__name__}: {exc}")
        return Answer(
            call,
            sent_at,
            time.monotonic() - sent_at,
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.headers.get("Retry-After"),
            response.text[:2000],
        )

    def send_round(self) -> list[Answer]:
        return [self.send(call) for call in self.round()]


class Loop:
    """Rounds of traffic in a thread, one request every ``pause`` seconds, until stopped or a bound is hit."""

    def __init__(self, traffic: Traffic, *, pause: float = 0.05, max_seconds: float = 60, max_requests: int = 3000):
        self.traffic, self.pause = traffic, pause
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Loop":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline and len(self.answers) < self.max_requests:
            for call in self.traffic.round():
                self.answers.append(self.traffic.send(call))
                if self._stop.wait(self.pause):
                    return

    def since(self, moment: float) -> list[Answer]:
        return [answer for answer in list(self.answers) if answer.sent_at >= moment]

    def between(self, start: float, end: float) -> list[Answer]:
        return [
            answer
            for answer in list(self.answers)
            if start <= answer.sent_at and answer.sent_at + answer.seconds <= end
        ]


def first_all_normal(answers: list[Answer], names: set[str]) -> float | None:
    """When every kind of call had answered normally, each one from then on: the moment of recovery.

    Returns the time the last kind's run of normal answers began (its answer's send time),
    or None if some kind never settled.
    """
    settled_at: dict[str, float | None] = {}
    for answer in sorted(answers, key=lambda a: a.sent_at):
        name = answer.call.name
        if answer.normal:
            if settled_at.get(name) is None:
                settled_at[name] = answer.sent_at
        else:
            settled_at[name] = None
    settled = [at for name in names if (at := settled_at.get(name)) is not None]
    if len(settled) < len(names):  # some kind never answered, or its last answer was not normal
        return None
    return max(settled)


class AdminSession:
    """An admin in a browser: logs in, clicks Retrain or Promote, reads the message the page shows."""

    def __init__(self, base_url: str, *, username: str, password: str):
        self.base_url = base_url
        self.session = requests.Session()
        page = self.session.get(f"{base_url}/accounts/login/", timeout=30)
        response = self.session.post(
            f"{base_url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": _csrf(page.text)},
            headers={"Referer": f"{base_url}/accounts/login/"},
            timeout=30,
        )
        if "Log out" not in response.text:
            raise AssertionError(f"admin login failed: {response.status_code} {response.text[:300]}")

    def post_form(self, name: str, page_path: str, action_path: str, data: dict) -> Answer:
        """Submit a form as the page would; the answer's text is the messages the page then shows."""
        page = self.session.get(self.base_url + page_path, timeout=30)
        call = Call(name, PAGE, "POST", action_path, (200,), json=data)
        sent_at = time.monotonic()
        response = self.session.post(
            self.base_url + action_path,
            data={**data, "csrfmiddlewaretoken": _csrf(page.text)},
            headers={"Referer": self.base_url + page_path},
            timeout=60,
        )
        messages = re.findall(r'<li class="[^"]*" role="status">(.*?)</li>', response.text, re.DOTALL)
        return Answer(
            call,
            sent_at,
            time.monotonic() - sent_at,
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.headers.get("Retry-After"),
            " ".join(messages) if messages else response.text[:2000],
        )

    def retrain(self, *, algorithm: str = "tfidf-linear") -> Answer:
        return self.post_form(
            "retrain", "/models/", "/models/retrain", {"algorithm": algorithm, "notes": "fault drill"}
        )

    def promote(self, number: int, *, reason: str = "fault drill") -> Answer:
        """With a reason, so a gate (a slightly lower F1 from another random state) never stops the drill."""
        return self.post_form("promote", f"/models/{number}/", f"/models/{number}/promote", {"override_reason": reason})


def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise AssertionError(f"no CSRF token on the page: {page[:300]}")
    return match.group(1)
