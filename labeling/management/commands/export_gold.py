from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.errors import command_errors
from common.formtools import form_errors_text
from labeling import selectors
from labeling.formats import EXPORT_FORMATS, WRITERS, export_bytes
from labeling.forms import GoldFilterForm


class Command(BaseCommand):
    help = "Export gold labels, with the /gold/ page's filters, in our CSV/JSONL or another tool's format."

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=EXPORT_FORMATS, default="csv")
        parser.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
        parser.add_argument("--q", default="", help="search in titles and descriptions")
        parser.add_argument("--tag", default="")
        parser.add_argument("--provenance", default="")
        parser.add_argument("--split", default="")

    def handle(self, fmt, output, **options):
        filters = {name: options[name] for name in ("q", "tag", "provenance", "split") if options[name]}
        form = GoldFilterForm(filters)
        if not form.is_valid():
            # As on the page: never a wider export than asked for.
            raise CommandError("nothing exported. " + form_errors_text(form, prefix_names=True))
        writer = WRITERS[fmt]
        if writer.lines is None and output is None:
            raise CommandError(f"--format {fmt} is binary: give --output PATH")
        rows = selectors.gold_export_rows(selectors.gold_labels(**form.cleaned_data))
        counted = _Counter(rows)
        if output is None:
            for chunk in writer.lines(counted):
                self.stdout.write(chunk, ending="")
            self.stderr.write(f"exported {counted.count} gold label(s) ({fmt})")
        else:
            with command_errors(failed="nothing exported"):  # Parquet without its optional extra
                data = export_bytes(counted, fmt=fmt, tag_names=selectors.tag_slugs_in_order())
            try:
                output.write_bytes(data)
            except OSError as exc:
                raise CommandError(f"{output}: cannot write ({exc.strerror})") from exc
            self.stdout.write(f"wrote {counted.count} gold label(s) to {output} ({fmt})")


class _Counter:
    """Passes rows through and counts them (the export streams, so the count comes at the end)."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row
