from django.core.management.base import BaseCommand, CommandError

from predictions.models import ModelVersion
from predictions.services import PromotionBlocked, PromotionError, model_version_promote


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
        try:
            model_version = model_version_promote(model_version=model_version, override_reason=override_reason)
        except PromotionBlocked as exc:
            raise CommandError(f"{exc}; pass --override-reason to promote anyway") from exc
        except PromotionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"v{model_version.number} is active")
