"""Fitted models loaded once per process (a few, least recently used out first), and the serving state."""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial

from django.conf import settings

from predictions.artifact_store import artifact_load, serving_form_read
from predictions.models import Canary, ModelVersion

logger = logging.getLogger(__name__)

_lock = threading.Lock()


class LoadedModels:
    """A thread-safe LRU of fitted models: every version ever loaded would pin its memory forever.

    A load takes a fraction of a second to seconds, so it runs outside the lock that
    guards the dict, under a lock of its own key: a cold version never stalls
    predictions by the versions already loaded, and threads asking for the same
    cold version load it once. A failed load caches nothing.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._models: OrderedDict[Hashable, object] = OrderedDict()
        self._loading: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, load: Callable[[], object], *, capacity: int):
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            try:
                with self._lock:
                    if key in self._models:  # another thread loaded it while this one waited
                        self._models.move_to_end(key)
                        return self._models[key]
                model = load()
                with self._lock:
                    self._models[key] = model
                    while len(self._models) > max(capacity, 0):
                        self._models.popitem(last=False)
                return model
            finally:
                with self._lock:
                    if self._loading.get(key) is key_lock:  # not a newer thread's lock
                        del self._loading[key]

    def keys(self) -> list:
        """Least recently used first."""
        with self._lock:
            return list(self._models)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


_loaded = LoadedModels()


class LoadedModel:
    """A version's compiled form and its scikit-learn pipeline, each made when first needed.

    A web process serves from the serving form saved beside the artifact (ml.serving_form) and never loads
    the pipeline: no skops, scikit-learn, SciPy or pandas in its memory. Without a serving form (a version
    trained before it existed, or a model it cannot describe) the compiled form comes from the pipeline.
    """

    def __init__(self, model_version: ModelVersion, *, compiled: object | None = None, pipeline: object = None):
        self._version = model_version
        self._lock = threading.Lock()
        self._pipeline = pipeline
        self.compiled = compiled  # ml.linear_runtime.CompiledLinear, or None when the pipeline is not one it compiles

    @property
    def pipeline(self) -> object:
        with self._lock:
            if self._pipeline is None:
                self._pipeline = artifact_load(self._version)
            return self._pipeline


def load_version(model_version: ModelVersion):
    """The fitted pipeline of ``model_version``, from memory while it is among the last few used."""
    return _load(model_version).pipeline


def load_for_serving(model_version: ModelVersion):
    """What answers one text at a time: the compiled form when there is one (and TAGLOOP_LEAN_PREDICT)."""
    loaded = _load(model_version)
    if loaded.compiled is not None and settings.TAGLOOP_LEAN_PREDICT:
        return loaded.compiled
    return loaded.pipeline


def _load(model_version: ModelVersion) -> LoadedModel:
    # The sha256 is part of the key: a version retrained under the same number is another model.
    key = (model_version.number, model_version.artifact_sha256)
    return _loaded.get(key, lambda: _load_and_compile(model_version), capacity=settings.TAGLOOP_MODEL_CACHE_SIZE)


def _load_and_compile(model_version: ModelVersion) -> LoadedModel:
    compiled = _from_serving_form(model_version)
    if compiled is not None:
        return LoadedModel(model_version, compiled=compiled)
    pipeline = artifact_load(model_version)
    # Compiled once per process and kept beside the pipeline it came from.
    from ml.compiled import compile_pipeline

    try:
        compiled = compile_pipeline(pipeline, wrap_encoder=_encoder_batching())
    except Exception:  # noqa: BLE001 - the pipeline still answers; a compiler bug must not stop serving
        logger.exception(
            "v%s: the compiled predict path failed to build; serving through the pipeline", model_version.number
        )
        compiled = None
    return LoadedModel(model_version, compiled=compiled, pipeline=pipeline)


def _from_serving_form(model_version: ModelVersion) -> object | None:
    """The compiled form built from the version's serving form; None when it has none or it does not build.

    An altered serving form raises ArtifactIntegrityError, as an altered artifact does.
    """
    payload = serving_form_read(model_version)
    if payload is None:
        return None
    from ml.serving_form import ServingFormError, load_serving_form

    try:
        return load_serving_form(payload, wrap_encoder=_encoder_batching())
    except ServingFormError:
        logger.exception("v%s: the serving form does not load; loading the artifact instead", model_version.number)
        return None


def _encoder_batching():
    """Batching of concurrent requests' texts for an encoder, as configured (None: off)."""
    if settings.TAGLOOP_ENCODER_BATCH <= 1:
        return None
    from ml.batching import MicroBatcher

    return partial(
        MicroBatcher,
        max_items=settings.TAGLOOP_ENCODER_BATCH,
        max_wait=settings.TAGLOOP_ENCODER_BATCH_WAIT_MS / 1000,
    )


