"""The HTTP API of the machine side: online predictions (``predict``), drift results (``monitoring``)."""
