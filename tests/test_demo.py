"""The main job (``alad demo``) runs end to end and writes its figures."""

import pytest

from alad.cli import main
from alad.demo import run_demo

TINY = {
    "window_size": 20,
    "max_epochs": 2,
    "backbone_params": {"d_model": 8, "n_heads": 2, "n_layers": 1, "d_ff": 8},
}


def test_demo_prints_metrics_each_round_and_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    lines = []
    result = run_demo(
        out_dir=tmp_path,
        rounds=2,
        per_round=4,
        detector_params=TINY,
        data_params={"n_train": 1500, "n_test": 2500},
        print_fn=lines.append,
    )
    assert [h["n_labelled"] for h in result.history] == [0, 4, 8]
    assert all({"f1_pa", "f1", "pa_k_auc"} <= set(h) for h in result.history)
    table = [line for line in lines if line.lstrip().startswith(("0 ", "1 ", "2 "))]
    assert len(table) == 3
    assert {p.name for p in result.figures} == {"demo_scores.png", "demo_budget.png"}
    assert all(p.stat().st_size > 0 for p in result.figures)


def test_command_line_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "benchmark" in out and "report" in out