def import_model_stack() -> None:
    """Import what loading and running any version needs (skops, scikit-learn and SciPy through it, the compiler).

    For a long-lived process with no version to load yet: about 1.2-1.5 s of CPU and 120,000 objects that would
    otherwise land in its first prediction chunk, after the process had frozen its long-lived objects.
    """
    from ml.compiled import compile_pipeline  # noqa: F401 -- imported for its side effect
    from ml.lazy import skops_io

    skops_io()


def forget_loaded_models() -> None:
    _loaded.clear()


# The online API asks "which version is active, and is a canary running?" on every
# request; the answer changes only on a promotion, a rollback or a canary start or stop.
# Each process re-reads it at most once a second (a change reaches every web process
# within that second) and forgets it at once when the change happens in this process.
SERVING_STATE_TTL_SECONDS = 1.0


# (prepared text, tag, confidence) -> the score a version's thresholds judge (predictions.selectors.trust).
Scorer = Callable[[str, str, float], float]


@dataclass(frozen=True)
class ServingState:
    active: ModelVersion | None
    canary: Canary | None  # the running canary, its versions loaded
    # Each version above (the very instance) with its acceptance scorer, made when the state is read: its trust
    # score is parsed and the keyword rules looked up once per re-read, not once per request.
    scorers: tuple[tuple[ModelVersion, Scorer], ...] = ()


_serving: dict = {"state": ServingState(None, None), "read_at": float("-inf")}


def serving_state_cached() -> ServingState:
    from predictions.selectors import serving_canary, serving_model_version

    now = time.monotonic()
    with _lock:
        if now - _serving["read_at"] < SERVING_STATE_TTL_SECONDS:
            return _serving["state"]
    active, canary = serving_model_version(), serving_canary()
    state = ServingState(active=active, canary=canary, scorers=_scorers(active, canary))
    with _lock:
        _serving.update(state=state, read_at=now)
    return state


def _scorers(active: ModelVersion | None, canary: Canary | None) -> tuple[tuple[ModelVersion, Scorer], ...]:
    from predictions.selectors.trust import acceptance_scorer

    made = []
    for version in (active, *((canary.baseline, canary.candidate) if canary is not None else ())):
        if version is None:  # nothing active: the request is a 503, with no score to make
            continue
        try:
            made.append((version, acceptance_scorer(version)))
        except (KeyError, TypeError, ValueError):
            # A trust score that does not parse: left to the requests this version answers, which fail as before.
            continue
    return tuple(made)


def acceptance_scorer_cached(version: ModelVersion) -> Scorer:
    """The acceptance scorer of a version the serving state holds, as made when it was read.

    Keyed by the instance itself: a version read at another time (or changed since) gets its own.
    """
    for served, scorer in serving_state_cached().scorers:
        if served is version:
            return scorer
    from predictions.selectors.trust import acceptance_scorer

    return acceptance_scorer(version)


def active_version_cached() -> ModelVersion | None:
    return serving_state_cached().active


def forget_serving_state() -> None:
    from predictions.selectors.trust import forget_thresholds

    with _lock:
        _serving.update(state=ServingState(None, None), read_at=float("-inf"))
    forget_thresholds()  # the thresholds in force belong to the serving state
