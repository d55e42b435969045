"""HTML views: model versions (``model_versions``), the canary (``canary``), ``monitoring`` and the ``dashboard``."""
