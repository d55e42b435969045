from django.core.management.base import BaseCommand

from common.errors import command_errors
from predictions.services import model_version_rollback


class Command(BaseCommand):
    help = (
        "Re-activate the model that was active before the current one was promoted "
        "(walking back the promotion history); the reason is required and recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="", help="why (required; recorded in the audit trail)")

    def handle(self, reason, **options):
        with command_errors(failed="not rolled back"):
            version = model_version_rollback(reason=reason)
        self.stdout.write(f"v{version.number} is active")
