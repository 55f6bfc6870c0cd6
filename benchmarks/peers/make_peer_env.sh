#!/usr/bin/env bash
# Make the virtual environment of the peers of the label-efficiency benchmark
# (alad benchmark --protocol labels; docs/label_efficiency.rst), used by
# benchmarks/peers/run_peers.py. Exact versions, all from PyPI.
#
# - torch is pinned to the CPU build of alad's own constraints (torch==2.13.0);
#   any other spec downloads several GB of CUDA wheels.
# - TSB-AD 1.5 pins numpy<2, hence numpy 1.26.4 here (alad's environment keeps
#   numpy 2): the two environments exchange data and scores as files only.
# - DeepOD 0.4.1 declares torch<1.13.1, which cannot be met next to torch
#   2.13.0: it is installed with --no-deps and its real imports (numpy, scipy,
#   scikit-learn, pandas, tqdm) are installed by hand; its time-series models
#   run with torch 2.13.
# - PyOD 3.6.7 for ECOD, AutoEncoder and its time-series LSTMAD, and (NAF's
#   label benchmark) XGBOD, which needs xgboost, and DevNet.
#
# Usage, from the repository root:  bash benchmarks/peers/make_peer_env.sh
# (PEERS_VENV=... to put it elsewhere; PYTHON=... for another interpreter).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${PEERS_VENV:-$HERE/.venv-peers}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q --upgrade pip
PINS=(
  "torch==2.13.0"
  "numpy==1.26.4"
  "scipy==1.13.1"
  "scikit-learn==1.5.2"
  "pandas==2.2.3"
  "tqdm==4.67.1"
)
"$PIP" install -q "${PINS[@]}"
"$PIP" install -q "${PINS[@]}" "pyod==3.6.7" "TSB-AD==1.5"
"$PIP" install -q --no-deps "deepod==0.4.1"
# XGBoost for PyOD's XGBOD (benchmarks/peers/run_naf_peers.py); the CPU-only wheel
"$PIP" install -q "${PINS[@]}" "xgboost-cpu==3.2.0"
"$VENV/bin/python" - <<'PY'
import importlib, sys
import numpy, sklearn, torch
versions = {"python": sys.version.split()[0], "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "torch": torch.__version__}
for name in ("pyod", "deepod", "TSB_AD"):
    module = importlib.import_module(name)
    versions[name] = getattr(module, "__version__", "?")
from importlib.metadata import version
versions.update({d: version(d) for d in ("pyod", "deepod", "TSB-AD")})
print("peers environment ready:", versions)
PY
