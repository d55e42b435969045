from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from labeling.formats import IMPORT_FORMATS, NATIVE, FieldMapping, MappingError, parse_file, parse_label_map
from labeling.import_preview import preview_lines
from labeling.parsing import ImportFileError
from labeling.selectors import tag_slugs
from labeling.services import content_import, content_import_plan

# Exit codes: 0 every row imported; 1 nothing imported (the file, or --strict with a bad row); 3 the
# valid rows imported and the others rejected. (2 is argparse's, for a wrong command line.)
# A --dry-run exits as the import would.
ROWS_REJECTED = 3


class Command(BaseCommand):
    help = (
        "Import content from our CSV, JSON list or JSONL (id, created_on, title, description, optional tag), "
        "or from doccano, Label Studio, Argilla or Hugging Face datasets exports (--format)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", default="import", help="name of the source (ids are unique per source)")
        parser.add_argument("--strict", action="store_true", help="write nothing if any row is rejected")
        parser.add_argument(
            "--format", dest="fmt", choices=IMPORT_FORMATS, default=NATIVE, help="whose export the file is"
        )
        parser.add_argument("--text-field", help="the field with the text (default: text)")
        parser.add_argument(
            "--title-field", help="the field with the title (default: title if present, else the text's first line)"
        )
        parser.add_argument("--label-field", help="the field, control or question with the label (default: label)")
        parser.add_argument("--id-field", help="the field with the item's id (default: id; none: an id from the text)")
        parser.add_argument("--label-map", help="file labels to our tags: old=new,old2=new2")
        parser.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")

    def handle(self, path, source, strict, fmt, dry_run, **options):
        try:
            mapping = FieldMapping(
                text=options["text_field"],
                title=options["title_field"],
                label=options["label_field"],
                id=options["id_field"],
                label_map=parse_label_map(options["label_map"]),
            )
            parsed = parse_file(path, fmt=fmt, tags=tag_slugs(), mapping=mapping)
        except (ImportFileError, MappingError) as exc:
            raise CommandError(f"{path}: {exc}; nothing was imported") from exc
        for error in parsed.errors:
            self.stderr.write(f"{path}: {error}")
        if dry_run:
            self._preview(parsed, source, strict)
        else:
            self._import(parsed, source, strict)
        if parsed.errors:
            # Scripts must tell a partial import from a complete one (see the README's exit codes).
            rejected = len(parsed.errors)
            raise CommandError(
                f"{rejected} row{'s' if rejected != 1 else ''} rejected (listed above); the others "
                + ("would be imported" if dry_run else "were imported"),
                returncode=ROWS_REJECTED,
            )

    def _import(self, parsed, source, strict):
        summary = content_import(
            rows=parsed.rows,
            source=source,
            errors=parsed.errors,
            strict=strict,
            answers=parsed.answers,
            disputed=parsed.disputed,
        )
        if summary.refused:
            raise CommandError(f"{summary.as_line()}; --strict given")
        self.stdout.write(summary.as_line())

    def _preview(self, parsed, source, strict):
        plan = content_import_plan(rows=parsed.rows, source=source, answers=parsed.answers, disputed=parsed.disputed)
        for line in preview_lines(plan, parsed.errors, strict=strict):
            self.stdout.write(line)
        self.stdout.write("dry run: nothing was written")
        if strict and parsed.errors:
            raise CommandError("nothing would be imported; --strict given")
