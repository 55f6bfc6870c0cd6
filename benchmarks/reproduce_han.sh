#!/usr/bin/env bash
# Regenerate docs/results.rst's tables and figures: the Table 2 protocol of
# Han et al. with the Transformer, IsolationForest and LOF on GECCO, UCR 001
# and MSL (27 entities), seeds 0-2; then, for docs/backbones.rst and
# docs/backbones_msl.rst, the seven backbones on GECCO and on the 27 MSL
# entities (one seed, at most 10 epochs).
#
# Resumable: the records of finished runs (metrics, settings, timings) are
# appended to benchmarks/results/han/*.jsonl and skipped when this script is
# run again (the MSL backbones' files are committed; those of the Transformer
# and of GECCO's backbones were lost with the machine that made them, so a
# rerun makes them anew); trained models and per-timestep scores are
# cached in alad_output/results/cache (not committed: the pooled tables and
# the figures need them). Needs the data home: ALAD_DATA_HOME=../shared/datasets.
#
#   bash benchmarks/reproduce_han.sh             # everything
#   bash benchmarks/reproduce_han.sh transformer # the first part only
#   bash benchmarks/reproduce_han.sh backbones   # the second part only
set -euo pipefail
cd "$(dirname "$0")/.."
# the README's virtual environment, where there is one: alad and python from it
if [ -x .venv/bin/alad ]; then PATH="$PWD/.venv/bin:$PATH"; fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
records=benchmarks/results/han
out=alad_output/results
docs=docs/results
mkdir -p "$records" "$out" "$docs"
what="${1:-all}"

if [ "$what" = all ] || [ "$what" = transformer ]; then
  alad benchmark --dataset gecco --dataset ucr --dataset msl --seeds 0 1 2 \
    --out "$records/transformer.jsonl" --cache "$out/cache" --quiet \
    --rst "$docs/transformer_tables.inc" --figures "$docs/fig" > "$out/transformer.md"
  python - "$docs" <<'PY'
import sys
from pathlib import Path

docs = Path(sys.argv[1])
lines = []
for stem in ("gecco_transformer", "ucr_001_transformer", "msl_C-1_transformer"):
    for kind, caption in (
        ("scores", "Scores over time on the evaluation part (seed 0), anomalies shaded"),
        ("pa_k", "PA%K curves (seed 0)"),
        ("budget", "Metrics against labelled windows, mean and std over seeds"),
    ):
        path = docs / "fig" / f"{stem}_{kind}.png"
        if path.exists():
            lines += [f".. figure:: results/fig/{path.name}", "   :width: 100%", "",
                      f"   {stem.replace('_transformer', '')}: {caption}.", ""]
(docs / "transformer_figures.inc").write_text("\n".join(lines))
PY
fi

if [ "$what" = all ] || [ "$what" = backbones ]; then
  backbones=""
  for b in lstm_vae usad transformer omni_anomaly anomaly_transformer vtt_pat vtt_sat; do
    backbones="$backbones --backbone $b"
  done
  # scaled down for CPU time: at most 10 epochs (patience 3), one seed
  scaled='{"max_epochs": 10, "patience": 3}'
  alad benchmark --dataset gecco $backbones --no-baselines --seeds 0 \
    --params "$scaled" --out "$records/backbones_gecco.jsonl" --cache "$out/cache" \
    --quiet > /dev/null
  # MSL, all 27 entities: five backbones at their default sizes; VTT-SAT and
  # VTT-PAT with hidden_size 32 instead of 128 (55 variables make 2,750
  # tokens per window: at 128, one VTT-SAT batch of 8 costs about 5 CPU s)
  fast=""
  for b in lstm_vae usad transformer omni_anomaly anomaly_transformer; do
    fast="$fast --backbone $b"
  done
  alad benchmark --dataset msl $fast --no-baselines --seeds 0 \
    --params "$scaled" --out "$records/backbones_msl.jsonl" --cache "$out/cache" \
    --quiet > /dev/null
  alad benchmark --dataset msl --backbone vtt_sat --backbone vtt_pat \
    --no-baselines --seeds 0 \
    --params '{"max_epochs": 10, "patience": 3, "backbone_params": {"hidden_size": 32}}' \
    --out "$records/backbones_msl_vtt32.jsonl" --cache "$out/cache" --quiet > /dev/null
  # the Anomaly Transformer scored by Eq. 4 (reconstruction error) instead of
  # its association-weighted score
  alad benchmark --dataset gecco --backbone anomaly_transformer --no-baselines \
    --seeds 0 --setting "w/o unlabeled" --setting active \
    --params '{"max_epochs": 10, "patience": 3, "anomaly_score": "reconstruction"}' \
    --out "$records/backbones_gecco_at_eq4.jsonl" --cache "$out/cache" --quiet > /dev/null
  alad report "$records/backbones_gecco.jsonl" --rst "$docs/backbones_tables.inc" \
    > "$out/backbones.md"
  alad report "$records/backbones_msl.jsonl" "$records/backbones_msl_vtt32.jsonl" \
    --rst "$docs/backbones_msl_tables.inc" > "$out/backbones_msl.md"
  alad report "$records/backbones_gecco_at_eq4.jsonl" > "$out/backbones_at_eq4.md"
  python benchmarks/han_table2_gecco.py "$records/backbones_gecco.jsonl" \
    > "$docs/backbones_vs_paper.inc"
fi
