"""The sentence embedding pipeline steps (scikit-learn estimators) of :mod:`ml.embeddings`.

Their home is ``ml.embeddings`` (``__module__`` says so: skops and pickle name them
``ml.embeddings.SentenceEmbedder``, and ml.persistence trusts those names); they live here so that
importing ``ml.embeddings`` (its per-text cache, used when a web process serves an embedding model from
its serving form) does not import scikit-learn. ``ml.embeddings`` hands them out on first use.
"""

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ml.embeddings import (
    EMBEDDING_DIM,
    EMBEDDING_MODEL_NAME,
    SENTENCE_TRANSFORMERS,
    _as_text_list,
    cached_encode,
)
from ml.minilm_backends import TextEncoder, encoder_for, training_precision


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Pipeline step: prepared texts -> cached sentence embeddings.

    Stateless apart from the model name, so a saved pipeline stays small and
    loading it never touches the encoder until the first transform.
    """

    def __init__(self, model_name: str = EMBEDDING_MODEL_NAME):
        self.model_name = model_name

    def fit(self, X: Any, y: Any = None) -> "SentenceEmbedder":
        if self.model_name != EMBEDDING_MODEL_NAME:
            # Only one encoder ships with the project; refuse rather than
            # silently embed with a different model than the name says.
            raise ValueError(
                f"unsupported embedding model {self.model_name!r}; only {EMBEDDING_MODEL_NAME!r} is available"
            )
        self.n_features_out_ = EMBEDDING_DIM
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return cached_encode(_as_text_list(X), encoder=self.text_encoder())

    def text_encoder(self) -> TextEncoder:
        """The encoder this step's vectors come from, with the identity they are stored under."""
        return SENTENCE_TRANSFORMERS

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"embedding{i}" for i in range(EMBEDDING_DIM)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


class MiniLMEmbedder(SentenceEmbedder):
    """Pipeline step: the embeddings of :class:`SentenceEmbedder`, encoded without torch.

    ``precision`` is the kind of vectors the model was fitted on: ``fp32`` (ONNX Runtime or
    numpy, the same vectors as the torch path, sharing its cache) or ``int8`` (ONNX Runtime
    with int8 weights, cached apart).  ``None`` means "what TAGLOOP_MINILM_BACKEND trains
    on", fixed at fit so a saved model is always served the kind it learnt from
    (:mod:`ml.minilm_backends`).  Artifacts saved before the attribute existed hold fp32.
    """

    def __init__(self, model_name: str = EMBEDDING_MODEL_NAME, precision: str | None = None):
        super().__init__(model_name=model_name)
        self.precision = precision

    def fit(self, X: Any, y: Any = None) -> "MiniLMEmbedder":
        super().fit(X, y)
        if self.precision not in (None, "fp32", "int8"):
            raise ValueError(
                f"unknown MiniLM precision {self.precision!r}; expected fp32, int8 or None (the setting's)"
            )
        self.precision_ = self.precision or training_precision()
        return self

    def text_encoder(self) -> TextEncoder:
        return encoder_for(getattr(self, "precision_", "fp32"))


# Named where they have always been: saved artifacts and the trusted types say ml.embeddings.
SentenceEmbedder.__module__ = "ml.embeddings"
MiniLMEmbedder.__module__ = "ml.embeddings"
