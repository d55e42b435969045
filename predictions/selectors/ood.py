"""The active version's per-item out-of-distribution checks (fitted at training, ml.ood)."""

import json
import logging
import threading
from typing import TYPE_CHECKING

from ml.text import prepare_text
from predictions import selectors
from predictions.models import ModelVersion

if TYPE_CHECKING:
    from ml.ood import OODChecks  # imported where checks are built: ml.ood needs scikit-learn

logger = logging.getLogger(__name__)
_lock = threading.Lock()
# (version pk, artifact sha256, the thresholds as JSON): see ood_checks_for.
_cache: dict[tuple[int, str, str], "OODChecks | None"] = {}


def ood_checks_for(version: ModelVersion) -> "OODChecks | None":
    """The version's fitted checks, built once per process; None when it has none (older versions)."""
    data = version.ood_checks
    if not data:
        return None
    # The checks never change once trained; the thresholds guard against a reused pk (tests).
    key = (version.pk, version.artifact_sha256, json.dumps(data.get("thresholds"), sort_keys=True))
    with _lock:
        if key not in _cache:
            from ml.ood import OODChecks

            try:
                _cache[key] = OODChecks.from_dict(data)
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("v%s: unusable OOD checks (%s); items are not checked", version.number, exc)
                _cache[key] = None
        return _cache[key]


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
