#!/usr/bin/env bash
# The speed issue's GPU checks on a lent device machine, in one call.
#
# The device machine has PyTorch, scikit-learn, numpy, scipy, pandas, tqdm,
# requests and pytest but not skorch, zuko (NAF's flows, imported with the
# detectors), pooch and platformdirs (the data loaders), and reaches no
# network: carry their wheels (and DeepOD's, for the peers) in .whl, made here
# once (the device's Python is 3.12; the versions of alad's environment):
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp -d .whl skorch==1.4.0 zuko==1.6.0 pooch==1.9.0 \
#       platformdirs==4.14.9 deepod==0.4.1
#
# then run it with the device tool: command "bash benchmarks/gpu_check.sh",
# carry [".whl"]. Results: $OUT/gpu_check.json and $OUT/cuda_tests.log.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-alad_output/gpu_check}"
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# the tests that need CUDA (marked gpu; they skip without it), then the measurements
python3 -m pytest -q -p no:cacheprovider -m gpu tests/backbones/test_backbones.py \
    tests/detectors/test_active_reconstruction.py tests/detectors/test_nafal.py \
    2>&1 | tee "$OUT/cuda_tests.log"
python3 benchmarks/gpu_check.py --out "$OUT"
