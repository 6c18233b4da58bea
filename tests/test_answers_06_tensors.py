"""Lesson 06's tests against students' common mistakes: each wrong answer is caught by the
visible tests with a message that names the mistake, each correct alternative passes."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow

TANH = """
def tanh_backward(g, out, a):
    return (g * (1 - out**2),)
"""
RELU = """
def relu_backward(g, out, a):
    return (g * (a > 0),)
"""
MUL = """
def mul_backward(g, out, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)
"""
DIV = """
def div_backward(g, out, a, b):
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / b**2, b.shape)
"""
SUM = """
def sum_backward(g, out, a, axis=None, keepdims=False):
    axes = reduced_axes(axis, a.ndim)
    if not keepdims:
        g = np.expand_dims(g, axes)
    return (np.broadcast_to(g, a.shape),)
"""
MEAN = """
def mean_backward(g, out, a, axis=None, keepdims=False):
    count = 1
    for i in reduced_axes(axis, a.ndim):
        count *= a.shape[i]
    (grad,) = sum_backward(g, out, a, axis, keepdims)
    return (grad / count,)
"""

WRONG = [
    # tensors_elementwise
    pytest.param(
        "tensors_elementwise",
        TANH
        + """
def relu_backward(g, out, a):
    g[a <= 0] = 0.0
    return (g,)
""",
        "changed the incoming gradient g in place",
        id="relu-edits-g-in-place",
    ),
    pytest.param(
        "tensors_elementwise",
        TANH
        + """
def relu_backward(g, out, a):
    return (g * (a >= 0),)
""",
        "a > 0, not a >= 0",
        id="relu-ge-zero",
    ),
    pytest.param(
        "tensors_elementwise",
        """
def tanh_backward(g, out, a):
    return g * (1 - out**2)
"""
        + RELU,
        "with the comma",
        id="tanh-no-tuple",
    ),
    pytest.param(
        "tensors_elementwise",
        """
def tanh_backward(g, out, a):
    return (g * (1 - a**2),)
"""
        + RELU,
        "1 - tanh(a)**2 = 1 - out**2",
        id="tanh-from-input",
    ),
    # tensors_mul_div
    pytest.param(
        "tensors_mul_div",
        MUL
        + """
def div_backward(g, out, a, b):
    return g / b, unbroadcast(-g * a / b**2, b.shape)
""",
        "unbroadcast(g / b, a.shape)",
        id="div-grad-a-not-unbroadcast",
    ),
    pytest.param(
        "tensors_mul_div",
        """
def mul_backward(g, out, a, b):
    return unbroadcast(g * b, a.shape), g * a
"""
        + DIV,
        "its gradient must be summed back",
        id="mul-grad-b-not-unbroadcast",
    ),
    pytest.param(
        "tensors_mul_div",
        MUL
        + """
def div_backward(g, out, a, b):
    return unbroadcast(g / b, a.shape), unbroadcast(g * a / b**2, b.shape)
""",
        "wrong sign",
        id="div-grad-b-sign",
    ),
    # tensors_sum_mean
    pytest.param(
        "tensors_sum_mean",
        SUM
        + """
def mean_backward(g, out, a, axis=None, keepdims=False):
    count = a.size if axis is None else a.shape[axis]
    (grad,) = sum_backward(g, out, a, axis, keepdims)
    return (grad / count,)
""",
        "a tuple of axes",
        id="mean-count-ignores-tuple-axis",
    ),
    pytest.param(
        "tensors_sum_mean",
        SUM
        + """
def mean_backward(g, out, a, axis=None, keepdims=False):
    (grad,) = sum_backward(g, out, a, axis, keepdims)
    return (grad / a.size,)
""",
        "divided by a.size",
        id="mean-divides-by-size",
    ),
    pytest.param(
        "tensors_sum_mean",
        """
def sum_backward(g, out, a, axis=None, keepdims=False):
    return (np.broadcast_to(g, a.shape),)
"""
        + MEAN,
        "put them back as size 1",
        id="sum-no-expand-dims",
    ),
]

RIGHT = [
    pytest.param(
        "tensors_elementwise",
        """
def tanh_backward(g, out, a):
    return (g / np.cosh(a) ** 2,)

def relu_backward(g, out, a):
    return (np.where(out > 0, g, 0.0),)
""",
        id="elementwise-cosh-where",
    ),
    pytest.param(
        "tensors_elementwise",
        TANH
        + """
def relu_backward(g, out, a):
    grad = g.copy()
    grad[a <= 0] = 0.0
    return (grad,)
""",
        id="relu-in-place-on-a-copy",
    ),
    pytest.param(
        "tensors_mul_div",
        """
def mul_backward(g, out, a, b):
    return unbroadcast(np.multiply(g, b), np.shape(a)), unbroadcast(np.multiply(a, g), np.shape(b))

def div_backward(g, out, a, b):
    return unbroadcast(g / b, a.shape), unbroadcast(-g * out / b, b.shape)
""",
        id="mul-div-from-out",
    ),
    pytest.param(
        "tensors_sum_mean",
        SUM
        + """
def mean_backward(g, out, a, axis=None, keepdims=False):
    count = a.size / np.size(out)
    (grad,) = sum_backward(g, out, a, axis, keepdims)
    return (grad / count,)
""",
        id="mean-count-as-size-ratio",
    ),
    pytest.param(
        "tensors_sum_mean",
        SUM
        + """
def mean_backward(g, out, a, axis=None, keepdims=False):
    axes = reduced_axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    return (sum_backward(g, out, a, axis, keepdims)[0] / count,)
""",
        id="mean-count-prod",
    ),
]
