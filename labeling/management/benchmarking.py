"""Shared by the benchmark commands: they seed data, so only into a scratch database."""

from django.core.management.base import CommandError
from django.db import connection


def add_scratch_database_argument(parser) -> None:
    parser.add_argument("--yes", action="store_true", help="allow a database whose name does not end in _bench")


def require_scratch_database(*, allowed: bool) -> None:
    name = connection.settings_dict["NAME"]
    if not (str(name).endswith("_bench") or allowed):
        raise CommandError(f"refusing to seed benchmark data into '{name}'; use a *_bench database or --yes")
