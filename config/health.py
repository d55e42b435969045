"""Operations endpoints: liveness, readiness, whole-system health with stalled work, and ``/metrics``.

``/healthz/live`` (the process answers), ``/healthz/ready`` (database, broker, model),
``/healthz`` (readiness plus stalled work), ``/metrics`` (Prometheus text).
"""

import hmac
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from labeling.selectors import (
    content_counts_by_source,
    open_review_task_counts_by_reason,
    out_of_distribution_count,
    report_counts_by_status,
)
from predictions.artifact_store import artifact_exists, missing_artifact
from predictions.model_store import load_version
from predictions.selectors import (
    active_model_version,
    latest_drift_checks,
    model_version_counts_by_status,
    prediction_counts_by_version,
    stalled_work,
    unfinished_job_counts,
)
from predictions.selectors.trust import trust_metrics
from predictions.services.leases import lease_last_run


@never_cache
@require_GET
def live(request):
    """Liveness: this process answers. Nothing else is asked, so a down database never restarts web processes."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    """Readiness: this process can serve (database, broker, the active model loaded); 503 naming what failed."""
    checks = _checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    return JsonResponse(
        {"status": "ok" if not failed else "fail", "failed": failed, "checks": checks}, status=503 if failed else 200
    )


@never_cache
@require_GET
def healthz(request):
    """The whole system: readiness, plus the work that should be happening and is not.

    503 when a check fails or work is stalled ("retrain v5: no heartbeat for 140 s"), so
    that monitoring alerts until the reconciler and the workers have caught up. Load
    balancers should use ``/healthz/ready`` instead: a stalled worker is no reason to
    stop serving pages.
    """
    checks = _checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    stalled = _stalled() if "database" not in failed else []
    status = "fail" if failed else "stalled" if stalled else "ok"
    return JsonResponse(
        {"status": status, "failed": failed, "checks": checks, "stalled": stalled},
        status=200 if status == "ok" else 503,
    )


def _checks() -> dict:
    return {"database": _timed(_check_database), "broker": _timed(_check_broker), "model": _timed(_check_model)}


def _stalled() -> list[dict]:
    try:
        return stalled_work()
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it never raises
        return [
            {
                "kind": "health",
                "detail": f"stalled work could not be read: {type(exc).__name__}: {exc}"[:300],
                "age_seconds": 0,
            }
        ]


def _timed(check) -> dict:
    start = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - start) * 1000, 1)}


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _check_broker() -> str:
    from config.celery import app

    timeout = settings.TAGLOOP_HEALTH_BROKER_TIMEOUT
    with app.connection_for_write() as conn:
        conn.connect_timeout = timeout
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        return conn.as_uri()


def _check_model() -> str:
    version = active_model_version()
    if version is None:
        return "no active model (predictions wait for one)"
    # Checked apart from loading: a model loaded earlier stays in memory after its artifact goes.
    if not artifact_exists(version):
        raise missing_artifact(version)
    load_version(version)
    return f"v{version.number} {version.algorithm} loaded"


@never_cache
@require_GET
def metrics(request):
    """Prometheus text exposition. Off unless TAGLOOP_METRICS_TOKEN is set; then it needs
    ``Authorization: Bearer <token>`` (404 when off, 401 without the token)."""
    expected = settings.TAGLOOP_METRICS_TOKEN
    if not expected:
        return HttpResponse("metrics are off (set TAGLOOP_METRICS_TOKEN)\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        response = HttpResponse("missing or wrong bearer token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def metrics_text() -> str:
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]):
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{key}="{_escape(str(val))}"' for key, val in labels.items())
            lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")

    family(
        "tagloop_content",
        "gauge",
        "Content items stored, by source.",
        [({"source": s}, n) for s, n in content_counts_by_source()],
    )
    family(
        "tagloop_content_out_of_distribution",
        "gauge",
        "Items flagged out of distribution and not dismissed.",
        [({}, out_of_distribution_count())],
    )
    family(
        "tagloop_review_tasks_open",
        "gauge",
        "Open review tasks, by reason.",
        [({"reason": reason}, n) for reason, n in open_review_task_counts_by_reason().items()],
    )
    family(
        "tagloop_predictions",
        "gauge",
        "Stored predictions, by model version.",
        [({"model_version": str(number)}, n) for number, n in prediction_counts_by_version()],
    )
    family(
        "tagloop_reports",
        "gauge",
        "Wrong-tag reports, by status.",
        [({"status": status}, n) for status, n in report_counts_by_status().items()],
    )
    active = active_model_version()
    family(
        "tagloop_active_model_version",
        "gauge",
        "Number of the active model version (0: none).",
        [({}, active.number if active else 0)],
    )
    family(
        "tagloop_model_versions",
        "gauge",
        "Model versions, by status.",
        [({"status": s}, n) for s, n in model_version_counts_by_status()],
    )
    latest = latest_drift_checks()
    family(
        "tagloop_drift_detected",
        "gauge",
        "1 when the latest drift check of a window drifted (source all: every source).",
        [({"source": source or "all"}, int(check.drifted)) for source, check in latest],
    )
    family(
        "tagloop_drift_last_check_timestamp_seconds",
        "gauge",
        "When the latest drift check of a window ran.",
        [({"source": source or "all"}, int(check.created_at.timestamp())) for source, check in latest],
    )
    family(
        "tagloop_jobs_unfinished",
        "gauge",
        "Jobs recorded and not finished, by kind and status.",
        [({"kind": kind, "status": status}, n) for kind, status, n in unfinished_job_counts()],
    )
    family(
        "tagloop_stalled_work_age_seconds",
        "gauge",
        "How long each kind of stalled work has been stalled (no sample: nothing is stalled).",
        [({"kind": entry["kind"]}, entry["age_seconds"]) for entry in stalled_work()],
    )
    reconciled = lease_last_run(name="reconcile")
    family(
        "tagloop_reconciler_last_run_timestamp_seconds",
        "gauge",
        "When the reconciler last ran (0: never).",
        [({}, int(reconciled.timestamp()) if reconciled else 0)],
    )
    own_threshold, sources = trust_metrics()
    family(
        "tagloop_review_threshold",
        "gauge",
        "Confidence below which predictions go to review: the active version's own (source all), then each "
        "source with a state (pinned, or raised/lowered by the live audits).",
        ([({"source": "all"}, own_threshold)] if own_threshold is not None else [])
        + [({"source": s.source, "pinned": str(s.pinned).lower()}, s.threshold) for s in sources],
    )
    family(
        "tagloop_audit_share",
        "gauge",
        "Share of a source's new items drawn as blind audit samples.",
        [({"source": s.source}, s.audit_share) for s in sources],
    )
    family(
        "tagloop_trust_precision_lower_bound",
        "gauge",
        "Lower confidence bound of the live precision of auto-accepted items, at the last judgement of the "
        "source's audits (no sample: not judged yet for the active version).",
        [({"source": s.source}, s.precision_lower_bound) for s in sources if s.precision_lower_bound is not None],
    )
    family(
        "tagloop_trust_window_risk",
        "gauge",
        "Chance that a window of TAGLOOP_TRUST_WINDOW_ITEMS items misses the target precision, at the last "
        "judgement of the source's audits; the automation raises the threshold above TAGLOOP_TRUST_RISK.",
        [({"source": s.source}, s.window_risk) for s in sources if s.window_risk is not None],
    )
    family(
        "tagloop_trust_audits_judged",
        "gauge",
        "Answered audits in the source's last judgement.",
        [({"source": s.source}, s.audits_judged) for s in sources if s.audits_judged is not None],
    )
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
