"""Small synthetic classification datasets, made on the spot: no downloads, no files.

Each function returns ``(X, y)``: ``X`` a float64 array of shape ``(n, 2)`` (``(n, dim)``
for blobs) and ``y`` an int64 array of class labels ``0 .. classes-1``.  The same ``seed``
gives the same arrays on every machine; the points come shuffled, with classes as equal in
size as ``n`` allows.  They are the classic toy problems for a first neural network: none is
separable by a straight line except blobs, so a linear model fails and a small MLP succeeds.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["make_moons", "make_circles", "make_spirals", "make_blobs"]


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 arches up, class 1 down and shifted right."""
    _check_n(n, classes=2)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    n0, n1 = _split(n, 2)
    t0 = np.linspace(0.0, math.pi, n0)
    t1 = np.linspace(0.0, math.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return _finish(rng, [upper, lower], noise)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A ring (class 0, radius 1) around a smaller ring (class 1, radius ``factor``)."""
    _check_n(n, classes=2)
    _check_noise(noise)
    if not (isinstance(factor, numbers.Real) and 0.0 < factor < 1.0):
        raise ValueError(f"factor is the inner ring's radius and must be in (0, 1), not {factor!r}")
    rng = np.random.default_rng(seed)
    n0, n1 = _split(n, 2)
    # endpoint=False: a full turn would put the first and last point on top of each other
    t0 = np.linspace(0.0, 2.0 * math.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2.0 * math.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    return _finish(rng, [outer, inner], noise)


def make_spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` spiral arms winding out from the centre, one class per arm.

    ``noise`` jitters each point's angle (in radians), which keeps the arms apart near the
    centre, where they are close, better than jittering positions would.
    """
    if not isinstance(classes, numbers.Integral) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, not {classes!r}")
    _check_n(n, classes=int(classes))
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    arms = []
    for k, m in enumerate(_split(n, int(classes))):
        radius = np.linspace(0.05, 1.0, m)
        angle = 2.0 * math.pi * (k / classes + 0.75 * radius) + noise * rng.standard_normal(m)
        arms.append(radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
    return _finish(rng, arms, noise=0.0)


def make_blobs(
    n: int = 100,
    centers: int | np.ndarray = 3,
    std: float = 1.0,
    dim: int = 2,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clouds of points, one class per centre.

    ``centers`` is a number of clusters (their centres drawn uniformly from the box
    [-10, 10]^dim) or an array of shape ``(classes, dim)`` with the centres themselves.
    """
    if isinstance(centers, numbers.Integral):
        if centers < 1:
            raise ValueError(f"centers must be at least 1, not {centers!r}")
        if not isinstance(dim, numbers.Integral) or dim < 1:
            raise ValueError(f"dim must be a positive integer, not {dim!r}")
        rng = np.random.default_rng(seed)
        centre_points = rng.uniform(-10.0, 10.0, size=(int(centers), int(dim)))
    else:
        centre_points = np.asarray(centers, dtype=np.float64)
        if centre_points.ndim != 2 or len(centre_points) == 0:
            raise ValueError(
                f"centers must be a count or an array of shape (classes, dim), "
                f"not an array of shape {centre_points.shape}"
            )
        rng = np.random.default_rng(seed)
    _check_n(n, classes=len(centre_points))
    if not (isinstance(std, numbers.Real) and std >= 0.0 and math.isfinite(std)):
        raise ValueError(f"std must be a finite number >= 0, not {std!r}")
    clusters = [
        np.repeat(centre[None, :], m, axis=0)
        for centre, m in zip(centre_points, _split(n, len(centre_points)))
    ]
    return _finish(rng, clusters, noise=std)


# ---------------------------------------------------------------------- helpers


def _split(n: int, classes: int) -> list[int]:
    """Class sizes as equal as possible: 10 into 3 gives [4, 3, 3]."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _finish(rng: np.random.Generator, groups: list[np.ndarray], noise: float):
    """Stack the groups (group k has label k), add Gaussian noise, and shuffle."""
    X = np.concatenate(groups).astype(np.float64)
    y = np.concatenate([np.full(len(g), k, dtype=np.int64) for k, g in enumerate(groups)])
    if noise > 0.0:
        X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return X[order], y[order]


def _check_n(n: object, classes: int) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < classes:
        raise ValueError(
            f"n is the number of points and must be an integer of at least {classes} "
            f"(one per class), not {n!r}"
        )


def _check_noise(noise: object) -> None:
    if not (isinstance(noise, numbers.Real) and noise >= 0.0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite number >= 0, not {noise!r}")
