"""A web process's boot, step by step: CPU and wall seconds of each step config.wsgi takes, in its order.

    DATABASE_URL=... python -m benchmarks.bench_boot_steps

Run it against a database whose active version is the one to measure (e.g. the one ``bench_serve``
trained, its artifact in the database store). Steps: Django's setup (settings, apps, models), the WSGI
handler (middleware), the URLconf (every view, DRF, drf-spectacular), the serving state (the active
version and its acceptance scorer), the model's load (the serving form, or the skops artifact and its
compile), the first answer. Prints which heavy libraries the boot imported and the load average: CPU
seconds move less than wall seconds with other work on the machine, but still some.
"""

import os
import sys
import time

HEAVY = ("sklearn", "scipy", "pandas", "skops", "onnxruntime", "torch")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    os.environ["TAGLOOP_WARM_AT_BOOT"] = "false"  # the steps below are the warm-up, timed one by one
    marks = [("start", time.process_time(), time.perf_counter())]

    def mark(name: str) -> None:
        marks.append((name, time.process_time(), time.perf_counter()))

    import django

    django.setup()
    mark("Django setup (settings, apps, models)")
    from django.core.wsgi import get_wsgi_application

    get_wsgi_application()
    mark("WSGI handler (middleware)")
    from django.urls import get_resolver

    _ = get_resolver().url_patterns
    mark("URLconf (views, DRF, drf-spectacular)")
    from predictions.model_store import load_for_serving, serving_state_cached

    state = serving_state_cached()
    mark("serving state (active version, its scorer)")
    if state.active is None:
        raise SystemExit("no active version in this database: train and promote one first")
    load_for_serving(state.active)
    mark("model load (serving form, or artifact + compile)")
    from predictions.services.serving import serving_warm

    serving_warm()
    mark("first answer")
    for (_, cpu_before, wall_before), (name, cpu, wall) in zip(marks, marks[1:]):
        print(f"{name:50s} cpu {cpu - cpu_before:.3f} s  wall {wall - wall_before:.3f} s")
    heavy = [name for name in HEAVY if name in sys.modules]
    print(
        f"{'total':50s} cpu {marks[-1][1] - marks[0][1]:.3f} s  wall {marks[-1][2] - marks[0][2]:.3f} s; "
        f"{len(sys.modules)} modules; heavy: {', '.join(heavy) or 'none'}; v{state.active.number} "
        f"{state.active.algorithm}; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
