"""The training playground: pick a dataset and a network, press train, watch it learn.

    from minigrad.viz import playground
    playground()                                   # moons, MLP(2, [16, 16, 2]), Adam
    playground("spirals", hidden=(32, 32), lr=0.02, steps=600)

Controls choose the dataset (two moons, two circles, three spirals), the hidden layers
("16, 16"; empty for no hidden layer, a linear classifier), the nonlinearity, the optimizer,
the learning rate and the number of steps per press of *train*.  While it trains, the
decision boundary (each point of the plane coloured by the class the network gives it, paler
where it is unsure) and the loss and accuracy curves update in place; *stop* interrupts,
*reset* starts again from fresh weights.  Each press of *train* continues from where the
network is.

The network is a ``minigrad.nn.MLP`` of Tensors trained on the whole dataset with softmax
cross-entropy (``minigrad.functional.cross_entropy``): the Tensor engine of lessons 06 and 07
takes well under a millisecond per step here, where the same network of Values takes about
70 ms.  In a live notebook the training runs in slices between which the kernel stays
responsive (so *stop* works) and the picture is redrawn; ``train()`` called from code runs
synchronously, which is what tests and lesson 07's cells use:

    p = playground("circles", steps=200)
    p.train()                 # 200 steps, then the picture shows the result
    p.losses.losses[-1]       # the last loss; p.accuracy() the accuracy now
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import ipywidgets as widgets
import numpy as np

from .charts import Axes, png_data_uri
from .losses import LossPlot
from .svg import escape, img_tag, svg_document

__all__ = ["DATASETS", "Playground", "playground"]

DATASETS = ("moons", "circles", "spirals")
CLASS_COLOURS = np.array([[31, 119, 180], [214, 39, 40], [44, 160, 44]], dtype=float)
GRID = 110  # the boundary is computed on a GRID x GRID lattice of points


def playground(
    dataset: str = "moons",
    hidden: tuple[int, ...] | list[int] = (16, 16),
    lr: float = 0.03,
    steps: int = 300,
    *,
    nonlin: str = "relu",
    optimizer: str = "adam",
    seed: int = 0,
) -> Playground:
    """A training playground, set up with these choices (the controls change them later)."""
    return Playground(dataset, hidden, lr, steps, nonlin=nonlin, optimizer=optimizer, seed=seed)


class Playground(widgets.VBox):
    """The widget ``playground()`` returns.  ``train(steps)`` trains synchronously;
    ``picture`` holds the decision boundary (SVG), ``curves`` the loss and accuracy plot,
    ``losses`` the ``LossPlot`` that records them, ``status`` a line of numbers."""

    def __init__(
        self,
        dataset: str,
        hidden: Any,
        lr: float,
        steps: int,
        *,
        nonlin: str = "relu",
        optimizer: str = "adam",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.add_class("mg-playground")
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {dataset!r}")
        if not (isinstance(lr, (int, float)) and 0 < lr <= 10):
            raise ValueError(f"lr must be a positive learning rate, not {lr!r}")
        if not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"steps must be a positive integer, not {steps!r}")
        if nonlin not in ("relu", "tanh", "sigmoid"):
            raise ValueError(f"nonlin must be 'relu', 'tanh' or 'sigmoid', not {nonlin!r}")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', not {optimizer!r}")
        self.seed = seed
        wide = widgets.Layout(width="300px")
        self.dataset = widgets.Dropdown(
            options=DATASETS, value=dataset, description="data", layout=wide
        )
        self.hidden = widgets.Text(
            value=", ".join(str(h) for h in _layer_sizes(hidden)),
            description="hidden",
            placeholder="16, 16",
            layout=wide,
            continuous_update=False,
        )
        self.nonlin = widgets.Dropdown(
            options=["relu", "tanh", "sigmoid"], value=nonlin, description="nonlin", layout=wide
        )
        self.optimizer = widgets.Dropdown(
            options=["adam", "sgd"], value=optimizer, description="optimizer", layout=wide
        )
        self.lr = widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-4,
            max=0.5,
            step=0.01,  # fine enough that a value like 0.03 stays itself
            description="lr",
            readout_format=".3g",
            layout=wide,
        )
        self.steps = widgets.IntSlider(
            value=steps, min=1, max=3000, step=1, description="steps", layout=wide
        )
        self.train_button = widgets.Button(description="train", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="stop", icon="stop")
        self.reset_button = widgets.Button(description="reset", icon="refresh")
        self.train_button.add_class("mg-train")
        self.picture = widgets.HTML()
        self.curves = widgets.HTML()
        self.status = widgets.HTML()
        self.train_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.reset_button.on_click(lambda _: self.reset())
        for control in (self.dataset, self.hidden, self.nonlin):
            control.observe(lambda _: self.reset(), names="value")
        controls = widgets.VBox(
            [
                self.dataset,
                self.hidden,
                self.nonlin,
                self.optimizer,
                self.lr,
                self.steps,
                widgets.HBox([self.train_button, self.stop_button, self.reset_button]),
            ]
        )
        self.children = [widgets.HBox([self.picture, controls]), self.curves, self.status]
        self.running = False
        self._stop = False
        self._task: Any = None
        self.reset()

    # ------------------------------------------------------------------ model and data

    def reset(self) -> None:
        """Fresh data, a fresh network and an empty loss curve, from the current controls."""
        from minigrad.datasets import make_circles, make_moons, make_spirals
        from minigrad.nn import MLP

        self._stop = True
        try:
            sizes = _layer_sizes(self.hidden.value)
        except ValueError as error:
            self.status.value = f"<span style='color:#d62728'>{escape(error)}</span>"
            return
        name = self.dataset.value
        if name == "moons":
            X, y = make_moons(n=200, noise=0.12, seed=self.seed)
        elif name == "circles":
            X, y = make_circles(n=200, noise=0.08, factor=0.5, seed=self.seed)
        else:
            X, y = make_spirals(n=300, classes=3, noise=0.2, seed=self.seed)
        self.X, self.y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
        self.classes = int(self.y.max()) + 1
        self.model = MLP(2, [*sizes, self.classes], nonlin=self.nonlin.value, seed=self.seed)
        self._optimizer_key: tuple[str, float] | None = None
        self.step_count = 0
        self.seconds = 0.0
        self.losses = LossPlot(show=False)
        # a square picture with the same scale on both axes, so circles look round
        centre = (self.X.min(axis=0) + self.X.max(axis=0)) / 2
        half = float(np.max(self.X.max(axis=0) - self.X.min(axis=0))) * 0.58
        self.bounds = (centre - half, centre + half)
        self._draw()

    def _optimizer(self) -> Any:
        """The optimizer for the current controls, kept across presses of train while they
        stay the same (Adam's running averages are part of the training state)."""
        from minigrad.optim import SGD, Adam

        key = (self.optimizer.value, float(self.lr.value))
        if key != self._optimizer_key:
            params = self.model.parameters()
            if key[0] == "adam":
                self._opt = Adam(params, lr=key[1])
            else:
                self._opt = SGD(params, lr=key[1], momentum=0.9)
            self._optimizer_key = key
        return self._opt

    def _train_step(self, optimizer: Any) -> None:
        from minigrad import Tensor
        from minigrad.functional import cross_entropy

        start = time.perf_counter()
        logits = self.model(Tensor(self.X))
        loss = cross_entropy(logits, self.y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.seconds += time.perf_counter() - start
        accuracy = float(np.mean(np.argmax(logits.data, axis=1) == self.y))
        self.losses.update(float(loss.data), accuracy=accuracy, step=self.step_count)
        self.step_count += 1

    # ------------------------------------------------------------------ training

    def train(self, steps: int | None = None, redraw_every: float = 0.2) -> None:
        """Train ``steps`` steps (the slider's number by default) now, redrawing the picture
        at most every ``redraw_every`` seconds and once at the end."""
        steps = self.steps.value if steps is None else steps
        if not (isinstance(steps, int) and steps >= 0):
            raise ValueError(f"steps must be a non-negative integer, not {steps!r}")
        optimizer = self._optimizer()
        self._stop = False
        next_draw = time.perf_counter() + redraw_every
        for _ in range(steps):
            if self._stop:
                break
            self._train_step(optimizer)
            if time.perf_counter() >= next_draw:
                self._draw()
                next_draw = time.perf_counter() + redraw_every
        self._draw()

    def start(self) -> None:
        """The train button: train in slices, redrawing between them and leaving the kernel
        free to handle other clicks (stop).  Without a running event loop (a script), the
        same steps run at once."""
        if self.running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.train()
            return
        self._task = loop.create_task(self._train_in_slices(self.steps.value))

    async def _train_in_slices(self, steps: int, frames: int = 60) -> None:
        """``steps`` steps spread over about ``frames`` redraws, so that the boundary moves
        visibly even when training is fast; a slice never takes more than 50 ms."""
        self.running, self._stop = True, False
        self.train_button.disabled = True
        try:
            optimizer = self._optimizer()
            per_frame = max(1, math.ceil(steps / frames))
            done = 0
            while done < steps and not self._stop:
                started = time.perf_counter()
                chunk = 0
                while chunk < per_frame and done < steps and time.perf_counter() - started < 0.05:
                    self._train_step(optimizer)
                    chunk += 1
                    done += 1
                self._draw()
                await asyncio.sleep(0.03)
        finally:
            self.running = False
            self.train_button.disabled = False
            self._draw()

    def stop(self) -> None:
        self._stop = True

    def accuracy(self) -> float:
        """The fraction of training points the network classifies correctly now."""
        from minigrad import Tensor, no_grad

        with no_grad():
            logits = self.model(Tensor(self.X)).data
        return float(np.mean(np.argmax(logits, axis=1) == self.y))

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        self.picture.value = self.boundary_svg()
        self.curves.value = self.losses.svg(max_points=400)
        per_step = self.seconds / self.step_count * 1e3 if self.step_count else 0.0
        self.status.value = (
            f"<span class='mg-status'>{escape(self.losses.status())}"
            + (f" · {per_step:.2f} ms per step (Tensor engine)" if self.step_count else "")
            + "</span>"
        )

    def boundary_svg(self) -> str:
        """The data and the network's decision regions, as SVG."""
        from minigrad import Tensor, no_grad

        (x0, y0), (x1, y1) = self.bounds
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y1, y0, GRID))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        with no_grad():
            logits = self.model(Tensor(grid)).data
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        colours = probs @ CLASS_COLOURS[: self.classes]
        confidence = (
            (probs.max(axis=1, keepdims=True) - 1 / self.classes)
            * self.classes
            / (self.classes - 1)
        )
        tint = 255 - (255 - colours) * (0.18 + 0.42 * confidence)  # pale where unsure
        image = png_data_uri(tint.reshape(GRID, GRID, 3))
        axes = Axes(
            40,
            28,
            340,
            340,
            (x0, x1),
            (y0, y1),
            title=f"{self.dataset.value}: the network's decision regions",
        )
        body = [
            '<rect width="100%" height="100%" fill="#ffffff"/>',
            axes.image(image, (x0, x1), (y0, y1)),
            axes.frame(),
        ]
        for c in range(self.classes):
            mine = self.y == c
            colour = "#{:02x}{:02x}{:02x}".format(*CLASS_COLOURS[c].astype(int))
            body.append(axes.points(self.X[mine, 0], self.X[mine, 1], colour, 3.2))
        return svg_document(400, 400, body, class_="mg-boundary", data_step=str(self.step_count))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = (
            f"<div>{img_tag(self.boundary_svg(), 'decision boundary')}"
            f"{img_tag(self.losses.svg(), 'loss and accuracy')}<div>{self.status.value}</div></div>"
        )
        return data


def _layer_sizes(hidden: Any) -> list[int]:
    """Hidden layer sizes from a tuple (16, 16) or a text "16, 16" ("" for none)."""
    if isinstance(hidden, str):
        parts = [p.strip() for p in hidden.replace(";", ",").split(",") if p.strip()]
        try:
            sizes = [int(p) for p in parts]
        except ValueError:
            raise ValueError(
                f"hidden layers: write their sizes separated by commas, like 16, 16 "
                f"(got {hidden!r})"
            ) from None
    else:
        sizes = list(hidden)
    if not all(isinstance(s, (int, np.integer)) and 1 <= s <= 512 for s in sizes):
        raise ValueError(f"hidden layer sizes must be whole numbers from 1 to 512, not {hidden!r}")
    if len(sizes) > 6:
        raise ValueError(f"at most 6 hidden layers here, not {len(sizes)}")
    return [int(s) for s in sizes]
