"""HTML views: public pages (``public``) and the annotators' review queue (``review``)."""
