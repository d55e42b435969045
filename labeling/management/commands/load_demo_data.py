from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labeling.parsing import ContentRow, ImportFileError, parse_content_file
from labeling.selectors import tag_slugs
from labeling.services import content_import

DEMO_DATASET = Path(settings.BASE_DIR) / "data" / "madewithml_dataset.csv"


class Command(BaseCommand):
    help = (
        "Load the demo dataset as history and stream: the older items with their gold labels, "
        "the newest ones without tags, as if they had just arrived, for the model and the annotators."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=DEMO_DATASET)
        parser.add_argument("--source", default="madewithml")
        parser.add_argument("--stream-share", type=float, default=0.2, help="share of newest items loaded without tags")

    def handle(self, path, source, stream_share, **options):
        if not 0 <= stream_share < 1:
            raise CommandError("--stream-share must be in [0, 1)")
        try:
            parsed = parse_content_file(path, tags=tag_slugs())
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        rows = sorted(parsed.rows, key=lambda row: (row.created_on is None, row.created_on, row.line))
        cut = len(rows) - round(stream_share * len(rows))
        history = content_import(rows=rows[:cut], source=source, errors=parsed.errors)
        stream = content_import(rows=[_without_tag(row) for row in rows[cut:]], source=source)
        self.stdout.write(f"history (with gold labels): {history.as_line()}")
        self.stdout.write(f"stream (untagged, newest {len(rows) - cut}): {stream.as_line()}")


def _without_tag(row: ContentRow) -> ContentRow:
    return ContentRow(row.line, row.external_id, row.title, row.description, row.created_on, None)
