"""Objects that live as long as a worker process are kept out of the garbage collector's full collections."""

import gc


def freeze_long_lived() -> int:
    """Collect once, then move every object alive now to the permanent generation (``gc.freeze``); returns how many.

    A worker holds some 220,000 container objects from start to end (Django, the apps, scikit-learn). Every full
    collection walked them all, about 130 ms of CPU, and a re-prediction chunk leaves enough objects behind for a
    while to set one off every few chunks: 13-16 us of CPU per item, a tenth of a chunk (docs/benchmarks.md,
    "Re-prediction: Python CPU per item"). Frozen, they are never walked again. Objects made afterwards are
    collected as before; only garbage that exists at the call would never be, hence the collection first.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
