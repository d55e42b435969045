import time

from django.core.management.base import BaseCommand, CommandError

from predictions.selectors import active_model_version, content_ids_lacking_prediction
from predictions.services import predictions_enqueue_missing


class Command(BaseCommand):
    help = "Predict, on the workers and in chunks, all content lacking a prediction from the active model."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument("--wait", action="store_true", help="wait until every item is predicted")
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, chunk_size, wait, timeout, **options):
        version = active_model_version()
        if version is None:
            raise CommandError("no active model; train one and promote it first")
        missing = len(content_ids_lacking_prediction(model_version=version))
        chunks = predictions_enqueue_missing(model_version_id=version.pk, chunk_size=chunk_size)
        self.stdout.write(f"v{version.number}: {missing} item(s) to predict in {chunks} chunk(s)")
        if wait and missing:
            self._wait(version, missing, timeout)

    def _wait(self, version, total, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = len(content_ids_lacking_prediction(model_version=version))
            self.stderr.write(f"  {total - left}/{total} predicted")
            if not left:
                return
            time.sleep(1)
        raise CommandError("timed out waiting for the workers; is a worker running?")
