"""The finite-difference explorer of lesson 01: move the step size, watch the estimate.

    from minigrad.viz import explorer
    explorer()                                 # sin at x = 1, whose derivative is cos(1)
    explorer(math.exp, 0.5, dfdx=math.exp)     # any function, with its exact derivative
    explorer(lambda v: v.tanh(), 0.3)          # a function of Values: minigrad differentiates it

A slider sets the step h from 1e-16 to 1 on a logarithmic scale.  On the left, the function
near x with its tangent (the exact derivative), the forward secant through x and x + h, and
the central secant through x - h and x + h.  On the right, the error of both estimates
against the step size on log-log axes, with the current step marked: the V shape of
truncation error (right, shrinking with h) against round-off error (left, growing as h
shrinks).  The text below gives the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

from .charts import Axes
from .svg import escape, img_tag, svg_document

__all__ = ["Explorer", "explorer"]

FORWARD = "#ff7f0e"
CENTRAL = "#2ca02c"
TANGENT = "#1f77b4"
EPS = float(np.finfo(float).eps)


def explorer(
    f: Callable[[Any], Any] | None = None,
    x: float = 1.0,
    dfdx: Callable[[float], float] | float | None = None,
    *,
    h: float = 1e-3,
    name: str = "",
) -> Explorer:
    """The explorer for ``f`` at ``x`` (sin at 1 by default), starting at step ``h``.

    ``dfdx`` is the exact derivative, as a function or as the number f'(x); without it, ``f``
    must work on minigrad Values, and ``backward()`` provides the derivative.
    """
    return Explorer(f, x, dfdx, h=h, name=name)


class Explorer(widgets.VBox):
    """The widget ``explorer()`` returns: ``picture`` (the SVG), ``slider`` (the step h, a
    ``FloatLogSlider``) and ``readout`` (the numbers at that step)."""

    def __init__(
        self,
        f: Callable[[Any], Any] | None,
        x: float,
        dfdx: Callable[[float], float] | float | None,
        *,
        h: float = 1e-3,
        name: str = "",
    ) -> None:
        super().__init__()
        self.add_class("mg-explorer")
        if f is None:
            f, dfdx, name = math.sin, (math.cos if dfdx is None else dfdx), name or "sin x"
        if not callable(f):
            raise TypeError(f"explorer(f, x): f must be a function of one number, not {f!r}")
        if not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"explorer(f, x): x must be a finite number, not {x!r}")
        if not (isinstance(h, (int, float)) and 1e-16 <= h <= 1.0):
            raise ValueError(f"explorer: the step h must be between 1e-16 and 1, not {h!r}")
        self.x = float(x)
        self.f = _on_floats(f, self.x)
        self.exact = _exact_derivative(f, self.x, dfdx)
        self.name = name or getattr(f, "__name__", "f")
        self.steps = np.logspace(-16, 0, 161)
        self.forward_errors = [abs(self._forward(h) - self.exact) for h in self.steps]
        self.central_errors = [abs(self._central(h) - self.exact) for h in self.steps]
        self.picture = widgets.HTML()
        self.readout = widgets.HTML()
        self.slider = widgets.FloatLogSlider(
            value=h,
            base=10,
            min=-16,
            max=0,
            step=0.05,
            description="step h",
            readout_format=".1e",
            continuous_update=True,
            layout=widgets.Layout(width="520px"),
        )
        self.slider.observe(lambda change: self._show(), names="value")
        self.children = [self.picture, self.slider, self.readout]
        self._show()

    # ------------------------------------------------------------------ numbers

    def _forward(self, h: float) -> float:
        return (self.f(self.x + h) - self.f(self.x)) / h

    def _central(self, h: float) -> float:
        return (self.f(self.x + h) - self.f(self.x - h)) / (2 * h)

    @property
    def h(self) -> float:
        return float(self.slider.value)

    # ------------------------------------------------------------------ drawing

    def _show(self) -> None:
        self.picture.value = self.svg()
        self.readout.value = self._numbers()

    def svg(self) -> str:
        h, x = self.h, self.x
        forward, central = self._forward(h), self._central(h)
        body = ['<rect width="100%" height="100%" fill="#ffffff"/>']

        # Left: the function, the tangent and the two secants.
        reach = max(1.5, 1.25 * h)
        xs = np.linspace(x - reach, x + reach, 241)
        ys = np.array([self.f(t) for t in xs])
        finite = ys[np.isfinite(ys)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        pad = (high - low) * 0.25 or 1.0
        left = Axes(
            60,
            30,
            300,
            230,
            (xs[0], xs[-1]),
            (low - pad, high + pad),
            title=f"{self.name} near x = {x:g}",
            x_label="x",
        )
        fx = self.f(x)
        body.append(left.frame())
        body.append(left.line(xs, ys, "#222222", width=2.2, name="f"))
        body.append(left.line(xs, fx + self.exact * (xs - x), TANGENT, dash="6 4", name="tangent"))
        body.append(left.line(xs, fx + forward * (xs - x), FORWARD, name="forward secant"))
        body.append(
            left.line(xs, fx + central * (xs - x), CENTRAL, width=1.2, name="central secant")
        )
        body.append(left.points([x + h], [self.f(x + h)], FORWARD, 4.5))
        body.append(left.points([x - h], [self.f(x - h)], CENTRAL, 4.5))
        body.append(left.points([x], [fx], "#222222", 4))
        body.append(
            left.legend(
                [
                    ("tangent", TANGENT, "6 4"),
                    ("forward secant", FORWARD, ""),
                    ("central secant", CENTRAL, ""),
                ],
                corner="bottom right",
            )
        )

        # Right: error against step size, log-log, with the current step marked.
        positive = [e for e in self.forward_errors + self.central_errors if e > 0]
        bottom = max(min(positive, default=1e-17) / 3, 1e-18)
        top = max(positive, default=1.0) * 3
        right = Axes(
            460,
            30,
            320,
            230,
            (1e-16, 1.0),
            (bottom, top),
            x_log=True,
            y_log=True,
            title="error against step size",
            x_label="step h",
            y_label="|estimate - f'(x)|",
        )
        body.append(right.frame())
        body.append(right.line(self.steps, self.forward_errors, FORWARD, name="forward error"))
        body.append(right.line(self.steps, self.central_errors, CENTRAL, name="central error"))
        body.append(right.vertical(h, "#d62728", dash="4 3", width=1.3))
        body.append(right.points([h], [abs(forward - self.exact)], FORWARD, 5, stroke="#222222"))
        body.append(right.points([h], [abs(central - self.exact)], CENTRAL, 5, stroke="#222222"))
        body.append(
            right.legend(
                [("forward difference", FORWARD, ""), ("central difference", CENTRAL, "")],
                corner="top right",
            )
        )
        return svg_document(800, 300, body, class_="mg-explorer-picture", data_h=f"{h:.3e}")

    def _numbers(self) -> str:
        h = self.h
        forward, central = self._forward(h), self._central(h)
        rows = [
            ("forward (f(x+h) - f(x)) / h", forward, FORWARD),
            ("central (f(x+h) - f(x-h)) / 2h", central, CENTRAL),
        ]
        cells = "".join(
            f"<tr><td style='color:{colour}'>{escape(label)}</td><td><code>{value:.12g}</code></td>"
            f"<td>error <code>{abs(value - self.exact):.2e}</code></td></tr>"
            for label, value, colour in rows
        )
        # The best steps for functions of ordinary size (lesson 01, section 5): about
        # sqrt(eps) for the forward difference and eps ** (1/3) for the central one.
        if h > EPS ** (1 / 3):
            regime = (
                "truncation error dominates both: a smaller step shrinks it, like h for "
                "the forward difference and like h² for the central one"
            )
        elif h > EPS**0.5:
            regime = (
                "round-off dominates the central difference (its error grows as h "
                "shrinks), while the forward difference still gains from a smaller step"
            )
        else:
            regime = "round-off dominates both: a smaller step makes both estimates worse"
        return (
            f"<div class='mg-readout' style='line-height:1.5'>h = <code>{h:.3e}</code>; the exact "
            f"derivative is <code>{self.exact:.12g}</code>.<table>{cells}</table>"
            f"<i>{escape(regime)}</i>.</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = (
            f"<div>{img_tag(self.svg(), 'finite differences')}{self._numbers()}</div>"
        )
        return data


def _on_floats(f: Callable[[Any], Any], x: float) -> Callable[[float], float]:
    """``f`` as a function of floats: as it is, or through a minigrad Value."""
    try:
        return _checked(f, x)
    except (TypeError, AttributeError):
        from minigrad import Value

        def through_value(t: float) -> float:
            return float(f(Value(float(t))).data)

        return _checked(through_value, x)


def _checked(f: Callable[[Any], Any], x: float) -> Callable[[float], float]:
    value = f(x)
    float(value)  # raises TypeError for anything that is not a number

    def on_floats(t: float) -> float:
        return float(f(float(t)))

    return on_floats


def _exact_derivative(f: Callable[[Any], Any], x: float, dfdx: Any) -> float:
    if callable(dfdx):
        return float(dfdx(x))
    if dfdx is not None:
        return float(dfdx)
    from minigrad import Value

    v = Value(x)
    try:
        out = f(v)
        out.backward()
    except Exception:
        raise TypeError(
            "explorer needs the exact derivative to measure errors against: pass it as dfdx "
            "(e.g. explorer(math.exp, 0.5, dfdx=math.exp)), or write f with minigrad Value "
            "operations (e.g. lambda v: v.tanh()) so that backward() can find it"
        ) from None
    return float(v.grad)
