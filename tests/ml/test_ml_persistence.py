import json
import os
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ml import persistence
from ml.algorithms import ALGORITHMS
from ml.persistence import ArtifactIntegrityError, UntrustedArtifactError, load_model, read_metadata, save_model
from ml.training import train_model
from tests.ml.conftest import catalogue_params
from tests.tiny_dataset import CV, LABELS, NLP, OPS, TEXTS

PROBE = ["segmentation of video", "a language model", "kubernetes", "something else"]


def catalogue():
    return [*catalogue_params(ALGORITHMS)]


def trained(algorithm="tfidf-linear", labels=LABELS):
    return train_model(texts=TEXTS, labels=labels, algorithm=algorithm, random_state=0)


@pytest.mark.parametrize("algorithm", catalogue())
def test_round_trip_gives_identical_probabilities(tmp_path, algorithm):
    model = trained(algorithm)
    saved = save_model(model, directory=tmp_path, name=f"v1-{algorithm}", metadata={"version": 1})
    loaded = load_model(saved.path, expected_sha256=saved.sha256)
    np.testing.assert_array_equal(loaded.predict_proba(PROBE), model.predict_proba(PROBE))
    assert list(loaded.classes_) == list(model.classes_)


@pytest.mark.embeddings
def test_embedding_artifact_holds_no_encoder(tmp_path):
    saved = save_model(trained("embeddings-linear"), directory=tmp_path, name="emb", metadata={})
    # The encoder is ~90 MB; the artifact only names it.
    assert saved.path.stat().st_size < 1_000_000
    assert not any(
        "torch" in name or "sentence_transformers" in name for name in skops.io.get_untrusted_types(file=saved.path)
    )


def test_the_one_example_fallback_model_also_loads(tmp_path):
    model = trained(labels=[CV] * 7 + [NLP] * 4 + [OPS])
    saved = save_model(model, directory=tmp_path, name="fallback", metadata={})
    np.testing.assert_array_equal(load_model(saved.path).predict_proba(PROBE), model.predict_proba(PROBE))


def test_writes_artifact_and_sidecar_with_versions_and_sha(tmp_path):
    saved = save_model(trained(), directory=tmp_path / "new", name="v2", metadata={"algorithm": "tfidf-linear"})
    assert saved.path == tmp_path / "new" / "v2.skops"
    assert saved.metadata_path == tmp_path / "new" / "v2.json"
    metadata = json.loads(saved.metadata_path.read_text())
    assert metadata["algorithm"] == "tfidf-linear"
    assert metadata["sha256"] == saved.sha256 == persistence.sha256_of_file(saved.path)
    assert set(metadata["library_versions"]) == {"python", "sklearn", "numpy", "scipy", "skops"}
    assert read_metadata(saved.path) == metadata == read_metadata(saved.metadata_path)
    assert sorted(p.name for p in saved.path.parent.iterdir()) == ["v2.json", "v2.skops"]


def test_sha_mismatch_is_refused(tmp_path):
    saved = save_model(trained(), directory=tmp_path, name="v1", metadata={})
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        load_model(saved.path, expected_sha256="0" * 64)


def test_tampered_bytes_are_refused(tmp_path):
    saved = save_model(trained(), directory=tmp_path, name="v1", metadata={})
    data = bytearray(saved.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError):
        load_model(saved.path, expected_sha256=saved.sha256)


def test_untrusted_types_are_refused_and_named(tmp_path):
    # A pipeline smuggling in os.system: exactly what the allow-list is for.
    hostile = Pipeline([("f", FunctionTransformer(func=os.system)), ("c", DummyClassifier())])
    path = tmp_path / "hostile.skops"
    skops.io.dump(hostile, path)
    with pytest.raises(UntrustedArtifactError, match="posix.system|nt.system") as error:
        load_model(path, expected_sha256=persistence.sha256_of_file(path))
    assert error.value.types == skops.io.get_untrusted_types(file=path)


def test_allow_list_is_explicit_and_not_everything():
    assert "ml.rules.KeywordClassifier" in persistence.TRUSTED_TYPES
    assert not any(name.startswith(("builtins.", "posix.", "os.")) for name in persistence.TRUSTED_TYPES)


def test_failed_write_leaves_no_artifact_and_no_temp_files(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(trained("rules"), directory=tmp_path, name="v1", metadata={})
    assert list(tmp_path.iterdir()) == []


def test_overwriting_replaces_both_files(tmp_path):
    first = save_model(trained("majority"), directory=tmp_path, name="v1", metadata={"n": 1})
    second = save_model(trained("rules"), directory=tmp_path, name="v1", metadata={"n": 2})
    assert first.sha256 != second.sha256
    assert read_metadata(second.path)["n"] == 2
    load_model(second.path, expected_sha256=second.sha256)


@pytest.mark.parametrize("name", ["", "..", "a/b", "../escape"])
def test_names_cannot_escape_the_directory(tmp_path, name):
    with pytest.raises(ValueError, match="invalid artifact name"):
        save_model(trained("majority"), directory=tmp_path, name=name, metadata={})


def test_reserved_metadata_keys_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        save_model(trained("majority"), directory=tmp_path, name="v1", metadata={"sha256": "x"})


def test_metadata_that_is_not_json_fails_before_writing(tmp_path):
    with pytest.raises(TypeError):
        save_model(trained("majority"), directory=tmp_path, name="v1", metadata={"when": object()})
    assert not (tmp_path / "v1.skops").exists()


def test_loading_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(Path(tmp_path / "nope.skops"))


def test_bytes_round_trip_matches_the_file_format():
    # The database store keeps these bytes; a file and a row of the same model are interchangeable.
    model = trained()
    payload = persistence.model_to_bytes(model)
    loaded = persistence.model_from_bytes(payload, expected_sha256=persistence.sha256_hex(payload))
    np.testing.assert_array_equal(loaded.predict_proba(PROBE), model.predict_proba(PROBE))


def test_altered_bytes_are_refused_naming_their_source():
    payload = bytearray(persistence.model_to_bytes(trained("rules")))
    digest = persistence.sha256_hex(bytes(payload))
    payload[len(payload) // 2] ^= 0xFF
    with pytest.raises(ArtifactIntegrityError, match="row of v1: sha256 is"):
        persistence.model_from_bytes(bytes(payload), expected_sha256=digest, source="row of v1")


def test_untrusted_types_are_refused_from_bytes_too():
    hostile = Pipeline([("f", FunctionTransformer(func=os.system)), ("c", DummyClassifier())])
    with pytest.raises(UntrustedArtifactError, match="posix.system|nt.system"):
        persistence.model_from_bytes(skops.io.dumps(hostile))


def test_artifact_metadata_adds_identity_and_refuses_reserved_keys():
    metadata = persistence.artifact_metadata({"n": 1}, artifact="v1.skops", sha256="ab")
    assert metadata["artifact"] == "v1.skops" and metadata["sha256"] == "ab" and metadata["n"] == 1
    assert set(metadata["library_versions"]) == {"python", "sklearn", "numpy", "scipy", "skops"}
    with pytest.raises(ValueError, match="library_versions"):
        persistence.artifact_metadata({"library_versions": {}}, artifact="v1.skops", sha256="ab")
