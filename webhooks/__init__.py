"""Webhooks: admins register URLs for events; the workers deliver signed JSON with retries.

Other apps call :func:`webhooks.events.emit` (or one of its named helpers) from their services;
this app imports neither ``labeling`` nor ``predictions``.
"""
