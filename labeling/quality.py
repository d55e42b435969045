"""Annotator quality: agreement between annotators, with the gold labels, and throughput."""

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone

from labeling.models import Annotation, GoldLabel
from ml.agreement import krippendorff_alpha_nominal, pairwise_kappas


def annotator_ratings() -> dict[str, dict[int, str]]:
    """annotator -> {content id -> their latest standing answer}."""
    ratings: dict[str, dict[int, str]] = defaultdict(dict)
    answers = (
        Annotation.objects.filter(undone_at__isnull=True)
        .order_by("created_at")
        .values_list("annotator__username", "content_id", "tag__slug")
    )
    for username, content_id, tag in answers:
        ratings[username][content_id] = tag
    return dict(ratings)


# The report reads every standing answer; it is computed again only when an answer or a
# gold label changed, or after this long (the "today" and "this week" counts age).
REPORT_CACHE_SECONDS = 60


def agreement_report() -> dict:
    report = cache.get_or_set(f"quality-report:{_data_version()}", _agreement_report, REPORT_CACHE_SECONDS)
    assert report is not None  # None only for a None default; _agreement_report returns a dict
    return report


def _data_version() -> str:
    """Changes whenever an answer is given or undone, or a gold label is decided."""
    answers = Annotation.objects.aggregate(n=Count("pk"), last=Max("pk"), undone=Max("undone_at"))
    gold = GoldLabel.objects.aggregate(n=Count("pk"), decided=Max("decided_at"), version=Max("version"))
    values = "|".join(str(value) for value in (*answers.values(), *gold.values()))
    return hashlib.sha256(values.encode()).hexdigest()


def _agreement_report() -> dict:
    ratings = annotator_ratings()
    by_item: dict[int, list[str]] = defaultdict(list)
    for answers in ratings.values():
        for content_id, tag in answers.items():
            by_item[content_id].append(tag)
    return {
        "pairs": [row for row in pairwise_kappas(ratings) if row["items"]],
        "alpha": krippendorff_alpha_nominal(by_item),
        "items_with_several_answers": sum(1 for tags in by_item.values() if len(tags) >= 2),
        "annotators": _per_annotator(ratings),
    }


def _per_annotator(ratings: dict[str, dict[int, str]]) -> list[dict]:
    now = timezone.now()
    counts = {
        row["annotator__username"]: row
        for row in Annotation.objects.filter(undone_at__isnull=True)
        .values("annotator__username")
        .annotate(
            total=Count("pk"),
            today=Count("pk", filter=Q(created_at__date=now.date())),
            week=Count("pk", filter=Q(created_at__gte=now - timedelta(days=7))),
        )
    }
    answered = {content_id for answers in ratings.values() for content_id in answers}
    gold = {
        content_id: (tag, decided_by)
        for content_id, tag, decided_by in GoldLabel.objects.filter(
            content_id__in=Annotation.objects.values("content_id")
        ).values_list("content_id", "tag__slug", "decided_by__username")
        if content_id in answered
    }
    rows = []
    for username, answers in sorted(ratings.items()):
        # Only gold that someone else decided can judge this annotator.
        judged = [(tag, gold[cid][0]) for cid, tag in answers.items() if cid in gold and gold[cid][1] != username]
        agree = sum(1 for mine, truth in judged if mine == truth)
        row: Mapping[str, Any] = counts.get(username, {})
        rows.append(
            {
                "annotator": username,
                "total": row.get("total", 0),
                "today": row.get("today", 0),
                "week": row.get("week", 0),
                "judged": len(judged),
                "gold_agreement": agree / len(judged) if judged else None,
            }
        )
    return rows
