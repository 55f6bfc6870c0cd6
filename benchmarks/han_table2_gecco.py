"""Our GECCO figures next to Han et al.'s Table 2 (GECCO columns), per backbone.

Reads the JSON-lines results of ``alad benchmark`` (see
benchmarks/reproduce_han.sh) and prints an RST list-table: for each backbone
and setting, F1_PA, F1 and PA%K AUC measured here (mean over the seeds run)
and the paper's. The paper's "AUC" is the PA%K AUC.

Usage::

    python benchmarks/han_table2_gecco.py benchmarks/results/han/backbones_gecco.jsonl

The file is made by ``bash benchmarks/reproduce_han.sh backbones``; it is not
committed (the records of the run shown in docs/backbones.rst were lost with
the machine that made them).
"""

from __future__ import annotations

import argparse

from alad.experiments import read_records, render_table, summarize

#: Han et al., Table 2, GECCO: (F1_PA, F1, AUC) per backbone and setting.
PAPER = {
    "lstm_vae": {
        "w/ unlabeled": (0.3002, 0.2168, 0.2739),
        "w/o unlabeled": (0.3008, 0.2209, 0.2772),
        "active": (0.3014, 0.2249, 0.2801),
    },
    "usad": {
        "w/ unlabeled": (0.3002, 0.2168, 0.2739),
        "w/o unlabeled": (0.3002, 0.2168, 0.2744),
        "active": (0.3008, 0.2209, 0.2777),
    },
    "omni_anomaly": {
        "w/ unlabeled": (0.3002, 0.2168, 0.2739),
        "w/o unlabeled": (0.3002, 0.2168, 0.2739),
        "active": (0.3008, 0.2209, 0.2777),
    },
    "transformer": {
        "w/ unlabeled": (0.3002, 0.2168, 0.2749),
        "w/o unlabeled": (0.3002, 0.2168, 0.2749),
        "active": (0.3136, 0.3067, 0.3135),
    },
    "anomaly_transformer": {
        "w/ unlabeled": (0.2795, 0.0126, 0.0219),
        "w/o unlabeled": (0.2730, 0.0082, 0.0148),
        "active": (0.3037, 0.1971, 0.2627),
    },
    "vtt_sat": {
        "w/ unlabeled": (0.2911, 0.1513, 0.2473),
        "w/o unlabeled": (0.2868, 0.1186, 0.1838),
        "active": (0.3056, 0.2536, 0.2957),
    },
    "vtt_pat": {
        "w/ unlabeled": (0.2900, 0.1431, 0.2142),
        "w/o unlabeled": (0.3037, 0.2413, 0.2894),
        "active": (0.2922, 0.1595, 0.2276),
    },
}
SETTINGS = ("w/o unlabeled", "w/ unlabeled", "active")
METRICS = ("f1_pa", "f1", "pa_k_auc")


def comparison_rows(records) -> list[list[str]]:
    """Rows of (backbone, setting, ours x 3, paper x 3), in the paper's order."""
    ours = {
        (r["method"], r["setting"]): r
        for r in summarize(records)
        if r["dataset"] == "gecco"
    }
    rows = []
    for backbone, paper in PAPER.items():
        for setting in SETTINGS:
            row = ours.get((backbone, setting))
            if row is None:
                continue
            cells = [f"{row[f'{m}_mean']:.4f}" for m in METRICS]
            rows.append(
                [backbone, setting, *cells, *(f"{v:.4f}" for v in paper[setting])]
            )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    args = parser.parse_args(argv)
    header = [
        "backbone",
        "setting",
        "F1_PA",
        "F1",
        "PA%K AUC",
        "paper F1_PA",
        "paper F1",
        "paper AUC",
    ]
    rows = comparison_rows(read_records(args.results))
    title = "GECCO: measured here (one seed) and Han et al.'s Table 2"
    print(render_table(header, rows, "rst", title=title))


if __name__ == "__main__":
    main()
