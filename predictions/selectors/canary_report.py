"""What a canary has shown so far: both models on the items people reviewed, and the reports each group drew."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, Sum

from labeling.models import Provenance, ReportStatus
from ml.paired import PairedComparison, paired_comparison
from predictions.models import Canary, CanaryArm, CanaryServing

# Labels a person decided: imported labels say nothing about how a model did on live items.
HUMAN_PROVENANCE = (Provenance.ANNOTATOR, Provenance.REPORT)
DISAGREEMENTS_SHOWN = 20


@dataclass(frozen=True)
class ArmFigures:
    """The canary group (served by the candidate) or the control group (served by the active model)."""

    arm: str
    version: int
    items: int
    online_texts: int
    requests: int
    reports: int
    accepted_reports: int

    @property
    def report_rate(self) -> float | None:
        return self.reports / self.items if self.items else None


@dataclass(frozen=True)
class ReviewedItem:
    content_id: int
    title: str
    served: str
    baseline_tag: str
    candidate_tag: str
    human_tag: str


@dataclass(frozen=True)
class CanaryReport:
    canary: Canary
    candidate: ArmFigures
    baseline: ArmFigures
    agreement: float | None  # share of recorded items and texts where both models gave the same tag
    reviewed: PairedComparison  # both answers against what a person decided afterwards
    disagreements: list[ReviewedItem]


def canary_report(canary: Canary) -> CanaryReport:
    servings = CanaryServing.objects.filter(canary=canary)
    served = {
        row["served"]: row
        for row in servings.values("served").annotate(
            items=Count("pk", filter=Q(content__isnull=False)),
            online_texts=Count("pk", filter=Q(content__isnull=True)),
            requests=Sum("requests"),
            agree=Count("pk", filter=Q(baseline_tag=F("candidate_tag"))),
            total=Count("pk"),
        )
    }
    reports = _reports_by_arm(canary)
    total = sum(row["total"] for row in served.values())
    reviewed = _reviewed(canary)
    return CanaryReport(
        canary=canary,
        candidate=_arm(CanaryArm.CANDIDATE, canary.candidate.number, served, reports),
        baseline=_arm(CanaryArm.BASELINE, canary.baseline.number, served, reports),
        agreement=sum(row["agree"] for row in served.values()) / total if total else None,
        reviewed=paired_comparison(
            [r.human_tag for r in reviewed], [r.baseline_tag for r in reviewed], [r.candidate_tag for r in reviewed]
        ),
        disagreements=[r for r in reviewed if r.baseline_tag != r.candidate_tag][:DISAGREEMENTS_SHOWN],
    )


def _arm(arm: str, version: int, served: dict, reports: dict) -> ArmFigures:
    row, drawn = served.get(arm, {}), reports.get(arm, {})
    return ArmFigures(
        arm=arm,
        version=version,
        items=row.get("items", 0),
        online_texts=row.get("online_texts", 0),
        requests=row.get("requests") or 0,
        reports=drawn.get("reports", 0),
        accepted_reports=drawn.get("accepted", 0),
    )


def _reports_by_arm(canary: Canary) -> dict[str, Mapping[str, Any]]:
    """Wrong-tag reports filed on items of the canary or its control group while it ran, by group."""
    window = Q(content__reports__created_at__gte=F("created_at"))
    if canary.ended_at is not None:
        window &= Q(content__reports__created_at__lte=canary.ended_at)
    rows = (
        CanaryServing.objects.filter(window, canary=canary, content__isnull=False)
        .values("served")
        .annotate(
            # A merged report is a repeat folded into its reporter's first one.
            reports=Count("content__reports", filter=~Q(content__reports__status=ReportStatus.MERGED)),
            accepted=Count("content__reports", filter=Q(content__reports__status=ReportStatus.ACCEPTED)),
        )
    )
    return {row["served"]: row for row in rows}


def _reviewed(canary: Canary) -> list[ReviewedItem]:
    """Canary items a person labelled after the canary answered them, with both answers."""
    rows = (
        CanaryServing.objects.filter(
            canary=canary,
            content__gold_label__provenance__in=HUMAN_PROVENANCE,
            content__gold_label__decided_at__gte=F("created_at"),
        )
        .order_by("-content__gold_label__decided_at")
        .values_list(
            "content_id",
            "content__title",
            "served",
            "baseline_tag__slug",
            "candidate_tag__slug",
            "content__gold_label__tag__slug",
        )
    )
    return [ReviewedItem(*row) for row in rows]
