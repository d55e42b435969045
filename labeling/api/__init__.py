"""The HTTP API of the human side: wrong-tag reports (``reports``), ingestion (``ingest``), authentication (``auth``)."""
