import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from labeling.parsing import ImportFileError, parse_content_file
from labeling.selectors import tag_slugs
from ml.items import LabelledItem
from predictions.models import ModelStatus, ModelVersion
from predictions.selectors import active_model_version
from predictions.services import evaluate_labelled


class Command(BaseCommand):
    help = "Evaluate a model (default: the active one) on a labelled file; prints metrics as JSON. Stores nothing."

    def add_arguments(self, parser):
        parser.add_argument("--model", type=int, default=None, help="model version number")
        parser.add_argument("--data", type=Path, required=True, help="labelled CSV, JSON or JSONL file")

    def handle(self, model, data, **options):
        version = self._version(model)
        try:
            parsed = parse_content_file(data, tags=tag_slugs())
        except ImportFileError as exc:
            raise CommandError(f"{data}: {exc}") from exc
        for error in parsed.errors:
            self.stderr.write(f"{data}: {error} (skipped)")
        items = [LabelledItem(row.title, row.description, row.tag) for row in parsed.rows if row.tag]
        unlabelled = len(parsed.rows) - len(items)
        if unlabelled:
            self.stderr.write(f"{data}: {unlabelled} row(s) without a tag skipped")
        if not items:
            raise CommandError(f"{data}: no labelled rows to evaluate on")
        metrics = evaluate_labelled(model_version=version, items=items)
        metrics["model_version"] = version.number
        self.stdout.write(json.dumps(metrics, indent=2))

    def _version(self, number: int | None) -> ModelVersion:
        if number is None:
            version = active_model_version()
            if version is None:
                raise CommandError("no active model; pass --model VERSION or promote one")
            return version
        version = ModelVersion.objects.filter(number=number).first()
        if version is None:
            raise CommandError(f"no model version {number}")
        if not version.artifact_sha256 or version.status in (
            ModelStatus.QUEUED,
            ModelStatus.TRAINING,
            ModelStatus.FAILED,
        ):
            raise CommandError(f"v{number} has no trained model ({version.status})")
        return version
