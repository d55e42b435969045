"""Sentence embeddings are computed once per content item and kept in the database.

Before a retrain the stored vectors prime ``ml.embeddings``' cache, so only new or
changed texts are encoded; afterwards the newly encoded ones are stored. Does nothing
for algorithms that do not use embeddings (the cache stays empty).

Rows are keyed by the encoder's identity (``ContentEmbedding.model_name``): the MiniLM
model's name for fp32 vectors (numpy, ONNX Runtime fp32 and sentence-transformers make the
same ones), and that name with the int8 graph's hash for int8 vectors, which are close but
not equal. A model is primed only with vectors of the kind it was trained on.
"""

import numpy as np
from django.db import transaction

from predictions.models import ContentEmbedding

# ml.embeddings is imported by the two functions, which run on workers that train: it needs
# scikit-learn, which a web process or a command should not load just by starting.


def embeddings_prime(*, contents, texts: list[str], identity: str) -> int:
    """Load the vectors encoder ``identity`` stored for these items (whose text is unchanged) into the cache."""
    from ml.embeddings import EMBEDDING_DIM, embedding_key, prime_embedding_cache

    wanted = {item.content_id: embedding_key(text) for item, text in zip(contents, texts)}
    text_of = {item.content_id: text for item, text in zip(contents, texts)}
    rows = ContentEmbedding.objects.filter(model_name=identity, content_id__in=list(wanted)).values_list(
        "content_id", "text_hash", "vector"
    )
    fresh = [(text_of[cid], bytes(vector)) for cid, text_hash, vector in rows if wanted[cid] == text_hash]
    if not fresh:
        return 0
    vectors = np.stack([np.frombuffer(vector, dtype=np.float32) for _, vector in fresh])
    return prime_embedding_cache([text for text, _ in fresh], vectors.reshape(len(fresh), EMBEDDING_DIM), identity)


def embeddings_store_new(*, contents, texts: list[str], identity: str) -> int:
    """Store what encoder ``identity`` computed during this run for these items; returns how many."""
    from ml.embeddings import embedding_key, take_new_embeddings

    new_texts, vectors = take_new_embeddings(identity)
    if not new_texts:
        return 0
    vector_of = {embedding_key(text): vector for text, vector in zip(new_texts, vectors)}
    rows = []
    for item, text in zip(contents, texts):
        key = embedding_key(text)
        if key in vector_of:
            rows.append(
                ContentEmbedding(
                    content_id=item.content_id,
                    model_name=identity,
                    text_hash=key,
                    vector=np.asarray(vector_of[key], dtype=np.float32).tobytes(),
                )
            )
    with transaction.atomic():
        ContentEmbedding.objects.filter(model_name=identity, content_id__in=[row.content_id for row in rows]).delete()
        ContentEmbedding.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
