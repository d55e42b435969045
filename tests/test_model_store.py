"""The model store: both backends, integrity checks, the fallback between them, the import, the LRU."""

import threading
import time

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from ml.persistence import ArtifactIntegrityError, read_metadata, sha256_hex
from ml.training import train_model
from predictions import model_store
from predictions.artifact_store import (
    BACKENDS,
    ArtifactMissing,
    artifact_exists,
    artifact_load,
    artifact_save,
    local_artifact_path,
)
from predictions.model_store import LoadedModels, load_version
from predictions.models import ModelArtifact, ModelVersion
from tests.tiny_dataset import LABELS, TEXTS

PROBE = ["segmentation of video", "a language model", "kubernetes", "something else"]


@pytest.fixture(scope="module")
def models():
    """Two different fitted models, trained once for the module."""
    return [
        train_model(texts=TEXTS, labels=LABELS, algorithm=algorithm, random_state=0)
        for algorithm in ("tfidf-linear", "rules")
    ]


def trained_version(number: int, model, *, store: str | None = None) -> ModelVersion:
    """A version whose artifact was saved as training does, through ``store`` (default: the configured one)."""
    version = ModelVersion.objects.get_or_create(number=number, defaults={"algorithm": "tfidf-linear"})[0]
    name, metadata = f"v{number}-tfidf-linear", {"model_version": number}
    if store is None:
        artifact = artifact_save(model_version=version, model=model, name=name, metadata=metadata)
    else:
        artifact = BACKENDS[store].save(model_version=version, model=model, name=name, metadata=metadata)
    ModelVersion.objects.filter(pk=version.pk).update(artifact_path=artifact.name, artifact_sha256=artifact.sha256)
    version.refresh_from_db()
    return version


def same_predictions(loaded, model) -> None:
    np.testing.assert_array_equal(loaded.predict_proba(PROBE), model.predict_proba(PROBE))


