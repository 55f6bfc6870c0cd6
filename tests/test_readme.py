"""The README's Python code runs as printed (a smaller model, the same calls)."""

import re
from pathlib import Path

import numpy as np

import alad

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_loop_of_the_readme_runs(monkeypatch):
    loop = next(b for b in _python_blocks() if "partial_fit" in b)
    real = alad.ActiveReconstructionDetector

    def small(**params):  # the README's parameters, a model that trains in seconds
        tiny = {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 16}
        return real(**params, max_epochs=1, backbone_params=tiny)

    monkeypatch.setattr(alad, "ActiveReconstructionDetector", small)
    names = {}
    exec(compile(loop, str(README), "exec"), names)
    det, split, scores = names["det"], names["split"], names["scores"]
    assert isinstance(det, real) and det.n_feedback_rounds_ >= 1
    assert 0 < det.n_labelled_windows_ <= 40  # the README's budget
    assert scores.shape == (len(split.X_eval),) and np.isfinite(scores).all()


def test_the_loaders_the_readme_names_exist():
    block = next(b for b in _python_blocks() if "partial_fit" not in b)
    assert "load_gecco" in block
    exec(compile(block, str(README), "exec"), {})
