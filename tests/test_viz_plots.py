"""The loss plot, the finite-difference explorer, the training playground and the small chart
toolkit under them."""

from __future__ import annotations

import asyncio
import base64
import math
import re
import struct
import zlib

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.viz import LossPlot, explorer, playground
from minigrad.viz import losses as losses_module
from minigrad.viz.charts import Axes, downsample, png_data_uri


def points_of(svg: str, name: str) -> list[tuple[float, float]]:
    """The points of the polylines called ``name`` in an SVG."""
    found = []
    for match in re.finditer(
        rf'<polyline class="mg-line" data-name="{name}"[^>]* points="([^"]*)"', svg
    ):
        found += [tuple(map(float, p.split(","))) for p in match.group(1).split()]
    return found


# ---------------------------------------------------------------------- LossPlot


def test_update_records_every_value_and_draws_each_curve():
    plot = LossPlot("training", live=False)
    for step in range(50):
        plot.update(1.0 / (step + 1), accuracy=step / 50, val_loss=1.2 / (step + 1))
    assert plot.losses == [1.0 / (k + 1) for k in range(50)]
    assert plot.history["accuracy"][0] == [float(k) for k in range(50)]
    svg = plot.svg()
    assert 'class="mg-lossplot"' in svg and 'data-steps="50"' in svg
    for name in ("loss", "val_loss", "accuracy"):
        assert len(points_of(svg, name)) == 50
    assert "step 49 · loss 0.02 · accuracy 98.0% · val_loss 0.024" in svg
    assert svg.count('font-weight="bold" font-size="12">loss<') == 1  # loss and val_loss share
    assert plot.draws == 0  # nothing is shown before the end without a live front end


def test_redraws_are_throttled_to_the_interval(capsys):
    plot = LossPlot(live=True, every=3600.0)
    for step in range(1000):
        plot.update(1.0 / (step + 1))
    assert plot.draws == 1  # the first update draws; the next redraw is an hour away
    plot.close()
    assert plot.draws == 2  # the final picture, with every point
    eager = LossPlot(live=True, every=0.0)
    for step in range(10):
        eager.update(float(step))
    assert eager.draws == 10
    capsys.readouterr()  # outside a kernel each draw is printed as text


def test_outside_a_kernel_only_the_final_picture_is_shown(capsys):
    plot = LossPlot("quiet")
    assert not plot.live
    for step in range(100):
        plot(0.5**step)  # calling the plot is update: it can be a training callback
    assert plot.draws == 0
    plot.close()
    assert plot.draws == 1
    assert "LossPlot(quiet: step 99 · loss 1.578e-30)" in capsys.readouterr().out
    plot.close()  # nothing new: nothing drawn again
    assert plot.draws == 1


def test_the_context_manager_draws_the_final_picture(capsys):
    with LossPlot(live=False) as plot:
        for step in range(5):
            plot.update(step=10 * step, loss=1.0 - step / 10)
    assert plot.draws == 1 and plot.history["loss"][0] == [0.0, 10.0, 20.0, 30.0, 40.0]
    capsys.readouterr()


def test_live_redraws_follow_the_kernel_and_the_environment(monkeypatch):
    monkeypatch.setattr(losses_module, "_running_in_kernel", lambda: True)
    monkeypatch.delenv("MINIGRAD_VIZ_LIVE", raising=False)
    assert LossPlot().live
    monkeypatch.setenv("MINIGRAD_VIZ_LIVE", "0")
    assert not LossPlot().live
    assert LossPlot(live=True).live
    monkeypatch.setattr(losses_module, "_running_in_kernel", lambda: False)
    monkeypatch.delenv("MINIGRAD_VIZ_LIVE")
    assert not LossPlot().live


def test_values_may_be_numpy_scalars_and_tensors_and_bad_ones_are_named():
    plot = LossPlot(live=False)
    plot.update(np.float32(0.5), accuracy=np.array([0.75]))
    plot.update(Tensor(0.25), accuracy=0.8)
    assert plot.losses == [0.5, 0.25] and plot.history["accuracy"][1] == [0.75, 0.8]
    with pytest.raises(TypeError, match="loss must be a number, not 'abc'"):
        plot.update("abc")
    with pytest.raises(TypeError, match="needs a value to plot"):
        plot.update()
    with pytest.raises(ValueError, match="least time between redraws"):
        LossPlot(every=-1)


