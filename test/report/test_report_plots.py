"""speechsent.report.plots: baseline crossing hours, Fig. 2 data, PNG files."""

from __future__ import annotations

import pytest
from report_fixtures import build_exp, scores, write_system

from speechsent.report.collect import collect
from speechsent.report.plots import crossing_hours, fig2_data, plot_confusion, plot_fig2

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path, min_size=(200, 200)):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_size[1] and image.shape[1] >= min_size[0]
    assert image.std() > 0  # not blank


def test_crossing_hours_interpolates():
    # the paper's case: 86 h baseline at 62.74, curve crossing between 25 h and 35 h
    points = [(5.0, 57.63), (25.0, 61.74), (35.0, 63.74), (86.0, 64.55)]
    hours, first = crossing_hours(points, 62.74)
    assert hours == pytest.approx(30.0) and not first  # 25 + (62.74 - 61.74) * 10 / 2
    assert 100 * (1 - hours / 86.0) == pytest.approx(65.116, abs=1e-3)
    # unsorted input, first crossing from below wins (later dips ignored)
    assert crossing_hours([(20, 66), (10, 58), (30, 61)], 62.0) == (pytest.approx(15.0), False)
    assert crossing_hours([(5, 40), (10, 50)], 62.0) == (None, False)
    assert crossing_hours([(5, 70), (10, 71)], 62.0) == (5, True)
    assert crossing_hours([(5, 50), (10, 62.0)], 62.0) == (pytest.approx(10.0), False)  # reaching = equal
    assert crossing_hours([], 1.0) == (None, False)


def test_fig2_data(tmp_path):
    results = collect(build_exp(tmp_path / "exp"))
    (fig,) = fig2_data(results.groups, 86.0)
    assert (fig.input, fig.architecture, fig.eval_set, fig.metric) == (
        "encoder",
        "blstm",
        "swbd_holdout",
        "unweighted_f1",
    )
    assert (
        fig.baseline_system == "e2e_sup" and fig.baseline.mean == pytest.approx(62.0) and fig.baseline.n == 3
    )
    labels = [c.label for c in fig.curves]
    # S_asr, F_asr has one fine-tuning size only: not a curve
    assert labels == ["supervised only", "BERT-SST2: S, F"]
    sup = fig.curves[0]
    assert [(p.hours, p.stat.mean) for p in sup.points] == [(5, 48), (10, 52), (20, 57), (86, 62)]
    semi = fig.curves[1]
    assert [(p.hours, p.stat.mean) for p in semi.points] == [(5, 54), (10, 58), (20, 66), (86, 67)]
    (c_sf,) = fig.crossings
    assert c_sf.hours == pytest.approx(15.0) and c_sf.saving_percent == pytest.approx(100 * (1 - 15 / 86))
    # the first measured subset at or above the baseline (62): 20 h (66); 10 h (58) is below
    assert c_sf.first_hours == 20 and c_sf.first_saving_percent == pytest.approx(100 * (1 - 20 / 86))
    # unknown full hours: the full-data points drop out, the crossing stays (no saving)
    (fig_nohours,) = fig2_data(results.groups, None)
    assert [p.hours for p in fig_nohours.curves[1].points] == [5, 10, 20]
    assert (
        fig_nohours.crossings[0].hours == pytest.approx(15.0)
        and fig_nohours.crossings[0].saving_percent is None
    )
    path = tmp_path / "plots" / "fig2.png"
    plot_fig2(fig, path)
    _check_png(path, (600, 400))


def test_fig2_without_baseline_or_semi(tmp_path):
    exp = tmp_path / "exp"
    write_system(exp, "sup_5h", {"swbd_holdout": scores(40)}, train_hours=5)
    assert fig2_data(collect(exp).groups, 86.0) == []  # no semi-supervised system: no figure
    write_system(
        exp,
        "semi_5h",
        {"swbd_holdout": scores(45)},
        train_hours=5,
        pseudo_labeler="pl_x",
        pseudo_sets=["swbd_train"],
        pseudo_transcript="gt",
    )
    (fig,) = fig2_data(collect(exp).groups, 86.0)
    assert fig.baseline is None and fig.crossings == []
    plot_fig2(fig, tmp_path / "f.png")
    _check_png(tmp_path / "f.png")


def test_plot_confusion(tmp_path):
    path = tmp_path / "sub" / "c.png"
    plot_confusion(
        [[8, 1, 1], [2, 20, 3], [0, 0, 0]], ["Negative", "Neutral", "Positive"], "sys\nswbd_holdout", path
    )
    _check_png(path)
    assert [p.name for p in path.parent.iterdir()] == ["c.png"]  # no temp file left
    with pytest.raises(ValueError, match="2 labels"):
        plot_confusion([[1, 2, 3]] * 3, ["a", "b"], "t", tmp_path / "x.png")
