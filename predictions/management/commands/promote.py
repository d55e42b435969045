from django.core.management.base import BaseCommand, CommandError

from common.errors import command_errors
from predictions.models import ModelVersion
from predictions.services import model_version_promote


class Command(BaseCommand):
    help = "Make a model version the one active model, if it passes the gates; all content is then re-predicted."

    def add_arguments(self, parser):
        parser.add_argument("version", type=int, help="model version number")
        parser.add_argument(
            "--override-reason", default="", help="promote even if a gate fails; the reason is recorded"
        )

    def handle(self, version, override_reason, **options):
        try:
            model_version = ModelVersion.objects.get(number=version)
        except ModelVersion.DoesNotExist:
            raise CommandError(f"no model version {version}") from None
        with command_errors(failed="not promoted", verb="promote"):
            model_version = model_version_promote(model_version=model_version, override_reason=override_reason)
        self.stdout.write(f"v{model_version.number} is active")
