"""The NAF-AL tables as a protocol of the engine (real data, quick settings)."""

import pytest

from alad.detectors.nafal import NAFALDetector
from alad.experiments import nafal


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, data_home):
    out = tmp_path_factory.mktemp("nafal") / "nafal.jsonl"
    store = nafal.run_tables(
        ["1"], datasets=["lympho"], seeds=[0, 1], quick=True, out=out, progress=False
    )
    return out, store


@pytest.mark.real_data
def test_one_record_per_seed_with_every_method(quick_run):
    _, store = quick_run
    records = list(store)
    assert sorted(r["seed"] for r in records) == [0, 1]
    for r in records:
        assert r["protocol"] == "nafal" and r["table"] == "1"
        for method in nafal.METHODS:
            assert 0.0 <= r[method] <= 1.0
        assert r["control_rounds"] == nafal.trained_rounds(r["augmentation"])


@pytest.mark.real_data
def test_rerun_resumes_and_the_report_has_the_table(quick_run):
    out, store = quick_run
    before = out.read_text()
    again = nafal.run_tables(
        ["1"], datasets=["lympho"], seeds=[0, 1], quick=True, out=out, progress=False
    )
    assert out.read_text() == before and len(again) == len(store)
    text = nafal.format_report(list(again), fmt="rst")
    assert ".. 2 runs" in text and "Table 1: F1 (%), ODDS" in text
    assert "paper NAF-AL" in text


def test_unknown_table_is_refused():
    with pytest.raises(ValueError, match="table must be one of"):
        nafal.jobs(["4"])


@pytest.mark.real_data
def test_data_sets_without_tables_run_the_tables_that_read_them():
    """``--dataset cardio`` alone was refused: every table was taken as asked
    for, and tables 2 and 3 do not read cardio."""
    work = nafal.jobs(datasets=["cardio"], seeds=[0], quick=True)
    assert work and all(job.label.startswith("table 1") for job in work)
    with pytest.raises(ValueError, match="table 2 covers"):
        nafal.jobs(["2"], datasets=["cardio"], seeds=[0], quick=True)


def test_tables_pin_the_parameters_whose_defaults_changed():
    """The tables regenerate with the model they were made with."""
    for kind in ("tabular", "series"):
        params, *_ = nafal._setup(kind, 100, False, None)
        det = NAFALDetector(**params)
        assert det.extractor == "dense" and det.conv_segments == 1
        assert (det.flow_transforms, det.flow_hidden_features) == (4, 128)
        assert det.transform_dim == 8
    # an override still wins
    params, *_ = nafal._setup("series", 100, False, {"flow_transforms": 2})
    assert params["flow_transforms"] == 2
