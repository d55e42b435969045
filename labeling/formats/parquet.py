"""Parquet is an optional extra (requirements-formats.txt): pandas and pyarrow, 211 MB, for two formats.

Every Parquet read or write imports them through :func:`parquet_modules`, so an install without the
extra refuses only Parquet, with :class:`ParquetUnavailable` naming what to install, on every path:
the admin's **Import file**, ``manage.py import_content`` and ``export_gold``, the /gold/ page and the API.
"""

from types import ModuleType

from labeling.parsing import ImportFileError

INSTALL_HINT = "pip install -r requirements-formats.txt (or make install-formats)"


class ParquetUnavailable(ImportFileError):
    """Parquet asked for where pandas or pyarrow is not installed; nothing was read or written.

    An ImportFileError, so every import path already reports it as the file's problem; an export
    reports it too (501: this server cannot, whatever is asked)."""

    code = "parquet_unavailable"
    http_status = 501


def parquet_modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """(pandas, pyarrow, pyarrow.parquet), imported at the first use of Parquet."""
    try:
        import pandas
        import pyarrow
        import pyarrow.parquet
    except ImportError as error:
        raise ParquetUnavailable(
            f"Parquet needs pandas and pyarrow, which this installation lacks ({error.name} is missing): {INSTALL_HINT}"
        ) from error
    return pandas, pyarrow, pyarrow.parquet
