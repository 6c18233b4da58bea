"""Lesson 01's tests against students' answers: each common mistake gets a message that
names it, and each correct alternative passes everything."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow


FORWARD = "derivatives_forward_difference"
CENTRAL = "derivatives_central_difference"
ORDER = "derivatives_error_order"
BEST = "derivatives_best_step"
GRADIENT = "derivatives_numerical_gradient"

WRONG = [
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / (2 * h)\n",
        "not by 2*h",
        id="forward-over-2h",
    ),
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n    return (f(x) - f(x + h)) / h\n",
        "the sign is flipped",
        id="forward-sign",
    ),
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n    h = 1e-8\n    return (f(x + h) - f(x)) / h\n",
        "use the step h you are given",
        id="forward-own-step",
    ),
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) // h\n",
        "floor division",
        id="forward-floordiv",
    ),
    pytest.param(
        CENTRAL,
        "def central_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / h\n",
        "not by h",
        id="central-over-h",
    ),
    pytest.param(
        CENTRAL,
        "def central_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / 2 * h\n",
        "with parentheses",
        id="central-no-parentheses",
    ),
    pytest.param(
        ORDER,
        "def error_order(difference, f, dfdx, x, h1, h2):\n"
        "    e1 = difference(f, x, h1) - dfdx(x)\n"
        "    e2 = difference(f, x, h2) - dfdx(x)\n"
        "    return math.log(e1 / e2) / math.log(h1 / h2)\n",
        "take the absolute value of each error",
        id="order-no-abs",
    ),
    pytest.param(
        ORDER,
        "def error_order(difference, f, dfdx, x, h1, h2):\n"
        "    e1 = abs(difference(f, x, h1) - dfdx(x))\n"
        "    e2 = abs(difference(f, x, h2) - dfdx(x))\n"
        "    return math.log(e1 / e2) / math.log(h2 / h1)\n",
        "upside down",
        id="order-steps-upside-down",
    ),
    pytest.param(
        ORDER,
        "def error_order(difference, f, dfdx, x, h1, h2):\n"
        "    e1 = abs(difference(f, x, h1) - dfdx(x))\n"
        "    e2 = abs(difference(f, x, h2) - dfdx(x))\n"
        "    return abs(math.log(e2 / e1) / math.log(h1 / h2))\n",
        "the order is negative",
        id="order-abs-of-order",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    errors = [abs(difference(f, x, h) - dfdx(x)) for h in steps]\n"
        "    return int(np.argmin(errors))\n",
        "a position in the list",
        id="best-index",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    return min(steps, key=lambda h: difference(f, x, h) - dfdx(x))\n",
        "with the absolute value",
        id="best-no-abs",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    return min(abs(difference(f, x, h) - dfdx(x)) for h in steps)\n",
        "which is an error, not a step",
        id="best-returns-error",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    errors = [abs(difference(f, x, h) - dfdx(x)) for h in steps]\n"
        "    return sorted(steps)[int(np.argmin(errors))]\n",
        "Return the h with the smallest",
        id="best-sorted-mismatch",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    best, best_error = None, float('inf')\n"
        "    for h in sorted(steps, reverse=True):\n"
        "        error = abs(difference(f, x, h) - dfdx(x))\n"
        "        if error > best_error:\n"
        "            break  # past the bottom of the V\n"
        "        best, best_error = h, error\n"
        "    return best\n",
        "ragged",
        id="best-first-local-minimum",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    best, best_error = None, float('inf')\n"
        "    for h in sorted(steps):\n"
        "        error = abs(difference(f, x, h) - dfdx(x))\n"
        "        if error > best_error:\n"
        "            break\n"
        "        best, best_error = h, error\n"
        "    return best\n",
        "ragged",
        id="best-first-local-minimum-from-small-steps",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    xf = np.array(x, dtype=float)\n"
        "    out = []\n"
        "    for i in range(len(xf)):\n"
        "        p, m = xf.copy(), xf.copy()\n"
        "        p[i] += h\n"
        "        m[i] -= h\n"
        "        out.append((f(p) - f(m)) / (2 * h))\n"
        "    return out\n",
        "return a numpy array",
        id="gradient-returns-list",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    x = np.asarray(x, dtype=float)  # no copy if x is already float\n"
        "    g = np.zeros(x.shape)\n"
        "    for i in range(x.size):\n"
        "        x[i] += h\n"
        "        fp = f(x)\n"
        "        x[i] -= 2 * h\n"
        "        fm = f(x)\n"
        "        x[i] += h  # undo the nudge\n"
        "        g[i] = (fp - fm) / (2 * h)\n"
        "    return g\n",
        "x[i] + h - h is not always exactly x[i]",
        id="gradient-undo-nudge-in-place",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    x = np.asarray(x, dtype=float)\n"
        "    g = np.zeros(x.shape)\n"
        "    for i in range(x.size):\n"
        "        x[i] += h\n"
        "        fp = f(x)\n"
        "        x[i] -= h\n"
        "        x[i] -= h\n"
        "        fm = f(x)\n"
        "        x[i] += h\n"
        "        g[i] = (fp - fm) / (2 * h)\n"
        "    return g\n",
        "x[i] + h - h is not always exactly x[i]",
        id="gradient-undo-each-nudge-in-place",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    g = np.zeros_like(x)\n"
        "    xf = np.array(x, dtype=float)\n"
        "    for i in range(len(xf)):\n"
        "        p, m = xf.copy(), xf.copy()\n"
        "        p[i] += h\n"
        "        m[i] -= h\n"
        "        g[i] = (f(p) - f(m)) / (2 * h)\n"
        "    return g\n",
        "np.zeros_like(x) is an integer array",
        id="gradient-integer-result-array",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    g = np.zeros(len(x))\n"
        "    for i in range(len(x)):\n"
        "        p, m = x.copy(), x.copy()\n"
        "        p[i] += h\n"
        "        m[i] -= h\n"
        "        g[i] = (f(p) - f(m)) / (2 * h)\n"
        "    return g\n",
        "the nudged copy of x",
        id="gradient-integer-nudge",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    v = np.array(x, dtype=float)\n"
        "    g = np.zeros(len(v))\n"
        "    for i in range(len(v)):\n"
        "        v[i] += h\n"
        "        fp = f(v)\n"
        "        v[i] -= 2 * h\n"
        "        fm = f(v)\n"
        "        g[i] = (fp - fm) / (2 * h)\n"
        "    return g\n",
        "starting from the original x each time",
        id="gradient-nudges-pile-up",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    x = np.array(x, dtype=float)\n"
        "    return np.array([(f(x + h) - f(x - h)) / (2 * h) for _ in x])\n",
        "nudge one input at a time",
        id="gradient-all-at-once",
    ),
]

RIGHT = [
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n"
        "    xh = x + h\n"
        "    dx = xh - x  # the step actually taken\n"
        "    return (f(xh) - f(x)) / dx\n",
        id="forward-actual-step",
    ),
    pytest.param(
        FORWARD,
        "def forward_difference(f, x, h):\n    fx = f(x)\n    return (f(x + h) - fx) * (1.0 / h)\n",
        id="forward-multiply-by-inverse",
    ),
    pytest.param(
        CENTRAL,
        "def central_difference(f, x, h):\n"
        "    forward = (f(x + h) - f(x)) / h\n"
        "    backward = (f(x) - f(x - h)) / h\n"
        "    return (forward + backward) / 2\n",
        id="central-average-of-forward-and-backward",
    ),
    pytest.param(
        CENTRAL,
        "def central_difference(f, x, h):\n    return (f(x + h) - f(x - h)) / 2 / h\n",
        id="central-divide-twice",
    ),
    pytest.param(
        ORDER,
        "def error_order(difference, f, dfdx, x, h1, h2):\n"
        "    exact = dfdx(x)\n"
        "    e = [abs(difference(f, x, h) - exact) for h in (h1, h2)]\n"
        "    return float((np.log(e[0]) - np.log(e[1])) / (np.log(h1) - np.log(h2)))\n",
        id="order-difference-of-logs",
    ),
    pytest.param(
        ORDER,
        "def error_order(difference, f, dfdx, x, h1, h2):\n"
        "    exact = dfdx(x)\n"
        "    r1 = abs((difference(f, x, h1) - exact) / exact)\n"
        "    r2 = abs((difference(f, x, h2) - exact) / exact)\n"
        "    return math.log(r1 / r2) / math.log(h1 / h2)\n",
        id="order-relative-errors",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    exact = dfdx(x)\n"
        "    return min(steps, key=lambda h: abs(difference(f, x, h) - exact))\n",
        id="best-min-key",
    ),
    pytest.param(
        BEST,
        "def best_step(difference, f, dfdx, x, steps):\n"
        "    exact = dfdx(x)\n"
        "    best_h, best_e = None, math.inf\n"
        "    for h in steps:\n"
        "        e = abs(difference(f, x, h) - exact)\n"
        "        if e < best_e:\n"
        "            best_h, best_e = h, e\n"
        "    return best_h\n",
        id="best-loop",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    x = np.asarray(x, dtype=float)\n"
        "    steps = h * np.eye(x.size)\n"
        "    return np.array([(f(x + e) - f(x - e)) / (2 * h) for e in steps])\n",
        id="gradient-identity-matrix",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    v = np.array(x, dtype=float)\n"
        "    g = np.empty_like(v)\n"
        "    for i in range(v.size):\n"
        "        old = v[i]\n"
        "        v[i] = old + h\n"
        "        fp = f(v)\n"
        "        v[i] = old - h\n"
        "        fm = f(v)\n"
        "        v[i] = old\n"
        "        g[i] = (fp - fm) / (2 * h)\n"
        "    return g\n",
        id="gradient-save-and-restore-on-a-copy",
    ),
    pytest.param(
        GRADIENT,
        "def numerical_gradient(f, x, h=1e-6):\n"
        "    g = np.zeros_like(x, dtype=float)\n"
        "    for i in range(len(x)):\n"
        "        plus = np.array(x, dtype=float)\n"
        "        minus = np.array(x, dtype=float)\n"
        "        plus[i] += h\n"
        "        minus[i] -= h\n"
        "        g[i] = (f(plus) - f(minus)) / (2 * h)\n"
        "    return g\n",
        id="gradient-zeros-like-float",
    ),
]
