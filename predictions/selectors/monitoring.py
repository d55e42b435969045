"""What the monitoring page, the drift API and /metrics read: live quality, drift, daily series.

Live evaluation compares each model version's prediction for an item with the gold
label people later decided for it, on two kinds of evidence:

* answered audit samples (a fair random share of the stream, reviewed blind), and
* accepted wrong-tag reports (always errors of the shown tag: a biased sample that
  pulls the figures down, so the audit-only figures are given beside them).

Only predictions made before the decision count: a version retrained on a label and
re-predicting the item would otherwise grade its own homework.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from labeling.models import (
    Content,
    GoldLabel,
    Provenance,
    ReportStatus,
    ReviewReason,
    ReviewStatus,
    ReviewTask,
    WrongTagReport,
)
from ml.bootstrap import bootstrap_intervals
from ml.evaluation import overall_metrics
from predictions import selectors
from predictions.models import DriftCheck, ModelVersion, Prediction

AUDIT, REPORT = "audit", "report"
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class GoldEvent:
    content_id: int
    tag: str
    decided_at: datetime
    evidence: str  # AUDIT or REPORT


def live_gold_events() -> list[GoldEvent]:
    """Decided gold labels from answered audit samples and accepted reports, oldest decision first."""
    audited = set(
        ReviewTask.objects.filter(reason=ReviewReason.AUDIT_SAMPLE, status=ReviewStatus.DONE).values_list(
            "content_id", flat=True
        )
    )
    reported = set(WrongTagReport.objects.filter(status=ReportStatus.ACCEPTED).values_list("content_id", flat=True))
    labels = (
        GoldLabel.objects.filter(content_id__in=audited | reported)
        .exclude(provenance=Provenance.IMPORTED)
        .order_by("decided_at", "content_id")
        .values_list("content_id", "tag__slug", "decided_at")
    )
    return [
        GoldEvent(content_id, tag, decided_at, AUDIT if content_id in audited else REPORT)
        for content_id, tag, decided_at in labels
    ]


def live_metrics(*, window: int | None = None, events: list[GoldEvent] | None = None) -> list[dict]:
    """Per model version with live evidence: cumulative and sliding-window precision/recall/F1
    (support-weighted, with 95% bootstrap intervals), audit-only figures, and the offline holdout F1."""
    window = window or settings.TAGLOOP_LIVE_WINDOW_ITEMS
    events = live_gold_events() if events is None else events
    by_content = {event.content_id: event for event in events}
    predictions = Prediction.objects.filter(content_id__in=list(by_content)).values_list(
        "content_id", "model_version_id", "tag__slug", "created_at"
    )
    pairs: dict[int, list[tuple[GoldEvent, str]]] = defaultdict(list)
    for content_id, version_id, predicted, created_at in predictions:
        event = by_content[content_id]
        if created_at <= event.decided_at:
            pairs[version_id].append((event, predicted))
    labels = selectors.label_set()
    versions = ModelVersion.objects.defer("ood_checks").in_bulk(list(pairs))
    rows = []
    for version_id, version_pairs in pairs.items():
        version_pairs.sort(key=lambda pair: (pair[0].decided_at, pair[0].content_id))
        version = versions[version_id]
        rows.append(
            {
                "version": version.number,
                "status": version.status,
                "offline_f1": version.weighted_f1,
                "cumulative": _scores(version_pairs, labels),
                "window": _scores(version_pairs[-window:], labels),
                "window_size": window,
                "audit_only": _scores([pair for pair in version_pairs if pair[0].evidence == AUDIT], labels),
                "evidence": dict(Counter(event.evidence for event, _ in version_pairs)),
            }
        )
    return sorted(rows, key=lambda row: -row["version"])


def _scores(pairs: list[tuple[GoldEvent, str]], labels: list[str]) -> dict:
    truth = [event.tag for event, _ in pairs]
    predicted = [tag for _, tag in pairs]
    scores = {"n": len(pairs), **overall_metrics(truth, predicted, labels=labels)}
    intervals = bootstrap_intervals(truth, predicted, labels=labels, resamples=BOOTSTRAP_RESAMPLES, random_state=0)
    scores["intervals"] = intervals["overall"]
    return scores


def live_f1_by_day(*, version: ModelVersion, days: list, events: list[GoldEvent]) -> list[float | None]:
    """Cumulative live F1 of ``version`` at the end of each day (None before any evidence)."""
    series = []
    for day in days:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.get_current_timezone())
        upto = [event for event in events if event.decided_at < end]
        row = next((r for r in live_metrics(events=upto) if r["version"] == version.number), None)
        series.append(row["cumulative"]["f1"] if row else None)
    return series


def drift_latest() -> list[DriftCheck]:
    """The newest check of each window (all sources first)."""
    latest: dict[str, DriftCheck] = {}
    for check in DriftCheck.objects.select_related("model_version").order_by("-created_at", "-pk")[:1000]:
        latest.setdefault(check.source, check)
    return sorted(latest.values(), key=lambda check: (check.source != "", check.source))


def drift_alert() -> DriftCheck | None:
    """The latest all-sources check, when it drifted."""
    check = DriftCheck.objects.filter(source="").order_by("-created_at", "-pk").first()
    return check if check is not None and check.drifted else None


def monitoring_overview(*, days: int = 14, now=None) -> dict:
    """Daily series for the monitoring page, over the last ``days`` days."""
    now = now or timezone.now()
    first = (now - timedelta(days=days - 1)).date()
    day_list = [first + timedelta(days=offset) for offset in range(days)]
    since = datetime.combine(first, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    version = selectors.active_model_version()
    items = _per_day(Content.objects.filter(ingested_at__gte=since), "ingested_at", "source")
    sources = sorted({source for _, source in items})
    items_total: Counter[date] = Counter()
    for (day, _), n in items.items():
        items_total[day] += n
    tag_mix = {}
    if version is not None:
        counts = _per_day(
            Prediction.objects.filter(model_version=version, content__ingested_at__gte=since),
            "content__ingested_at",
            "tag__slug",
        )
        for tag in sorted({tag for _, tag in counts}):
            tag_mix[tag] = [
                counts.get((day, tag), 0) / items_total[day] if items_total[day] else None for day in day_list
            ]
    tasks = _per_day(ReviewTask.objects.filter(created_at__gte=since), "created_at", None)
    reports = _per_day(
        WrongTagReport.objects.filter(created_at__gte=since).exclude(status=ReportStatus.MERGED), "created_at", None
    )
    events = live_gold_events()
    checks = list(DriftCheck.objects.filter(source="").order_by("created_at")[:200])
    test_names = [test["name"] for test in checks[-1].tests] if checks else []
    return {
        "days": day_list,
        "labels": [day.strftime("%m-%d") for day in day_list],
        "items_per_source": {source: [items.get((day, source), 0) for day in day_list] for source in sources},
        "tag_mix": tag_mix,
        "review_rate": [_ratio(tasks.get((day, None), 0), items_total[day]) for day in day_list],
        "report_rate": [_ratio(reports.get((day, None), 0), items_total[day]) for day in day_list],
        "drift": {
            "labels": [check.created_at.strftime("%m-%d %H:%M") for check in checks],
            "p_values": {name: [_p_value(check, name) for check in checks] for name in test_names},
            "alpha": settings.TAGLOOP_DRIFT_ALPHA,
        },
        "live_f1": live_f1_by_day(version=version, days=day_list, events=events) if version else [],
        "offline_f1": version.weighted_f1 if version else None,
        "active_version": version,
        "live": live_metrics(events=events),
        "drift_latest": drift_latest(),
        "drift_alert": drift_alert(),
    }


def _per_day(queryset, field: str, key: str | None) -> dict[tuple, int]:
    values = ["day"] + ([key] if key else [])
    rows = queryset.annotate(day=TruncDate(field)).values(*values).annotate(n=Count("pk")).values_list(*values, "n")
    if key:
        return {(day, group): n for day, group, n in rows}
    return {(day, None): n for day, n in rows}


def _ratio(count: int, total: int) -> float | None:
    return count / total if total else None


def _p_value(check: DriftCheck, name: str) -> float | None:
    for test in check.tests:
        if test["name"] == name:
            return test["p_value"]
    return None
