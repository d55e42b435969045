"""Where fitted models are kept: one interface, a local folder or the database behind it.

Machines that scale tagloop out share PostgreSQL and Redis and nothing else, so a model
a worker trains on one machine must load on the web processes of all the others:
``TAGLOOP_MODEL_STORE=database`` keeps each version's artifact in a row (ModelArtifact).
``local`` keeps files in ``MODEL_DIR``, readable on this machine alone (or on a shared disk).

Saving writes to the configured backend. Loading reads the configured backend, then the
other one: versions trained before the setting changed keep serving, whichever way it
changed (``manage.py model_store_import`` copies old files into the database for good).
Either way the bytes are checked against the version's sha256 and skops' trusted types.

Beside the artifact each backend keeps the version's serving form when the model has one (ml.serving_form:
arrays and JSON that a web process loads without scikit-learn or skops), checked against the version's
serving_sha256: a file ``<name>.serving.npz`` next to the artifact, or the artifact row's ``serving`` column.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ml.persistence import (
    ARTIFACT_SUFFIX,
    ArtifactIntegrityError,
    artifact_metadata,
    check_artifact_name,
    model_from_bytes,
    model_to_bytes,
    read_metadata,
    save_model,
    sha256_hex,
    write_atomically,
)
from predictions.models import ModelArtifact, ModelVersion

logger = logging.getLogger(__name__)


class ArtifactMissing(FileNotFoundError):
    """No backend holds the version's artifact (a FileNotFoundError, as a missing file always was)."""


@dataclass(frozen=True)
class StoredArtifact:
    name: str  # what ModelVersion.artifact_path records, whichever the backend
    sha256: str
    size: int
    serving_sha256: str = ""  # of the serving form saved beside it; blank: none


SERVING_SUFFIX = ".serving.npz"


def local_artifact_path(model_version: ModelVersion) -> Path:
    path = Path(model_version.artifact_path)
    return path if path.is_absolute() else Path(settings.MODEL_DIR) / path


class LocalStore:
    """Files in MODEL_DIR: an artifact and its JSON sidecar, each replaced atomically."""

    name = "local"

    def save(
        self, *, model_version: ModelVersion, model, name: str, metadata: dict, serving: bytes | None = None
    ) -> StoredArtifact:
        saved = save_model(model, directory=Path(settings.MODEL_DIR), name=name, metadata=metadata)
        path = local_serving_path(saved.path)
        if serving is not None:
            write_atomically(path, serving)
        else:  # a retrain of the same name that has none must not leave the old one beside the new artifact
            path.unlink(missing_ok=True)
        return StoredArtifact(
            name=saved.path.name,
            sha256=saved.sha256,
            size=saved.path.stat().st_size,
            serving_sha256=sha256_hex(serving) if serving is not None else "",
        )

    def read_serving(self, model_version: ModelVersion) -> bytes | None:
        if not model_version.artifact_path:
            return None
        try:
            return local_serving_path(local_artifact_path(model_version)).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def read(self, model_version: ModelVersion) -> bytes | None:
        if not model_version.artifact_path:
            return None
        try:
            return local_artifact_path(model_version).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def has(self, model_version: ModelVersion) -> bool:
        return bool(model_version.artifact_path) and local_artifact_path(model_version).is_file()

    def describe(self, model_version: ModelVersion) -> str:
        return str(local_artifact_path(model_version))


class DatabaseStore:
    """One ModelArtifact row per version, written by a single upsert."""

    name = "database"

    def save(
        self, *, model_version: ModelVersion, model, name: str, metadata: dict, serving: bytes | None = None
    ) -> StoredArtifact:
        check_artifact_name(name)  # the name may still become a file (model_store_import, a switch back)
        json.dumps(metadata)  # bad metadata fails here, as with a sidecar, not in the middle of a write
        payload = model_to_bytes(model)
        filename = f"{name}{ARTIFACT_SUFFIX}"
        digest = sha256_hex(payload)
        self.write(
            model_version=model_version,
            payload=payload,
            metadata=artifact_metadata(metadata, artifact=filename, sha256=digest),
            serving=serving,
        )
        return StoredArtifact(
            name=filename,
            sha256=digest,
            size=len(payload),
            serving_sha256=sha256_hex(serving) if serving is not None else "",
        )

    @staticmethod
    def write(*, model_version: ModelVersion, payload: bytes, metadata: dict, serving: bytes | None = None) -> None:
        # One INSERT ... ON CONFLICT DO UPDATE: another machine reads the old row or the
        # new one, never a part, and a retried run of the same version replaces its own row.
        # In a transaction (a savepoint inside a caller's) so a failure leaves the caller usable.
        with transaction.atomic():
            ModelArtifact.objects.bulk_create(
                [
                    ModelArtifact(
                        model_version=model_version,
                        sha256=sha256_hex(payload),
                        size=len(payload),
                        data=payload,
                        serving=serving,
                        metadata=metadata,
                        created_at=timezone.now(),
                    )
                ],
                update_conflicts=True,
                unique_fields=["model_version"],
                update_fields=["sha256", "size", "data", "serving", "metadata", "created_at"],
            )

    def read(self, model_version: ModelVersion) -> bytes | None:
        data = ModelArtifact.objects.filter(model_version_id=model_version.pk).values_list("data", flat=True).first()
        return None if data is None else bytes(data)  # PostgreSQL hands back a memoryview

    def read_serving(self, model_version: ModelVersion) -> bytes | None:
        data = ModelArtifact.objects.filter(model_version_id=model_version.pk).values_list("serving", flat=True).first()
        return None if data is None else bytes(data)

    def has(self, model_version: ModelVersion) -> bool:
        return ModelArtifact.objects.filter(model_version_id=model_version.pk).exists()

    def describe(self, model_version: ModelVersion) -> str:
        return f"the database (the artifact row of v{model_version.number})"


