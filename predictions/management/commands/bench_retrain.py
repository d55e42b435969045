"""Benchmark a retrain on many gold labels whose embeddings are already stored."""

import os
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from labeling.management.benchmarking import add_scratch_database_argument, require_scratch_database
from labeling.models import Content, GoldLabel, Provenance, Split, Tag
from labeling.parsing import ContentRow, parse_content_file
from labeling.selectors import tag_slugs
from labeling.services import text_hash
from ml.text import prepare_text
from predictions.models import ContentEmbedding, ModelStatus, ModelVersion
from predictions.services import model_version_train

SOURCE = "bench-gold"


class Command(BaseCommand):
    help = "Seed N gold labels (the dataset, varied), store their embeddings, then time one retrain (the task body)."

    def add_arguments(self, parser):
        parser.add_argument("--labels", type=int, default=10_000)
        parser.add_argument("--algorithm", default="embeddings-linear")
        parser.add_argument("--data", default="data/madewithml_dataset.csv")
        add_scratch_database_argument(parser)

    def handle(self, labels, algorithm, data, yes, **options):
        require_scratch_database(allowed=yes)
        self._seed(labels, data)
        self._store_embeddings()
        number = (ModelVersion.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = ModelVersion.objects.create(number=number, algorithm=algorithm, params={"random_state": 0})
        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        model_version_train(model_version_id=version.pk)
        seconds = time.perf_counter() - began
        load_after = os.getloadavg()[0]
        version.refresh_from_db()
        if version.status != ModelStatus.CANDIDATE:
            raise CommandError(f"training failed: {version.error}")
        self.stdout.write(
            f"retrain {algorithm} on {version.training_label_count:,} gold labels (embeddings stored, "
            f"{version.cv_metrics.get('folds', 0)}-fold CV included): {seconds:.1f} s; holdout F1 {version.weighted_f1}; "
            f"1-min load average {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} cores"
        )

    def _seed(self, count: int, data: str) -> None:
        if GoldLabel.objects.filter(content__source=SOURCE).count() >= count:
            return
        rows = parse_content_file(data, tags=tag_slugs()).rows
        tags = {tag.slug: tag for tag in Tag.objects.all()}
        row_tags = [tags[_required_tag(row, data)] for row in rows]  # checked before anything is written
        contents, golds = [], []
        for i in range(count):
            row = rows[i % len(rows)]
            # Each copy differs a little, as new items about the same topics would.
            title = row.title if i < len(rows) else f"{row.title} (part {i // len(rows)})"
            contents.append(
                Content(
                    source=SOURCE,
                    external_id=str(i),
                    title=title,
                    description=row.description,
                    text_hash=text_hash(title, row.description),
                )
            )
        Content.objects.bulk_create(contents, batch_size=2000)
        for i, content in enumerate(contents):
            split = Split.HOLDOUT if i % 5 == 0 else Split.TRAIN
            golds.append(
                GoldLabel(content=content, tag=row_tags[i % len(rows)], provenance=Provenance.IMPORTED, split=split)
            )
        GoldLabel.objects.bulk_create(golds, batch_size=2000)

    def _store_embeddings(self) -> None:
        # Imported here: ml.embeddings brings scikit-learn, which importing a command should not.
        from ml.embeddings import EMBEDDING_MODEL_NAME, embedding_key, encode

        stored = set(
            ContentEmbedding.objects.filter(model_name=EMBEDDING_MODEL_NAME).values_list("content_id", flat=True)
        )
        missing = list(
            Content.objects.filter(source=SOURCE).exclude(pk__in=stored).values_list("pk", "title", "description")
        )
        if not missing:
            return
        self.stderr.write(f"encoding {len(missing):,} items once (what earlier retrains would have stored)…")
        texts = [prepare_text(title, description) for _, title, description in missing]
        vectors = encode(texts)
        ContentEmbedding.objects.bulk_create(
            [
                ContentEmbedding(
                    content_id=pk,
                    model_name=EMBEDDING_MODEL_NAME,
                    text_hash=embedding_key(text),
                    vector=np.asarray(vector, dtype=np.float32).tobytes(),
                )
                for (pk, _, _), text, vector in zip(missing, texts, vectors)
            ],
            batch_size=2000,
        )


def _required_tag(row: ContentRow, data: str) -> str:
    if row.tag is None:
        raise CommandError(f"{data} line {row.line}: no tag; every row becomes a gold label, which needs one")
    return row.tag
