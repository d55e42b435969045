from django.core.management.base import BaseCommand, CommandError

from predictions.models import ModelVersion
from predictions.services import PromotionError, model_version_promote


class Command(BaseCommand):
    help = "Make a model version the one active model (all content is then re-predicted on the worker)."

    def add_arguments(self, parser):
        parser.add_argument("version", type=int, help="model version number")

    def handle(self, version, **options):
        try:
            model_version = ModelVersion.objects.get(number=version)
        except ModelVersion.DoesNotExist:
            raise CommandError(f"no model version {version}") from None
        try:
            model_version = model_version_promote(model_version=model_version)
        except PromotionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"v{model_version.number} is active")
