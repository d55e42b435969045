import time

from django.core.management.base import BaseCommand, CommandError

from ml.catalogue import ALGORITHM_NAMES
from predictions.models import ModelStatus, ModelVersion
from predictions.services import model_version_request


class Command(BaseCommand):
    help = "Enqueue a retrain on the worker; with --wait, follow its progress and print the new version number."

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=sorted(ALGORITHM_NAMES), default=None)
        parser.add_argument("--notes", default="")
        parser.add_argument("--wait", action="store_true", help="wait for the worker to finish")
        parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait at most")

    def handle(self, algorithm, notes, wait, timeout, **options):
        version = model_version_request(algorithm=algorithm, notes=notes)
        self.stderr.write(f"queued v{version.number} ({version.algorithm})")
        if not wait:
            self.stdout.write(str(version.number))
            return
        version = self._follow(version, timeout)
        if version.status == ModelStatus.FAILED:
            raise CommandError(f"v{version.number} failed: {version.error}")
        # As the pages print it: three decimals, and what it was measured on.
        f1 = "–" if version.weighted_f1 is None else f"{version.weighted_f1:.3f} on {version.holdout_count} items"
        self.stderr.write(f"v{version.number} is a candidate; holdout weighted F1 {f1} at training")
        self.stdout.write(str(version.number))

    def _follow(self, version: ModelVersion, timeout: float) -> ModelVersion:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            version.refresh_from_db()
            state = (version.status, version.progress, version.stage)
            if state != last:
                self.stderr.write(f"  {version.status:9} {version.progress:3d}%  {version.stage}")
                last = state
            if version.status in (ModelStatus.CANDIDATE, ModelStatus.FAILED, ModelStatus.ACTIVE):
                return version
            time.sleep(0.5)
        raise CommandError(
            f"v{version.number} still {version.status} after {timeout:.0f}s; is a worker running? "
            "(make worker, or celery -A config worker)"
        )
