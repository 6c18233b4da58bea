"""The toy datasets: shapes, labels, balance, seeding, geometry, separability, and errors.

Each dataset is checked for what it claims to be: with no noise the points lie exactly on
the curves that define it, and a straight line cannot split the classes (except blobs).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.datasets import make_blobs, make_circles, make_moons, make_spirals

TOL = 1e-12  # the geometry is exact up to float rounding

# One entry per dataset: how to call it with a given n and seed, and how many classes
# that call makes.  Used by the tests that hold for every dataset alike.
DATASETS = {
    "moons": (lambda n, seed=0, **kw: make_moons(n, seed=seed, **kw), 2),
    "circles": (lambda n, seed=0, **kw: make_circles(n, seed=seed, **kw), 2),
    "spirals": (lambda n, seed=0, **kw: make_spirals(n, classes=3, seed=seed, **kw), 3),
    "blobs": (lambda n, seed=0, **kw: make_blobs(n, centers=4, seed=seed, **kw), 4),
}
ALL = pytest.mark.parametrize("name", list(DATASETS))

FAST = settings(max_examples=40, deadline=None)


@pytest.fixture
def restore_numpy_global_random_state():
    """Tests that seed numpy's global generator put it back as they found it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def expected_sizes(n, classes):
    """Class k gets n // classes points, plus one more for the first n % classes classes."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def check_arrays(X, y, n, classes, dim=2):
    """The invariants every dataset keeps, whatever n, seed and noise."""
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.dtype == np.float64, f"X should be float64, got {X.dtype}"
    assert y.dtype == np.int64, f"y should be int64, got {y.dtype}"
    assert X.shape == (n, dim), f"X should have shape {(n, dim)}, got {X.shape}"
    assert y.shape == (n,), f"y should have shape {(n,)}, got {y.shape}"
    assert np.all(np.isfinite(X)), "X has non-finite entries"
    assert set(np.unique(y).tolist()) == set(range(classes)), (
        f"labels should be exactly 0..{classes - 1}, got {sorted(set(y.tolist()))}"
    )
    sizes = np.bincount(y, minlength=classes).tolist()
    assert sizes == expected_sizes(n, classes), (
        f"class sizes for n={n} should be {expected_sizes(n, classes)}, got {sizes}"
    )


def linear_accuracy(X, y):
    """Training accuracy of a least-squares linear classifier (targets -1/+1, with a bias)."""
    A = np.column_stack([X, np.ones(len(X))])
    target = np.where(y == 1, 1.0, -1.0)
    w, *_ = np.linalg.lstsq(A, target, rcond=None)
    return float(np.mean((A @ w > 0) == (y == 1)))


def angles_from_start(points):
    """Angle of each point measured counter-clockwise from the first one, in [0, 2 pi)."""
    theta = np.arctan2(points[:, 1], points[:, 0])
    return np.mod(theta - theta[0], 2.0 * math.pi)


# ---------------------------------------------------------------------- shapes and labels


@ALL
def test_arrays_have_documented_shapes_dtypes_and_labels(name):
    make, classes = DATASETS[name]
    X, y = make(100)
    check_arrays(X, y, 100, classes)


def test_blobs_points_have_dim_coordinates():
    X, y = make_blobs(30, centers=3, dim=5, seed=1)
    check_arrays(X, y, 30, 3, dim=5)


def test_blobs_dim_comes_from_explicit_centers():
    centers = np.arange(12.0).reshape(3, 4)
    X, y = make_blobs(9, centers=centers, std=0.1)
    check_arrays(X, y, 9, 3, dim=4)


def test_odd_n_moons_splits_51_50():
    _, y = make_moons(101)
    assert np.bincount(y).tolist() == [51, 50]


def test_odd_n_circles_splits_51_50():
    _, y = make_circles(101)
    assert np.bincount(y).tolist() == [51, 50]


def test_spirals_ten_points_in_three_classes_split_4_3_3():
    _, y = make_spirals(10, classes=3)
    assert np.bincount(y).tolist() == [4, 3, 3]


def test_blobs_seven_points_in_three_clusters_split_3_2_2():
    _, y = make_blobs(7, centers=3)
    assert np.bincount(y).tolist() == [3, 2, 2]


@pytest.mark.parametrize(
    ("make", "classes"),
    [
        (lambda n: make_moons(n), 2),
        (lambda n: make_circles(n), 2),
        (lambda n: make_spirals(n, classes=5), 5),
        (lambda n: make_blobs(n, centers=6), 6),
    ],
    ids=["moons", "circles", "spirals", "blobs"],
)
def test_n_equal_to_the_number_of_classes_gives_one_point_per_class(make, classes):
    X, y = make(classes)
    check_arrays(X, y, classes, classes)
    assert sorted(y.tolist()) == list(range(classes))


@ALL
def test_numpy_integer_n_is_accepted(name):
    make, classes = DATASETS[name]
    X, y = make(np.int64(12))
    check_arrays(X, y, 12, classes)


@ALL
def test_points_come_shuffled_not_grouped_by_class(name):
    make, _ = DATASETS[name]
    _, y = make(100)
    assert not np.all(np.diff(y) >= 0), "labels come out sorted: the points are not shuffled"


# ---------------------------------------------------------------------- seeding


@ALL
def test_same_seed_gives_identical_arrays(name):
    make, _ = DATASETS[name]
    X1, y1 = make(100, seed=7)
    X2, y2 = make(100, seed=7)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2), "same seed, different data"


@ALL
def test_different_seeds_give_different_arrays(name):
    make, _ = DATASETS[name]
    X1, _ = make(100, seed=1)
    X2, _ = make(100, seed=2)
    assert not np.array_equal(X1, X2), "seeds 1 and 2 gave the same points"


@ALL
@pytest.mark.usefixtures("restore_numpy_global_random_state")
def test_global_numpy_random_state_is_neither_used_nor_changed(name):
    make, _ = DATASETS[name]
    np.random.seed(1234)
    before = np.random.get_state()
    make(100, seed=3)
    make(100, seed=None)
    after = np.random.get_state()
    assert before[0] == after[0]
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:], (
        "the global numpy random state changed"
    )
    # ...and the global state does not leak into the data either
    np.random.seed(99)
    X1, _ = make(100, seed=3)
    np.random.seed(100)
    X2, _ = make(100, seed=3)
    assert np.array_equal(X1, X2), "the data depends on the global numpy random state"


@ALL
def test_seed_none_gives_fresh_valid_data_each_call(name):
    make, classes = DATASETS[name]
    X1, y1 = make(100, seed=None)
    X2, _ = make(100, seed=None)
    check_arrays(X1, y1, 100, classes)
    assert not np.array_equal(X1, X2), "seed=None gave the same points twice"


# ---------------------------------------------------------------------- geometry


def test_moons_lie_on_their_half_circles():
    X, y = make_moons(100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=TOL, rtol=0)
    assert np.all(upper[:, 1] >= -TOL), "class 0 should be the upper half circle"
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=TOL, rtol=0)
    assert np.all(lower[:, 1] <= 0.5 + TOL), "class 1 should be the lower half circle"


def test_moons_span_whole_half_circles():
    X, y = make_moons(100, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert upper[:, 0].min() == pytest.approx(-1.0) and upper[:, 0].max() == pytest.approx(1.0)
    assert upper[:, 1].max() == pytest.approx(1.0, abs=1e-3)
    assert lower[:, 0].min() == pytest.approx(0.0) and lower[:, 0].max() == pytest.approx(2.0)
    assert lower[:, 1].min() == pytest.approx(-0.5, abs=1e-3)


def test_circles_lie_on_two_rings():
    X, y = make_circles(100, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0, atol=TOL, rtol=0), "class 0 is not at radius 1"
    assert np.allclose(radius[y == 1], 0.3, atol=TOL, rtol=0), "class 1 is not at radius factor"


def test_circles_have_no_duplicate_points():
    X, _ = make_circles(100, noise=0.0)
    assert len(np.unique(X, axis=0)) == 100, "a ring repeats a point (a full turn's endpoint?)"


def test_circles_go_all_the_way_round():
    X, y = make_circles(100, noise=0.0)
    for k in (0, 1):
        theta = np.sort(np.arctan2(X[y == k, 1], X[y == k, 0]))
        gaps = np.diff(np.concatenate([theta, [theta[0] + 2 * math.pi]]))
        assert gaps.max() < 2 * math.pi / 50 + TOL, f"ring {k} has a gap of {gaps.max():.3f}"


def test_spiral_radii_run_from_005_to_1():
    X, y = make_spirals(300, classes=3, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    for k in range(3):
        r = radius[y == k]
        assert r.min() == pytest.approx(0.05) and r.max() == pytest.approx(1.0)


def test_each_spiral_arm_winds_outward():
    X, y = make_spirals(300, classes=3, noise=0.0)
    for k in range(3):
        arm = X[y == k]
        arm = arm[np.argsort(np.hypot(arm[:, 0], arm[:, 1]))]
        turned = angles_from_start(arm)
        assert np.all(np.diff(turned) > 0), f"arm {k}'s angle does not increase with radius"
        assert turned[-1] > math.pi, f"arm {k} turns only {turned[-1]:.2f} rad: not a spiral"


def test_spiral_arms_are_rotated_copies_evenly_spaced():
    classes = 4
    X, y = make_spirals(200, classes=classes, noise=0.0)
    arms = []
    for k in range(classes):
        arm = X[y == k]
        arms.append(arm[np.argsort(np.hypot(arm[:, 0], arm[:, 1]))])
    for k in range(1, classes):
        a = 2 * math.pi * k / classes
        rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        assert np.allclose(arms[0] @ rotation.T, arms[k], atol=1e-9), (
            f"arm {k} is not arm 0 turned by 2 pi * {k}/{classes}"
        )


def test_spiral_noise_moves_points_along_their_circle_only():
    X, y = make_spirals(300, classes=3, noise=0.5, seed=4)
    clean, y_clean = make_spirals(300, classes=3, noise=0.0, seed=4)
    for k in range(3):
        radius = np.sort(np.hypot(*X[y == k].T))
        clean_radius = np.sort(np.hypot(*clean[y_clean == k].T))
        assert np.allclose(radius, clean_radius, atol=TOL, rtol=0), (
            f"angle noise changed the radii of arm {k}"
        )
    assert not np.allclose(np.sort(X, axis=0), np.sort(clean, axis=0)), "noise did nothing"


def test_blobs_without_noise_sit_exactly_on_their_centers():
    centers = np.array([[0.0, 0.0], [5.0, -2.0], [-3.5, 7.25]])
    X, y = make_blobs(31, centers=centers, std=0.0)
    assert np.array_equal(X, centers[y]), "with std=0 every point should be its centre"


def test_blobs_accept_centers_as_nested_lists():
    X, y = make_blobs(6, centers=[[1, 2], [3, 4]], std=0.0)
    assert X.dtype == np.float64
    assert np.array_equal(X, np.array([[1.0, 2.0], [3.0, 4.0]])[y])


def test_random_blob_centers_lie_in_the_box():
    X, y = make_blobs(200, centers=5, std=0.0, dim=3, seed=2)
    for k in range(5):
        cluster = X[y == k]
        assert np.all(cluster == cluster[0]), f"cluster {k} is not a single point with std=0"
    assert np.all(np.abs(X) <= 10.0), "random centres should be drawn from [-10, 10]^dim"
    assert len(np.unique(X, axis=0)) == 5, "two random centres coincide"


def test_noisy_blob_means_and_spread_match_centers_and_std():
    centers = np.array([[-4.0, 1.0], [3.0, 3.0], [0.0, -5.0]])
    X, y = make_blobs(6000, centers=centers, std=0.7, seed=5)
    for k, centre in enumerate(centers):
        cluster = X[y == k]
        mean_error = np.abs(cluster.mean(axis=0) - centre).max()
        assert mean_error < 0.05, f"cluster {k}'s mean is {mean_error:.3f} from its centre"
        assert np.allclose(cluster.std(axis=0), 0.7, atol=0.05), (
            f"cluster {k}'s spread is {cluster.std(axis=0)}, not 0.7"
        )


def test_moons_noise_is_gaussian_jitter_of_the_given_size():
    X, y = make_moons(4000, noise=0.1, seed=3)
    centre = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    off_curve = np.hypot(*(X - centre).T) - 1.0  # signed distance from its half circle
    assert abs(off_curve.mean()) < 0.02, f"noise is biased: mean offset {off_curve.mean():.3f}"
    assert off_curve.std() == pytest.approx(0.1, rel=0.1), (
        f"noise=0.1 moved points {off_curve.std():.3f} off their curve on average"
    )


def test_circles_noise_is_gaussian_jitter_of_the_given_size():
    X, y = make_circles(4000, noise=0.05, factor=0.5, seed=3)
    off_ring = np.hypot(*X.T) - np.where(y == 0, 1.0, 0.5)
    assert abs(off_ring.mean()) < 0.01, f"noise is biased: mean offset {off_ring.mean():.3f}"
    assert off_ring.std() == pytest.approx(0.05, rel=0.1), (
        f"noise=0.05 moved points {off_ring.std():.3f} off their ring on average"
    )


# ---------------------------------------------------------------------- separability


def test_moons_are_not_linearly_separable():
    X, y = make_moons(200, noise=0.0)
    acc = linear_accuracy(X, y)
    assert acc < 0.92, f"a linear classifier gets {acc:.0%} on moons: they should interleave"


def test_circles_defeat_a_linear_classifier():
    X, y = make_circles(200, noise=0.0)
    acc = linear_accuracy(X, y)
    assert acc < 0.65, f"a linear classifier gets {acc:.0%} on circles: should be near chance"


def test_two_spirals_are_not_linearly_separable():
    X, y = make_spirals(300, classes=2, noise=0.0)
    acc = linear_accuracy(X, y)
    assert acc < 0.8, f"a linear classifier gets {acc:.0%} on two spirals"


def test_well_separated_blobs_are_linearly_separable():
    X, y = make_blobs(200, centers=np.array([[-3.0, 0.0], [3.0, 0.0]]), std=0.5, seed=0)
    acc = linear_accuracy(X, y)
    assert acc == 1.0, f"a linear classifier gets only {acc:.0%} on two far-apart blobs"


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_moons(1),
        lambda: make_moons(0),
        lambda: make_moons(-4),
        lambda: make_circles(1),
        lambda: make_spirals(2, classes=3),
        lambda: make_blobs(2, centers=3),
        lambda: make_blobs(1, centers=np.zeros((2, 2))),
    ],
    ids=["moons-1", "moons-0", "moons-neg", "circles-1", "spirals-2of3", "blobs-2of3", "blobs-arr"],
)
def test_fewer_points_than_classes_is_an_error_naming_n(call):
    with pytest.raises(ValueError, match=r"\bn\b"):
        call()


@pytest.mark.parametrize("n", [2.5, 10.0, True, "10", None])
@ALL
def test_non_integer_n_is_an_error_naming_n(name, n):
    make, _ = DATASETS[name]
    with pytest.raises(ValueError, match=r"\bn\b"):
        make(n)


@pytest.mark.parametrize("noise", [-0.1, math.nan, math.inf, -math.inf, "0.1"])
@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
def test_bad_noise_is_an_error_naming_noise(name, noise):
    make, _ = DATASETS[name]
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=noise)


@pytest.mark.parametrize("factor", [0.0, 1.0, -0.5, 1.5, math.nan, "0.5"])
def test_circles_factor_outside_0_1_is_an_error_naming_factor(factor):
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=factor)


@pytest.mark.parametrize("classes", [1, 0, -2, 2.5, "3"])
def test_spirals_need_at_least_two_integer_classes(classes):
    with pytest.raises(ValueError, match="classes"):
        make_spirals(10, classes=classes)


@pytest.mark.parametrize("centers", [0, -1])
def test_blobs_need_at_least_one_center(centers):
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=centers)


@pytest.mark.parametrize(
    "centers",
    [np.zeros(3), np.zeros((2, 2, 2)), np.zeros((0, 2)), 2.5],
    ids=["1d", "3d", "empty", "float"],
)
def test_blobs_centers_array_of_wrong_shape_is_an_error_naming_centers(centers):
    with pytest.raises(ValueError, match="centers"):
        make_blobs(10, centers=centers)


@pytest.mark.parametrize("std", [-1.0, math.nan, math.inf])
def test_blobs_bad_std_is_an_error_naming_std(std):
    with pytest.raises(ValueError, match="std"):
        make_blobs(10, centers=2, std=std)


@pytest.mark.parametrize("dim", [0, -1, 2.0])
def test_blobs_bad_dim_is_an_error_naming_dim(dim):
    with pytest.raises(ValueError, match="dim"):
        make_blobs(10, centers=2, dim=dim)


# ---------------------------------------------------------------------- properties

seeds = st.integers(min_value=0, max_value=2**32 - 1)
noises = st.floats(min_value=0.0, max_value=1.0)


@FAST
@given(n=st.integers(2, 300), seed=seeds, noise=noises)
def test_moons_invariants_for_any_n_seed_and_noise(n, seed, noise):
    X, y = make_moons(n, noise=noise, seed=seed)
    check_arrays(X, y, n, 2)
    X2, y2 = make_moons(n, noise=noise, seed=seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


@FAST
@given(n=st.integers(2, 300), seed=seeds)
def test_clean_moons_are_on_their_half_circles_for_any_n(n, seed):
    X, y = make_moons(n, noise=0.0, seed=seed)
    check_arrays(X, y, n, 2)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(*upper.T), 1.0, atol=TOL, rtol=0)
    assert np.all(upper[:, 1] >= -TOL)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=TOL, rtol=0)
    assert np.all(lower[:, 1] <= 0.5 + TOL)


@FAST
@given(
    n=st.integers(2, 300),
    seed=seeds,
    noise=noises,
    factor=st.floats(min_value=0.01, max_value=0.99),
)
def test_circles_invariants_for_any_n_seed_noise_and_factor(n, seed, noise, factor):
    X, y = make_circles(n, noise=noise, factor=factor, seed=seed)
    check_arrays(X, y, n, 2)
    X2, _ = make_circles(n, noise=noise, factor=factor, seed=seed)
    assert np.array_equal(X, X2)
    clean, yc = make_circles(n, noise=0.0, factor=factor, seed=seed)
    radius = np.hypot(*clean.T)
    assert np.allclose(radius[yc == 0], 1.0, atol=TOL, rtol=0)
    assert np.allclose(radius[yc == 1], factor, atol=TOL, rtol=0)


@FAST
@given(
    classes=st.integers(2, 6),
    extra=st.integers(0, 200),
    seed=seeds,
    noise=noises,
)
def test_spirals_invariants_for_any_n_classes_seed_and_noise(classes, extra, seed, noise):
    n = classes + extra
    X, y = make_spirals(n, classes=classes, noise=noise, seed=seed)
    check_arrays(X, y, n, classes)
    radius = np.hypot(*X.T)
    assert np.all((radius >= 0.05 - TOL) & (radius <= 1.0 + TOL)), "a radius left [0.05, 1]"
    X2, _ = make_spirals(n, classes=classes, noise=noise, seed=seed)
    assert np.array_equal(X, X2)


@FAST
@given(classes=st.integers(2, 6), extra=st.integers(0, 200), seed=seeds)
def test_clean_spiral_arms_wind_outward_for_any_n(classes, extra, seed):
    X, y = make_spirals(classes + extra, classes=classes, noise=0.0, seed=seed)
    for k in range(classes):
        arm = X[y == k]
        radius = np.hypot(*arm.T)
        order = np.argsort(radius)
        assert np.all(np.diff(radius[order]) > 0), f"arm {k} repeats a radius"
        assert np.all(np.diff(angles_from_start(arm[order])) > 0), (
            f"arm {k}'s angle does not increase with radius"
        )


@FAST
@given(
    n_clusters=st.integers(1, 5),
    extra=st.integers(0, 200),
    dim=st.integers(1, 4),
    std=st.floats(min_value=0.0, max_value=3.0),
    seed=seeds,
)
def test_blobs_invariants_for_any_n_clusters_dim_std_and_seed(n_clusters, extra, dim, std, seed):
    n = n_clusters + extra
    X, y = make_blobs(n, centers=n_clusters, std=std, dim=dim, seed=seed)
    check_arrays(X, y, n, n_clusters, dim=dim)
    X2, _ = make_blobs(n, centers=n_clusters, std=std, dim=dim, seed=seed)
    assert np.array_equal(X, X2)


@FAST
@given(n=st.integers(3, 200), seed=seeds)
def test_blobs_with_explicit_centers_and_no_noise_for_any_n(n, seed):
    centers = np.array([[1.0, -1.0], [0.5, 2.0], [-3.0, 0.25]])
    X, y = make_blobs(n, centers=centers, std=0.0, seed=seed)
    check_arrays(X, y, n, 3)
    assert np.array_equal(X, centers[y])
