"""alad.plotting: what each figure draws, checked on the matplotlib objects."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alad.metrics import pa_k_auc  # noqa: E402
from alad.plotting import (  # noqa: E402
    _envelope,
    anomaly_segments,
    plot_budget_curve,
    plot_pa_k_curve,
    plot_scores,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(n=500):
    y = np.zeros(n, dtype=int)
    y[100:120] = 1
    y[300:301] = 1
    y[-5:] = 1  # a segment that runs to the end
    return y


def test_segments_are_half_open_runs_of_ones():
    assert anomaly_segments(_labels()).tolist() == [[100, 120], [300, 301], [495, 500]]
    assert anomaly_segments(np.zeros(4)).shape == (0, 2)


def test_envelope_keeps_every_spike_of_a_long_curve():
    values = np.zeros(1_000_003)
    values[123_457] = 5.0
    values[-1] = -2.0
    x, y = _envelope(values, max_points=2_000)
    assert x.size <= 2_004 and y.max() == 5.0 and y.min() == -2.0
    assert np.all(np.diff(x) >= 0)


def test_envelope_keeps_a_spike_beside_a_nan():
    values = np.zeros(100_000)
    values[60_000], values[60_001] = 50.0, np.nan
    values[:1_000] = np.nan  # whole buckets of NaN stay NaN: a gap
    x, y = _envelope(values, max_points=2_000)
    assert np.nanmax(y) == 50.0 and np.isnan(y[:2]).all()


def test_many_segments_are_shaded_by_one_artist():
    y = np.zeros(200_000, int)
    y[::10] = 1  # 20,000 segments
    fig = plot_scores(np.zeros(len(y)), y)
    (axis,) = fig.axes
    assert len(axis.collections) == 1 and not axis.patches
    assert len(axis.collections[0].get_paths()) == 20_000


def test_scores_panel_per_curve_with_segments_and_own_thresholds():
    y = _labels()
    rng = np.random.default_rng(0)
    scores = {"before": rng.random(500), "after": rng.random(500)}
    fig = plot_scores(scores, y, threshold={"after": 0.7}, title="t")
    before, after = fig.axes
    assert [a.get_ylabel() for a in fig.axes] == ["before", "after"]
    # the three segments shaded in each panel, as one collection
    for axis in fig.axes:
        (bands,) = axis.collections
        spans = [
            (p.vertices[:, 0].min(), p.vertices[:, 0].max()) for p in bands.get_paths()
        ]
        assert spans == [(100, 120), (300, 301), (495, 500)]
    dashed = [ln for ln in after.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == pytest.approx(0.7)
    assert not [ln for ln in before.lines if ln.get_linestyle() == "--"]


def test_scores_with_the_series_panel_and_a_single_threshold():
    X = np.random.default_rng(1).normal(size=(500, 3))
    fig = plot_scores(np.arange(500.0), _labels(), threshold=250.0, X=X)
    series, score = fig.axes
    assert len(series.lines) == 3 and series.get_ylabel() == "value"
    assert any(ln.get_linestyle() == "--" for ln in score.lines)


def test_pa_k_legend_gives_the_auc_of_alad_metrics():
    y = _labels()
    s = np.random.default_rng(2).random(500) + y
    fig = plot_pa_k_curve(y, {"model": s})
    (label,) = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert label == f"model (AUC {pa_k_auc(y, s):.3f})"
    ks = fig.axes[0].lines[0].get_xdata()
    assert ks[0] == 0 and ks[-1] == 100 and len(ks) == 101


def test_budget_curve_draws_a_band_where_a_std_is_given():
    history = [
        {"n_labelled": n, "f1": 0.1 * i, "f1_std": 0.01, "pa_k_auc": 0.2}
        for i, n in enumerate((0, 10, 20))
    ]
    fig = plot_budget_curve(history, metrics=("f1", "pa_k_auc"))
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["f1", "pa_k_auc"]
    assert ax.lines[0].get_xdata().tolist() == [0, 10, 20]
    assert len(ax.collections) == 1  # one band: only f1 has a std


def test_scores_of_another_shape_than_the_labels_are_refused():
    with pytest.raises(ValueError, match="scores must be 1-D"):
        plot_scores(np.zeros((500, 3)), _labels())
    with pytest.raises(ValueError, match="y_true has 500 labels for the 400 scores"):
        plot_scores({"s": np.zeros(400)}, _labels())


@pytest.mark.parametrize(
    ("y_true", "match"),
    [
        (np.r_[-np.ones(250), np.ones(250)], "y_true must be binary"),  # -1/1
        (np.full(500, 0.5), "y_true must be binary"),
        (np.full(500, np.nan), "y_true must be binary"),
        (np.zeros((500, 2)), "y_true must be 1-D"),
    ],
)
def test_labels_other_than_0_1_are_refused(y_true, match):
    """Cast to bool, -1/1 labels would shade the whole series."""
    with pytest.raises(ValueError, match=match):
        plot_scores(np.zeros(500), y_true)


def test_the_series_panel_must_match_the_scores():
    with pytest.raises(ValueError, match="X must be the series of the scores"):
        plot_scores(np.zeros(500), X=np.zeros((400, 2)))
    with pytest.raises(ValueError, match="labels must name each of X's 3 channels"):
        plot_scores(np.zeros(500), X=np.zeros((500, 3)), labels=["a"])
    with pytest.raises(ValueError, match="every curve of scores"):
        plot_scores({"a": np.zeros(500), "b": np.zeros(400)})
    with pytest.raises(ValueError, match="at least one curve"):
        plot_scores({})
    with pytest.raises(ValueError, match="max_points"):
        plot_scores(np.zeros(500), max_points=1)


def test_a_budget_curve_without_its_metrics_says_what_is_missing():
    history = [{"n_labelled": 0, "round": 0}, {"n_labelled": 10, "round": 1}]
    with pytest.raises(ValueError, match=r"lack the key\(s\) \['f1', 'f1_pa'"):
        plot_budget_curve(history)
    with pytest.raises(TypeError, match="sequence of dicts"):
        plot_budget_curve({"history": history})
    fig = plot_budget_curve([{"n_labelled": 0, "f1": 0.5}], metrics="f1")
    assert [ln.get_label() for ln in fig.axes[0].lines] == ["f1"]


def test_drawing_into_a_callers_axes_leaves_its_figure_layout_alone():
    fig, (left, right) = plt.subplots(1, 2, layout="constrained")
    engine = type(fig.get_layout_engine())
    scores = np.random.default_rng(0).random(500)
    plot_scores(scores, _labels(), ax=left)
    plot_pa_k_curve(_labels(), scores, ax=right)
    plot_budget_curve([{"n_labelled": 0, "f1": 0.2}], metrics="f1", ax=right)
    assert type(fig.get_layout_engine()) is engine


def test_a_threshold_may_be_a_numpy_scalar():
    for line in (np.float32(0.5), np.array(0.5), 1):
        fig = plot_scores(np.zeros(5), threshold=line)
        assert fig.axes[0].get_legend() is not None


def test_several_curves_are_refused_in_one_axes():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax holds a single score curve"):
        plot_scores({"before": np.zeros(5), "after": np.ones(5)}, ax=ax)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: plot_scores(np.zeros(5), threshold=np.ones(5)),
            TypeError,
            "threshold",
        ),
        (
            lambda: plot_scores(np.zeros(5), threshold={"a": "x"}),
            TypeError,
            "threshold",
        ),
        (lambda: plot_scores(["a", "b"]), ValueError, "scores must be numbers"),
        (
            lambda: plot_scores(np.zeros(3), X=[["a"]] * 3),
            ValueError,
            "X must be numbers",
        ),
        (
            lambda: plot_scores(np.zeros(5), ax="axes"),
            TypeError,
            "ax must be a matplotlib",
        ),
        (lambda: plot_pa_k_curve([0, 1], ["a", "b"]), ValueError, "scores must be"),
        (
            lambda: plot_budget_curve([{"n_labelled": 0, "f1": "high"}], metrics="f1"),
            ValueError,
            "records' 'f1' must be numbers",
        ),
    ],
)
def test_bad_plot_input_names_the_argument_and_leaves_no_figure(call, error, match):
    plt.close("all")
    with pytest.raises(error, match=match):
        call()
    assert plt.get_fignums() == []


def test_a_detector_given_as_scores_says_to_score_first():
    from alad import ActiveReconstructionDetector

    with pytest.raises(TypeError, match=r"decision_function\(X\)"):
        plot_scores(ActiveReconstructionDetector())


def test_saving_figures_closes_only_its_own():
    from alad.plotting import closing_new_figures

    mine = plt.figure()
    backend = matplotlib.get_backend()
    with closing_new_figures():
        plot_scores(np.zeros(10))
        plot_budget_curve([{"n_labelled": 0, "f1": 0.2}], metrics="f1")
    assert plt.get_fignums() == [mine.number]
    assert matplotlib.get_backend() == backend
