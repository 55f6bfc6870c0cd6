#!/usr/bin/env bash
# Make the virtual environment of the reference metric implementations used by
# benchmarks/metrics_agreement.py and benchmarks/metrics_speed.py.
#
# TSB-AD 1.5 pins numpy<2 and pulls in torch, transformers, arch and more for
# its detectors; its metric code (TSB_AD.evaluation) needs only numpy and
# scikit-learn, so it is installed without its dependencies. prts is the
# Python implementation of Tatbul et al.'s range-based precision and recall
# (the authors' own code is C++). Nothing here is imported by alad's own
# environment: the two exchange scores and results as files.
#
# Usage, from the repository root:  bash benchmarks/peers/make_metrics_env.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${METRICS_VENV:-$HERE/.venv-metrics}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q --upgrade pip
"$PIP" install -q "numpy==1.26.4" "scipy==1.13.1" "scikit-learn==1.5.2" "prts==1.0.0.3"
"$PIP" install -q --no-deps "TSB-AD==1.5"
"$VENV/bin/python" -c "import TSB_AD.evaluation.metrics, prts; print('reference metrics environment ready:', '$VENV')"
