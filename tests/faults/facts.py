"""What a fault site's database and health say, read as an operator would (SQL, /healthz)."""

import requests

from tests.faults.site import Site


def version_state(site: Site, number: int) -> tuple[str, int] | None:
    """(status, progress) of model version ``number``, or None if it does not exist."""
    rows = site.sql(f"SELECT status, progress FROM predictions_modelversion WHERE number = {int(number)}")
    return rows[0] if rows else None


def newest_version(site: Site) -> int:
    return site.value("SELECT coalesce(max(number), 0) FROM predictions_modelversion")


def newest_candidate(site: Site) -> int:
    """The newest trained, never promoted version: the one a promotion under fault makes active."""
    return site.value("SELECT max(number) FROM predictions_modelversion WHERE status = 'candidate'")


def lacking_prediction(site: Site, number: int) -> int:
    """Content items without a prediction from version ``number``."""
    return site.value(
        "SELECT count(*) FROM labeling_content c WHERE NOT EXISTS (SELECT 1 FROM predictions_prediction p "
        "JOIN predictions_modelversion v ON v.id = p.model_version_id "
        f"WHERE p.content_id = c.id AND v.number = {int(number)})"
    )


def predictions_by(site: Site, number: int) -> int:
    return site.value(
        "SELECT count(*) FROM predictions_prediction p JOIN predictions_modelversion v "
        f"ON v.id = p.model_version_id WHERE v.number = {int(number)}"
    )


def content_count(site: Site) -> int:
    return site.value("SELECT count(*) FROM labeling_content")


def active_versions(site: Site) -> list[int]:
    return [
        number
        for (number,) in site.sql("SELECT number FROM predictions_modelversion WHERE status = 'active' ORDER BY number")
    ]


def jobs(site: Site, *, number: int | None = None, kind: str | None = None) -> list[tuple[str, str, int]]:
    """(kind, status, attempts) of the jobs, of one version and kind if given."""
    where = ["true"]
    if number is not None:
        where.append(f"v.number = {int(number)}")
    if kind is not None:
        where.append(f"j.kind = '{kind}'")
    return site.sql(
        "SELECT j.kind, j.status, j.attempts FROM predictions_job j "
        "LEFT JOIN predictions_modelversion v ON v.id = j.model_version_id "
        f"WHERE {' AND '.join(where)} ORDER BY j.id"
    )


def pending_older_than(site: Site, seconds: float) -> int:
    """Jobs still pending that were recorded more than ``seconds`` ago (the database's clock)."""
    return site.value(
        "SELECT count(*) FROM predictions_job WHERE status = 'pending' "
        f"AND created_at < now() - interval '{float(seconds)} seconds'"
    )


def unfinished_jobs(site: Site) -> int:
    return site.value("SELECT count(*) FROM predictions_job WHERE status IN ('pending', 'running')")


def health(base_url: str) -> tuple[int, dict]:
    """/healthz: its status code and body (``failed`` checks, ``stalled`` work)."""
    try:
        response = requests.get(f"{base_url}/healthz", timeout=15)
    except requests.RequestException as exc:
        return 0, {"error": str(exc)}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"text": response.text[:300]}
