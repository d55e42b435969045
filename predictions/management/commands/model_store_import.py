from django.core.management.base import BaseCommand, CommandError

from predictions.artifact_store import artifact_copy_to_database
from predictions.models import Canary, ModelStatus, ModelVersion

SAID = {
    "copied": "copied into the database",
    "present": "already in the database",
    "no file": "no file in MODEL_DIR: nothing to copy",
    "altered": "NOT copied: the file's sha256 is not the one recorded at training",
}


class Command(BaseCommand):
    help = (
        "Copy the artifacts of trained versions from the local MODEL_DIR into the database, so every "
        "machine can load them (TAGLOOP_MODEL_STORE=database). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("versions", nargs="*", type=int, help="version numbers (default: every trained one)")

    def handle(self, versions, **options):
        trained = ModelVersion.objects.exclude(artifact_sha256="").order_by("number")
        if versions:
            trained = trained.filter(number__in=versions)
            unknown = sorted(set(versions) - set(trained.values_list("number", flat=True)))
            if unknown:
                raise CommandError(f"no trained model version {', '.join(map(str, unknown))}")
        outcomes = {}
        for version in trained:
            outcomes[version.number] = artifact_copy_to_database(model_version=version)
            self.stdout.write(f"v{version.number} ({version.status}): {SAID[outcomes[version.number]]}")
        copied = sum(outcome == "copied" for outcome in outcomes.values())
        self.stdout.write(f"{copied} copied, {len(outcomes) - copied} not")
        serving = {
            *ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values_list("number", flat=True),
            *Canary.objects.filter(running=True).values_list("candidate__number", flat=True),
        }
        # An altered file is the one worth stopping for; a missing one of a retired version is history.
        failed = sorted(
            number
            for number, outcome in outcomes.items()
            if outcome == "altered" or (outcome == "no file" and number in serving)
        )
        if failed:
            raise CommandError(
                f"the artifact of {', '.join(f'v{n}' for n in failed)} is not in the database: "
                "altered, or missing while the version serves"
            )