BACKENDS = {store.name: store for store in (LocalStore(), DatabaseStore())}


def configured_store() -> LocalStore | DatabaseStore:
    return BACKENDS[settings.TAGLOOP_MODEL_STORE]


def _stores_in_reading_order() -> list:
    first = configured_store()
    return [first, *(store for store in BACKENDS.values() if store is not first)]


def artifact_save(*, model_version: ModelVersion, model, name: str, metadata: dict) -> StoredArtifact:
    """Save ``model`` as ``model_version``'s artifact in the configured backend (atomic, idempotent).

    Its serving form goes beside it when the model has one; the caller records both sha256s on the version.
    """
    return configured_store().save(
        model_version=model_version,
        model=model,
        name=name,
        metadata=metadata,
        serving=_serving_form(model_version, model),
    )


def _serving_form(model_version: ModelVersion, model) -> bytes | None:
    from ml.compiled import serving_form_bytes  # noqa: PLC0415 - scikit-learn: a worker's import, never a web one

    try:
        return serving_form_bytes(model)
    except Exception:  # noqa: BLE001 - a bug here must not fail the training: the artifact alone still serves
        logger.exception(
            "v%s: the serving form failed to build; the version serves from its artifact", model_version.number
        )
        return None


def serving_form_read(model_version: ModelVersion) -> bytes | None:
    """The bytes of the version's serving form, or None when it has none or no backend holds it.

    Raises ml.persistence.ArtifactIntegrityError when the bytes found are not the ones trained: as with the
    artifact, an altered copy is never passed over for another one.
    """
    if not model_version.serving_sha256:
        return None
    for store in _stores_in_reading_order():
        payload = store.read_serving(model_version)
        # Only beside its artifact: a version whose artifact is lost is unavailable, whatever copy of its
        # serving form is left (the health check and promotions look for the artifact).
        if payload is not None and store.has(model_version):
            actual = sha256_hex(payload)
            if actual != model_version.serving_sha256.lower():
                raise ArtifactIntegrityError(
                    f"the serving form beside {store.describe(model_version)}: its sha256 is {actual}, "
                    f"expected {model_version.serving_sha256}"
                )
            return payload
    return None


def artifact_load(model_version: ModelVersion):
    """The fitted model of ``model_version``, read afresh (callers cache: predictions.model_store).

    Raises ArtifactMissing when no backend holds it, ml.persistence.ArtifactIntegrityError
    when the bytes found are not the ones trained, UntrustedArtifactError for foreign types.
    An altered artifact is never passed over for another copy: that would hide the tampering.
    """
    for store in _stores_in_reading_order():
        payload = store.read(model_version)
        if payload is not None:
            return model_from_bytes(
                payload, expected_sha256=model_version.artifact_sha256, source=store.describe(model_version)
            )
    raise missing_artifact(model_version)


def local_serving_path(artifact_path: Path) -> Path:
    """The serving form's file beside a local artifact: ``v3-tfidf-linear.skops`` -> ``v3-tfidf-linear.serving.npz``."""
    return artifact_path.with_name(artifact_path.stem + SERVING_SUFFIX)


def artifact_exists(model_version: ModelVersion) -> bool:
    """Whether some backend holds the artifact (loading still checks its sha256)."""
    return any(store.has(model_version) for store in _stores_in_reading_order())


def artifact_location(model_version: ModelVersion) -> str:
    """Where the artifact is looked for, in reading order, for messages to an operator."""
    return ", then ".join(store.describe(model_version) for store in _stores_in_reading_order())


def missing_artifact(model_version: ModelVersion) -> ArtifactMissing:
    return ArtifactMissing(
        f"v{model_version.number}: artifact {model_version.artifact_path or '(none)'} is missing; "
        f"looked in {artifact_location(model_version)}"
    )


def artifact_copy_to_database(*, model_version: ModelVersion) -> str:
    """Copy a version's local file into the database; say what happened.

    ``present``: the database already holds it; ``copied``; ``no file``: nothing to copy;
    ``altered``: the file's sha256 is not the version's, so it is not copied.
    """
    local = BACKENDS["local"]
    if ModelArtifact.objects.filter(model_version_id=model_version.pk, sha256=model_version.artifact_sha256).exists():
        return "present"
    payload = local.read(model_version)
    if payload is None:
        return "no file"
    digest = sha256_hex(payload)
    if digest != model_version.artifact_sha256.lower():
        return "altered"
    try:
        metadata = read_metadata(local_artifact_path(model_version))
    except (FileNotFoundError, ValueError):
        # A lost or broken sidecar: the model is what matters. No library versions: today's
        # are not necessarily the ones it was trained with.
        metadata = {"artifact": Path(model_version.artifact_path).name, "sha256": digest, "sidecar": "missing"}
    serving = local.read_serving(model_version)
    if serving is not None and sha256_hex(serving) != model_version.serving_sha256.lower():
        serving = None  # an altered or stale serving form is not copied: the artifact alone still serves
    DatabaseStore.write(model_version=model_version, payload=payload, metadata=metadata, serving=serving)
    return "copied"