def flip_a_byte(data: bytes) -> bytes:
    altered = bytearray(data)
    altered[len(altered) // 2] ^= 0xFF
    return bytes(altered)


# --- each backend ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["local", "database"])
def test_a_saved_model_loads_back_from_its_backend_alone(store, models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = store
    version = trained_version(1, models[0])
    assert version.artifact_path == "v1-tfidf-linear.skops" and len(version.artifact_sha256) == 64
    other = "local" if store == "database" else "database"
    assert BACKENDS[store].has(version) and not BACKENDS[other].has(version)
    same_predictions(artifact_load(version), models[0])


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["local", "database"])
def test_saving_a_version_again_replaces_its_artifact_whole(store, models, model_dir, settings):
    # A retried training run of the same version.
    settings.TAGLOOP_MODEL_STORE = store
    first = trained_version(1, models[0])
    second = trained_version(1, models[1])
    assert first.artifact_sha256 != second.artifact_sha256
    same_predictions(artifact_load(second), models[1])
    assert ModelArtifact.objects.count() == (1 if store == "database" else 0)
    assert sorted(path.name for path in model_dir.glob("*")) == (
        ["v1-tfidf-linear.json", "v1-tfidf-linear.skops"] if store == "local" else []
    )
    with pytest.raises(ArtifactIntegrityError):  # nothing of the first run is left to mix in
        artifact_load(first)


@pytest.mark.django_db
@pytest.mark.parametrize("store", ["local", "database"])
def test_a_failed_save_leaves_the_previous_artifact_loadable(store, models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = store
    version = trained_version(1, models[0])
    with pytest.raises(TypeError):
        artifact_save(model_version=version, model=models[1], name="v1-tfidf-linear", metadata={"when": object()})
    same_predictions(artifact_load(version), models[0])


@pytest.mark.django_db
def test_the_database_row_carries_the_sidecars_metadata(models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "database"
    version = trained_version(1, models[0])
    row = ModelArtifact.objects.get(model_version=version)
    assert row.sha256 == version.artifact_sha256 == sha256_hex(bytes(row.data))
    assert row.size == len(bytes(row.data))
    assert row.metadata["model_version"] == 1 and row.metadata["artifact"] == "v1-tfidf-linear.skops"
    assert set(row.metadata["library_versions"]) == {"python", "sklearn", "numpy", "scipy", "skops"}


# --- integrity -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tampered_row_is_refused(models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "database"
    version = trained_version(1, models[0])
    row = ModelArtifact.objects.get(model_version=version)
    ModelArtifact.objects.filter(pk=row.pk).update(data=flip_a_byte(bytes(row.data)))
    expected = rf"the artifact row of v1\): sha256 is .*, expected {version.artifact_sha256}"
    with pytest.raises(ArtifactIntegrityError, match=expected):
        artifact_load(version)


@pytest.mark.django_db
def test_a_tampered_file_is_refused(models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "local"
    version = trained_version(1, models[0])
    path = local_artifact_path(version)
    path.write_bytes(flip_a_byte(path.read_bytes()))
    with pytest.raises(ArtifactIntegrityError, match=str(path)):
        artifact_load(version)


@pytest.mark.django_db
def test_a_tampered_copy_is_not_passed_over_for_another(models, model_dir, settings):
    # A good file beside an altered row: loading the file instead would hide the tampering.
    version = trained_version(1, models[0], store="local")
    BACKENDS["database"].write(
        model_version=version, payload=flip_a_byte(local_artifact_path(version).read_bytes()), metadata={}
    )
    settings.TAGLOOP_MODEL_STORE = "database"
    with pytest.raises(ArtifactIntegrityError):
        artifact_load(version)


# --- versions from before a switch -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_version_trained_before_the_switch_to_the_database_serves_from_its_file(
    models, model_dir, settings, admin_user
):
    from predictions.services import model_version_promote

    settings.TAGLOOP_MODEL_STORE = "local"
    version = trained_version(1, models[0])
    ModelVersion.objects.filter(pk=version.pk).update(status="candidate")
    version.refresh_from_db()
    settings.TAGLOOP_MODEL_STORE = "database"
    assert not ModelArtifact.objects.exists() and artifact_exists(version)
    same_predictions(artifact_load(version), models[0])
    assert model_version_promote(model_version=version, promoted_by=admin_user).status == "active"


@pytest.mark.django_db
def test_a_version_in_the_database_still_loads_after_a_switch_to_local(models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "database"
    version = trained_version(1, models[0])
    settings.TAGLOOP_MODEL_STORE = "local"
    assert not local_artifact_path(version).exists() and artifact_exists(version)
    same_predictions(artifact_load(version), models[0])


@pytest.mark.django_db
def test_an_artifact_in_no_backend_is_missing_naming_where_it_was_looked_for(models, model_dir, settings):
    settings.TAGLOOP_MODEL_STORE = "database"
    version = trained_version(1, models[0])
    ModelArtifact.objects.all().delete()
    assert not artifact_exists(version)
    with pytest.raises(ArtifactMissing) as missing:
        artifact_load(version)
    assert isinstance(missing.value, FileNotFoundError)  # what serving has always caught
    assert "the artifact row of v1" in str(missing.value) and str(local_artifact_path(version)) in str(missing.value)


@pytest.mark.django_db
def test_promotion_refuses_a_version_whose_artifact_is_in_no_backend(models, model_dir, settings, admin_user):
    from predictions.services import PromotionError, model_version_promote

    settings.TAGLOOP_MODEL_STORE = "database"
    version = trained_version(1, models[0])
    ModelVersion.objects.filter(pk=version.pk).update(status="candidate")
    version.refresh_from_db()
    ModelArtifact.objects.all().delete()
    with pytest.raises(PromotionError, match="v1 cannot serve: its artifact v1-tfidf-linear.skops is missing"):
        model_version_promote(model_version=version, promoted_by=admin_user)


# --- model_store_import --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_import_copies_local_artifacts_into_the_database_once(models, model_dir, settings, capsys):
    settings.TAGLOOP_MODEL_STORE = "local"
    versions = [trained_version(number, model) for number, model in ((1, models[0]), (2, models[1]))]
    ModelVersion.objects.create(number=3, algorithm="rules", status="failed")  # never trained: not listed
    settings.TAGLOOP_MODEL_STORE = "database"
    call_command("model_store_import")
    out = capsys.readouterr().out
    assert "v1 (queued): copied into the database" in out and "2 copied, 0 not" in out and "v3" not in out
    for version, model in zip(versions, models):
        assert ModelArtifact.objects.get(model_version=version).metadata == read_metadata(local_artifact_path(version))
        local_artifact_path(version).unlink()  # the files may go now
        same_predictions(artifact_load(version), model)
    call_command("model_store_import")
    assert "v2 (queued): already in the database" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_import_refuses_an_altered_file_and_a_serving_version_without_one(models, model_dir, settings, capsys):
    settings.TAGLOOP_MODEL_STORE = "local"
    altered = trained_version(1, models[0])
    path = local_artifact_path(altered)
    path.write_bytes(flip_a_byte(path.read_bytes()))
    lost = trained_version(2, models[1])
    ModelVersion.objects.filter(pk=lost.pk).update(status="active")
    local_artifact_path(lost).unlink()
    with pytest.raises(CommandError, match="the artifact of v1, v2 is not in the database"):
        call_command("model_store_import")
    out = capsys.readouterr().out
    assert "v1 (queued): NOT copied" in out and "v2 (active): no file" in out
    assert not ModelArtifact.objects.exists()


# --- the per-process LRU -----------------------------------------------------------------------------


def test_the_least_recently_used_model_goes_first():
    cache = LoadedModels()
    for key in ("a", "b", "a"):  # "a" used again: "b" is now the oldest
        cache.get(key, lambda key=key: key.upper(), capacity=2)
    assert cache.get("c", lambda: "C", capacity=2) == "C"
    assert cache.keys() == ["a", "c"]
    loads = []
    cache.get("b", lambda: loads.append("b") or "B", capacity=2)
    assert loads == ["b"] and cache.keys() == ["c", "b"]


def test_a_failed_load_is_not_cached():
    cache = LoadedModels()

    def broken():
        raise ArtifactMissing("gone")

    with pytest.raises(ArtifactMissing):
        cache.get("a", broken, capacity=3)
    assert cache.keys() == [] and cache.get("a", lambda: "A", capacity=3) == "A"


def test_threads_asking_for_one_cold_version_load_it_once():
    cache, loads, release = LoadedModels(), [], threading.Event()

    def slow_load():
        loads.append(1)
        release.wait(5)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("a", slow_load, capacity=3))) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(loads) == 1 and len(results) == 4 and all(result is results[0] for result in results)


def test_a_slow_load_does_not_hold_up_a_version_already_loaded():
    cache, started, release = LoadedModels(), threading.Event(), threading.Event()
    cache.get("warm", lambda: "W", capacity=3)

    def slow_load():
        started.set()
        release.wait(5)
        return "C"

    loader = threading.Thread(target=lambda: cache.get("cold", slow_load, capacity=3))
    loader.start()
    try:
        assert started.wait(5)
        began = time.monotonic()
        assert cache.get("warm", lambda: pytest.fail("reloaded a cached model"), capacity=3) == "W"
        assert time.monotonic() - began < 1
    finally:
        release.set()
        loader.join(5)
    assert cache.keys() == ["warm", "cold"]


@pytest.mark.django_db
def test_load_version_keeps_as_many_versions_as_the_setting_says(models, model_dir, settings, monkeypatch):
    monkeypatch.setattr(model_store, "_loaded", LoadedModels())
    settings.TAGLOOP_MODEL_CACHE_SIZE = 2
    versions = [trained_version(number, models[number % 2]) for number in (1, 2, 3)]
    for version in versions:
        load_version(version)
    assert model_store._loaded.keys() == [(2, versions[1].artifact_sha256), (3, versions[2].artifact_sha256)]
    assert load_version(versions[2]) is load_version(versions[2])


# --- the benchmark -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bench_model_store_times_both_backends_and_leaves_nothing_behind(tmp_path, capsys):
    docs = tmp_path / "benchmarks.md"
    call_command("bench_model_store", "--algorithm", "tfidf-linear", "--loads", "2", "--docs", str(docs), "--yes")
    table = capsys.readouterr().out
    assert "| tfidf-linear | local |" in table and "| tfidf-linear | database |" in table
    assert "## Model store" in docs.read_text() and "| tfidf-linear | database |" in docs.read_text()
    assert not ModelVersion.objects.exists() and not ModelArtifact.objects.exists()
