from django.core.management.base import BaseCommand

from predictions.models import ModelVersion


def _cell(value, fmt="{:.4f}"):
    return "–" if value is None else fmt.format(value)


class Command(BaseCommand):
    help = "Compare model versions: CV on the train split (mean ± sd), holdout F1 with its interval, automation."

    def handle(self, **options):
        header = [
            "version",
            "algorithm",
            "status",
            "CV F1 (mean ± sd)",
            "holdout F1 at training [95% CI]",
            "auto-accept @ target",
            "review threshold",
            "labels",
        ]
        rows = [self._row(version) for version in ModelVersion.objects.order_by("number")]
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, ["-" * width for width in widths], *rows]:
            self.stdout.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))

    def _row(self, version: ModelVersion) -> list[str]:
        cv = version.cv_metrics or {}
        overall = (version.metrics or {}).get("overall", {})
        interval = (version.metrics or {}).get("intervals", {}).get("overall", {}).get("f1")
        # As the pages print it, with the size of the holdout it was measured on.
        holdout = _cell(overall.get("f1"), "{:.3f}")
        if overall.get("f1") is not None:
            holdout += f" on {version.holdout_count}"
        if interval:
            holdout += f" [{interval[0]:.3f}, {interval[1]:.3f}]"
        point = cv.get("operating_point") or {}
        cv_f1 = f"{cv['mean_f1']:.4f} ± {cv['sd_f1']:.4f}" if cv else "–"
        automation = _cell(point.get("automation_rate"), "{:.1%}") if point else "–"
        return [
            f"v{version.number}",
            version.algorithm,
            version.status,
            cv_f1,
            holdout,
            automation,
            _cell(version.review_threshold, "{:.3f}"),
            _cell(version.training_label_count, "{}"),
        ]
