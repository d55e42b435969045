"""The active version's per-item out-of-distribution checks (fitted at training, ml.ood)."""

import json
import logging
import threading
from typing import TYPE_CHECKING

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from ml.text import prepare_text
from predictions import selectors
from predictions.models import ModelVersion

if TYPE_CHECKING:
    from ml.ood import OODChecks  # imported where checks are built: ml.ood needs scikit-learn

logger = logging.getLogger(__name__)
_lock = threading.Lock()
# (version pk, artifact sha256, the thresholds as JSON): see ood_checks_for.
_cache: dict[tuple[int, str, str], "OODChecks | None"] = {}


def versions_without_ood_checks(versions: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    """``versions`` read without their checks (tens of KB of JSON), but with what :func:`ood_checks_for` needs of them
    once it has built the checks: the thresholds and whether any checks are stored.

    A re-prediction chunk reads its version every time; decoding the whole field was most of that read's CPU, in the
    worker and in PostgreSQL, while the checks are built once per process.
    """
    return versions.defer("ood_checks").annotate(
        stored_ood_thresholds=KeyTransform("thresholds", "ood_checks"),
        stores_ood_checks=ExpressionWrapper(~Q(ood_checks={}), output_field=BooleanField()),
    )


def ood_checks_for(version: ModelVersion) -> "OODChecks | None":
    """The version's fitted checks, built once per process; None when it has none (older versions)."""
    stored = getattr(version, "stores_ood_checks", None)  # read by versions_without_ood_checks
    if stored is False:
        return None  # none stored: loading the deferred field would be a query per chunk for an empty object
    if stored:
        key = _cache_key(version, version.stored_ood_thresholds)  # type: ignore[attr-defined]  # the annotation
        with _lock:
            if key in _cache:
                return _cache[key]
    data = version.ood_checks  # loaded here if it was deferred
    if not data:
        return None
    # The checks never change once trained; the thresholds guard against a reused pk (tests).
    key = _cache_key(version, data.get("thresholds"))
    with _lock:
        if key not in _cache:
            from ml.ood import OODChecks

            try:
                _cache[key] = OODChecks.from_dict(data)
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("v%s: unusable OOD checks (%s); items are not checked", version.number, exc)
                _cache[key] = None
        return _cache[key]


def _cache_key(version: ModelVersion, thresholds: object) -> tuple[int, str, str]:
    return (version.pk, version.artifact_sha256, json.dumps(thresholds, sort_keys=True))


def ood_check_contents(
    *, version: ModelVersion, content_ids: list[int], texts: list[str] | None = None
) -> dict[int, dict[str, str]] | None:
    """{content id: {check name: reason}} for every item (empty dict: passed); None without checks.

    ``texts``: the items' prepared texts in the order of ``content_ids``, when the caller has
    read them already (a re-prediction chunk); otherwise they are read here.
    """
    checks = ood_checks_for(version)
    if checks is None or not content_ids:
        return None
    if texts is None:
        rows = selectors.content_texts(content_ids=content_ids)
        content_ids = [content_id for content_id, _, _ in rows]
        texts = [prepare_text(title, description) for _, title, description in rows]
    return dict(zip(content_ids, checks.flagged_reasons(texts)))
