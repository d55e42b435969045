"""Save and load fitted pipelines as skops artifacts with a JSON sidecar.

skops (not pickle) is used because loading a pickle runs arbitrary code.
skops only builds the types it is told to trust, so loading checks the
artifact's types against :data:`TRUSTED_TYPES` - the types our own
algorithms produce - and refuses anything else instead of trusting blindly.
"""

import hashlib
import json
import os
import platform
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.lazy import skops_io

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# skops (and through it scikit-learn) is imported on the first save or load, by
# ml.lazy.skops_io: a process that never touches a model does not pay for it.

ARTIFACT_SUFFIX = ".skops"
METADATA_SUFFIX = ".json"

# Types skops does not trust by default but that the pipelines from
# ml.algorithms (and the fallback in ml.training) legitimately contain.
# Adding an algorithm may require adding its types here, deliberately.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # Holds only the encoder's name; the encoder is loaded from the installed
        # package, never from the artifact.
        "ml.embeddings.SentenceEmbedder",
        "ml.embeddings.MiniLMEmbedder",
        "ml.features.CompactTfidfVectorizer",
        # Its distilled table is plain numpy arrays (int8 rows, float32 scales).
        "ml.static_embedding.StaticEmbedder",
        "ml.features.SequentialFeatureUnion",
        "ml.rules.KeywordClassifier",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)

# Keys this module writes into the sidecar; caller metadata may not shadow them.
RESERVED_METADATA_KEYS = frozenset({"artifact", "sha256", "library_versions"})


class ArtifactIntegrityError(Exception):
    """The artifact's bytes do not match the expected sha256."""


class UntrustedArtifactError(Exception):
    """The artifact contains types outside the allow-list."""

    def __init__(self, types: list[str]):
        self.types = types
        super().__init__(f"artifact contains untrusted type(s): {', '.join(types)}")


@dataclass(frozen=True)
class SavedArtifact:
    path: Path
    metadata_path: Path
    sha256: str


def save_model(model: "Pipeline", *, directory: Path, name: str, metadata: dict[str, Any]) -> SavedArtifact:
    """Write ``<directory>/<name>.skops`` and its ``<name>.json`` sidecar atomically."""
    check_artifact_name(name)
    directory = Path(directory)
    payload = model_to_bytes(model)
    digest = sha256_hex(payload)
    path = directory / f"{name}{ARTIFACT_SUFFIX}"
    metadata_path = directory / f"{name}{METADATA_SUFFIX}"
    # Serialised before anything is written so bad metadata fails early.
    sidecar_bytes = json.dumps(
        artifact_metadata(metadata, artifact=path.name, sha256=digest), indent=2, sort_keys=True
    ).encode("utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    # Artifact first: a sidecar never points at a missing or partial model.
    write_atomically(path, payload)
    write_atomically(metadata_path, sidecar_bytes)
    return SavedArtifact(path=path, metadata_path=metadata_path, sha256=digest)


def load_model(path: Path, *, expected_sha256: str | None = None) -> "Pipeline":
    """Load an artifact written by :func:`save_model`, refusing tampered or foreign content."""
    # Read once: checks and loading must see the same bytes.
    return model_from_bytes(Path(path).read_bytes(), expected_sha256=expected_sha256, source=str(path))


def model_to_bytes(model: "Pipeline") -> bytes:
    """The artifact's bytes, for a store that is not a folder (a database row)."""
    # Deflate: skops stores vocabularies as verbose JSON (~35 MB -> ~1.5 MB).
    payload: bytes = skops_io().dumps(model, compression=zipfile.ZIP_DEFLATED)
    return payload


def model_from_bytes(payload: bytes, *, expected_sha256: str | None = None, source: str = "artifact") -> "Pipeline":
    """Build the model from an artifact's bytes after the sha256 and trusted-types checks.

    ``source`` names where the bytes came from, for the error messages.
    """
    if expected_sha256 is not None:
        actual = sha256_hex(payload)
        if actual != expected_sha256.lower():
            raise ArtifactIntegrityError(f"{source}: sha256 is {actual}, expected {expected_sha256}")
    # One pass over the artifact's tree: skops refuses any type outside its
    # defaults and ours.  Listing the culprits walks the tree again, but only
    # for an artifact that is refused anyway (a tfidf model loads ~1/3 faster).
    skops_io_module = skops_io()
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops_io_module.loads(payload, trusted=sorted(TRUSTED_TYPES))
    except UntrustedTypesFoundException:
        found = skops_io_module.get_untrusted_types(data=payload)
        raise UntrustedArtifactError(sorted(set(found) - TRUSTED_TYPES)) from None


def artifact_metadata(metadata: dict[str, Any], *, artifact: str, sha256: str) -> dict[str, Any]:
    """The caller's metadata plus what identifies the artifact (the sidecar, or a row's JSON)."""
    clashes = RESERVED_METADATA_KEYS.intersection(metadata)
    if clashes:
        raise ValueError(f"metadata keys reserved for the artifact: {', '.join(sorted(clashes))}")
    return {**metadata, "artifact": artifact, "sha256": sha256, "library_versions": library_versions()}


def read_metadata(path: Path) -> dict[str, Any]:
    """The JSON sidecar of an artifact; accepts the .skops or the .json path."""
    metadata: dict[str, Any] = json.loads(Path(path).with_suffix(METADATA_SUFFIX).read_text(encoding="utf-8"))
    return metadata


def library_versions() -> dict[str, str]:
    """Versions that decide whether an artifact can be loaded faithfully."""
    import numpy
    import scipy
    import sklearn
    import skops  # the package alone: its io module is what imports the rest

    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: Path) -> str:
    return sha256_hex(Path(path).read_bytes())


def check_artifact_name(name: str) -> None:
    # The name becomes a file name; never let it escape the directory.
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"invalid artifact name {name!r}")


def write_atomically(path: Path, data: bytes) -> None:
    # Temp file in the same directory so os.replace is an atomic rename.
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            # mkstemp creates 0600 files; web and worker processes may run as
            # different users and both need to read models.
            os.fchmod(temp.fileno(), 0o644)
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
