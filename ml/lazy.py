"""skops.io imported on first use, without torch.

Importing ``skops.io`` builds its list of trusted scikit-learn types with
``sklearn.utils.all_estimators()``, which walks every sklearn package and so
imports ``sklearn.externals.array_api_compat.torch``, which imports torch
whenever it is installed (the embeddings extra): +250 MB and +2 s in every
process that loads any model, though only an embeddings model ever encodes.

``pkgutil.walk_packages`` skips a package that raises ImportError, and the
array-API compatibility packages hold no estimators, so hiding torch while skops
builds its list (a finder that answers "not installed") changes nothing in the list (tests/ml/test_ml_lazy.py compares
the two) and keeps torch out until ml.embeddings asks for it.
"""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

# Held while torch is hidden, and by ml.embeddings while it imports torch: a thread must
# never see the hiding and take torch for missing.
TORCH_IMPORT_LOCK = threading.RLock()


def skops_io() -> ModuleType:
    """The ``skops.io`` module, imported once per process with torch hidden if not yet loaded."""
    module = sys.modules.get("skops.io")
    if module is not None:
        return module
    with TORCH_IMPORT_LOCK, _torch_hidden():
        import skops.io

    imported: ModuleType = skops.io  # skops has no annotations
    return imported


class _NoTorch:
    """A meta path finder that answers "not installed" for torch, and nothing else."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"{name} is hidden while skops lists its trusted types", name=name)
        return None


@contextmanager
def _torch_hidden() -> Iterator[None]:
    if "torch" in sys.modules:  # already paid for: nothing to save
        yield
        return
    # A finder rather than None in sys.modules: libraries test `"torch" in sys.modules`.
    finder = _NoTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