def test_long_runs_are_thinned_but_keep_their_spikes():
    plot = LossPlot(live=False)
    for step in range(100_000):
        plot.update(5.0 if step == 31_337 else 1.0 + 0.1 * math.sin(step / 100))
    drawn = points_of(plot.svg(max_points=600), "loss")
    assert len(drawn) <= 600
    ys = [y for _, y in drawn]
    top = min(ys)  # the spike is the highest point: the smallest pixel y
    assert ys.count(top) == 1


def test_nan_and_inf_break_the_curve_instead_of_the_plot():
    plot = LossPlot(live=False)
    for value in [1.0, 0.8, math.nan, 0.6, math.inf, 0.5, 0.4]:
        plot.update(value)
    svg = plot.svg()
    assert svg.count('data-name="loss"') == 3 and "nan" not in svg.split("mg-status")[0]
    log_plot = LossPlot(log=True, live=False)
    for value in [1.0, 0.1, 0.0, 0.01]:
        log_plot.update(value)
    assert len(points_of(log_plot.svg(), "loss")) == 3  # 0 has no logarithm


# ---------------------------------------------------------------------- explorer


def test_explorer_starts_on_sin_at_1_and_redraws_when_the_step_moves():
    view = explorer()
    assert view.exact == math.cos(1.0)
    assert 'data-h="1.000e-03"' in view.picture.value
    for name in ("tangent", "forward secant", "central secant", "forward error", "central error"):
        assert f'data-name="{name}"' in view.picture.value
    view.slider.value = 1e-6
    assert 'data-h="1.000e-06"' in view.picture.value
    assert "1.000e-06" in view.readout.value


def test_explorer_errors_follow_taylor_then_round_off():
    view = explorer(h=1e-3)
    forward = view._forward(1e-3) - view.exact
    central = view._central(1e-3) - view.exact
    assert forward == pytest.approx(-1e-3 / 2 * math.sin(1.0), rel=0.01)  # h/2 f''
    assert central == pytest.approx(-1e-6 / 6 * math.cos(1.0), rel=0.01)  # h^2/6 f'''
    assert "truncation error dominates both" in view.readout.value
    view.slider.value = 1e-7
    assert "round-off dominates the central difference" in view.readout.value
    view.slider.value = 1e-12
    assert "round-off dominates both" in view.readout.value
    errors = dict(zip(view.steps, view.forward_errors))
    assert errors[1e-12] > errors[1e-8]  # the V: smaller is worse down there


def test_explorer_takes_any_function_and_its_derivative():
    assert explorer(math.exp, 0.5, dfdx=math.exp).exact == math.exp(0.5)
    assert explorer(lambda x: x**3, 2.0, dfdx=12.0).exact == 12.0
    tanh = explorer(lambda v: v.tanh(), 0.3)  # a function of Values: backward() finds f'
    assert tanh.exact == pytest.approx(1 - math.tanh(0.3) ** 2, rel=1e-15)
    assert tanh.f(0.3) == math.tanh(0.3)
    with pytest.raises(TypeError, match="pass it as dfdx"):
        explorer(math.sin, 1.0)
    with pytest.raises(ValueError, match="x must be a finite number"):
        explorer(math.sin, "1", dfdx=math.cos)
    with pytest.raises(ValueError, match="between 1e-16 and 1"):
        explorer(h=2.0)


def test_explorer_leaves_a_static_picture_without_a_kernel():
    html = explorer()._repr_mimebundle_()["text/html"]
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert "mg-explorer-picture" in svg and "exact derivative" in html


# ---------------------------------------------------------------------- playground


def test_playground_trains_the_moons_to_a_low_loss():
    view = playground("moons", steps=300, seed=0)
    assert view.step_count == 0 and 'data-step="0"' in view.picture.value
    view.train()
    losses = view.losses.losses
    assert len(losses) == 300 and losses[-1] < losses[0] / 10
    assert view.accuracy() >= 0.95
    assert 'data-step="300"' in view.picture.value and 'data-steps="300"' in view.curves.value
    assert "ms per step (Tensor engine)" in view.status.value


