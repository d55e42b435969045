from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from labeling.parsing import ImportFileError, parse_content_file
from labeling.selectors import tag_slugs
from labeling.services import content_import

# Exit codes: 0 every row imported; 1 nothing imported (the file, or --strict with a bad row); 3 the
# valid rows imported and the others rejected. (2 is argparse's, for a wrong command line.)
ROWS_REJECTED = 3


class Command(BaseCommand):
    help = "Import content from CSV, a JSON list or JSONL (id, created_on, title, description, optional tag)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", default="import", help="name of the source (ids are unique per source)")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")

    def handle(self, path, source, strict, **options):
        try:
            parsed = parse_content_file(path, tags=tag_slugs())
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from exc
        for error in parsed.errors:
            self.stderr.write(f"{path}: {error}")
        summary = content_import(rows=parsed.rows, source=source, errors=parsed.errors, strict=strict)
        if summary.refused:
            raise CommandError(f"{summary.as_line()}; --strict given")
        self.stdout.write(summary.as_line())
        if parsed.errors:
            # Scripts must tell a partial import from a complete one (see the README's exit codes).
            rejected = len(parsed.errors)
            raise CommandError(
                f"{rejected} row{'s' if rejected != 1 else ''} rejected (listed above); the others were imported",
                returncode=ROWS_REJECTED,
            )
