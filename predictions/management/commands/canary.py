from django.core.management.base import BaseCommand, CommandError

from common.errors import command_errors
from predictions import selectors
from predictions.models import ModelVersion
from predictions.selectors.canary_report import canary_report
from predictions.services import canary_start, canary_stop


class Command(BaseCommand):
    help = "Start, stop or read the canary: a candidate serving a share of items beside the active model."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        start = actions.add_parser("start", help="let a candidate serve a share of items")
        start.add_argument("version", type=int, help="the candidate's version number")
        start.add_argument("--share", type=float, default=None, help="share of items, 0-0.5 (default: settings)")
        start.add_argument("--override-reason", default="", help="start even if a gate fails; the reason is recorded")
        stop = actions.add_parser("stop", help="end the running canary; the active model serves its items again")
        stop.add_argument("--reason", default="")
        actions.add_parser("status", help="the running canary's figures so far")

    def handle(self, action, **options):
        with command_errors(failed=f"canary not {'started' if action == 'start' else 'stopped'}", verb="start"):
            getattr(self, f"_{action}")(**options)

    def _start(self, version, share, override_reason, **options):
        candidate = ModelVersion.objects.filter(number=version).first()
        if candidate is None:
            raise CommandError(f"no model version {version}")
        canary = canary_start(candidate=candidate, share=share, override_reason=override_reason)
        self.stdout.write(
            f"canary {canary.pk}: v{version} serves {canary.share:.1%} of items beside v{canary.baseline.number}"
        )

    def _stop(self, reason, **options):
        canary = self._running()
        canary_stop(canary=canary, reason=reason)
        self.stdout.write(f"canary {canary.pk} stopped")

    def _status(self, **options):
        report = canary_report(self._running())
        for arm in (report.candidate, report.baseline):
            self.stdout.write(
                f"{arm.arm}: v{arm.version} items {arm.items}, online requests {arm.requests}, "
                f"reports {arm.reports} ({arm.accepted_reports} accepted)"
            )
        reviewed = report.reviewed
        if reviewed.n:
            self.stdout.write(
                f"reviewed items {reviewed.n}: candidate right {reviewed.candidate.correct}, "
                f"active right {reviewed.baseline.correct}, McNemar p {reviewed.p_value}"
            )
        else:
            self.stdout.write("no canary item has been reviewed yet")

    def _running(self):
        canary = selectors.running_canary()
        if canary is None:
            raise CommandError("no canary is running")
        return canary