@pytest.mark.parametrize(
    ("dataset", "classes", "points"), [("moons", 2, 200), ("circles", 2, 200), ("spirals", 3, 300)]
)
def test_each_dataset_draws_its_points_over_the_decision_regions(dataset, classes, points):
    view = playground(dataset, hidden=(8,))
    assert view.classes == classes and view.model(Tensor(view.X)).shape == (points, classes)
    svg = view.picture.value
    assert '<image href="data:image/png;base64,' in svg
    assert svg.count("<circle") == points


def test_controls_rebuild_the_network_and_bad_input_is_explained():
    view = playground(steps=20)
    view.train()
    view.hidden.value = "8"
    assert view.step_count == 0
    assert [p.shape for p in view.model.parameters()] == [(8, 2), (8,), (2, 8), (2,)]
    view.dataset.value = "spirals"
    assert view.classes == 3
    model = view.model
    view.hidden.value = "eight"
    assert "write their sizes separated by commas" in view.status.value
    assert view.model is model
    view.hidden.value = ""  # no hidden layer: a linear classifier
    assert [p.shape for p in view.model.parameters()] == [(3, 2), (3,)]
    with pytest.raises(ValueError, match="dataset must be one of moons, circles, spirals"):
        playground("xor")
    with pytest.raises(ValueError, match="lr must be a positive"):
        playground(lr=0)


def test_the_optimizer_keeps_its_state_until_its_controls_change():
    view = playground(steps=5)
    view.train()
    adam = view._opt
    view.train()
    assert view._opt is adam and view.step_count == 10
    view.lr.value = 0.1
    view.train()
    assert view._opt is not adam


def test_the_train_button_trains_in_slices_and_stop_interrupts():
    view = playground(steps=20)
    view.start()  # no event loop here: the steps run at once
    assert view.step_count == 20

    async def press_train_then_stop():
        view.steps.value = 3000
        view.start()
        await asyncio.sleep(0.2)
        assert view.running and 0 < view.step_count < 20 + 3000
        view.stop()
        await view._task

    asyncio.run(press_train_then_stop())
    assert not view.running and view.step_count < 20 + 3000
    assert not view.train_button.disabled


# ---------------------------------------------------------------------- charts


def test_png_data_uri_is_a_valid_png_of_the_pixels():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    data = base64.b64decode(png_data_uri(pixels).split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        at += 12 + length
    assert struct.unpack(">IIBBBBB", chunks[b"IHDR"]) == (5, 7, 8, 2, 0, 0, 0)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(7, 16)
    assert (rows[:, 0] == 0).all()
    np.testing.assert_array_equal(rows[:, 1:].reshape(7, 5, 3), pixels)
    with pytest.raises(ValueError, match=r"\(height, width, 3\)"):
        png_data_uri(np.zeros((4, 4)))


def test_downsample_keeps_each_buckets_extremes_in_order():
    xs = list(range(1000))
    ys = [math.sin(x / 30) for x in xs]
    ys[500] = 9.0
    thin_x, thin_y = downsample(xs, ys, buckets=50)
    assert len(thin_x) <= 100 and thin_x == sorted(thin_x)
    assert 9.0 in thin_y and min(thin_y) == min(ys)
    assert downsample([1, 2], [3, 4], buckets=50) == ([1, 2], [3, 4])


def test_axes_map_linear_and_log_scales():
    axes = Axes(0, 0, 100, 50, (1e-16, 1.0), (0.0, 10.0), x_log=True)
    assert axes.x(1e-8) == pytest.approx(50.0)
    assert axes.y(10.0) == pytest.approx(0.0) and axes.y(0.0) == pytest.approx(50.0)
    frame = axes.frame()
    assert ">1e-15<" in frame and ">1e-3<" in frame and ">1<" in frame  # every third power
    assert axes.line([1e-10, 0.0, 1e-5], [1.0, 2.0, 3.0], "#000").count("<polyline") == 2
