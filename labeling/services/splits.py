"""Train/holdout assignment of gold labels: once, stratified by tag, deterministic."""

import hashlib
from collections import defaultdict

from django.conf import settings

from labeling.models import Content, GoldLabel, Split, Tag


def assign_splits(labelled: list[tuple[Content, Tag]]) -> dict[int, str]:
    """Assign new gold labels to train or holdout, once, stratified by tag.

    Within each tag the items are taken in the order of a hash of their identity, and
    an item goes to the holdout while the tag's holdout share (counting the labels
    already assigned) is below the target. Deterministic: the same items get the same
    splits on every machine.
    """
    share = settings.TAGLOOP_HOLDOUT_SHARE
    by_tag = defaultdict(list)
    for content, tag in labelled:
        by_tag[tag.pk].append(content)
    splits: dict[int, str] = {}
    for tag_id, contents in by_tag.items():
        counts = GoldLabel.objects.filter(tag_id=tag_id).values_list("split", flat=True)
        holdout = sum(1 for split in counts if split == Split.HOLDOUT)
        total = len(counts)
        for content in sorted(contents, key=_split_key):
            total += 1
            if holdout < round(share * total):
                splits[content.pk] = Split.HOLDOUT
                holdout += 1
            else:
                splits[content.pk] = Split.TRAIN
    return splits


def _split_key(content: Content) -> str:
    return hashlib.sha256(f"{content.source}\x00{content.external_id}".encode()).hexdigest()
