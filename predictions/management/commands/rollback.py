from django.core.management.base import BaseCommand, CommandError

from predictions.services import PromotionError, model_version_rollback


class Command(BaseCommand):
    help = (
        "Re-activate the model that was active before the current one was promoted "
        "(walking back the promotion history); the reason is required and recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="why (required; recorded in the audit trail)")

    def handle(self, reason, **options):
        try:
            version = model_version_rollback(reason=reason)
        except PromotionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"v{version.number} is active")
