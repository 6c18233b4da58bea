"""gradcheck itself: it passes correct gradients, and catches wrong ones with a message that
points at the input and the likely mistake."""

import math

import pytest

from minigrad import GradcheckError, Value, gradcheck
from minigrad.engine import _result


def wrong_tanh(a: Value) -> Value:
    """tanh whose derivative is computed from the input instead of the output: a classic."""
    return _result(math.tanh(a.data), "tanh", a, 1.0 - a.data**2)


def backwards_sign_square(a: Value) -> Value:
    return _result(a.data**2, "**2", a, -2.0 * a.data)


def double_counted_square(a: Value) -> Value:
    return _result(a.data**2, "**2", a, 4.0 * a.data)


def forgotten_gradient(a: Value, b: Value) -> Value:
    """a * b whose backward only sets the first operand's gradient."""
    return _result(a.data * b.data, "*", a, b.data, b, 0.0)


def test_passes_correct_gradients():
    assert gradcheck(lambda a, b: (a * b).tanh() + a / b - b.exp(), [0.3, -1.2]) is True
    assert gradcheck(lambda a: a**3, [Value(2.0)]) is True


def test_reports_the_worst_input_with_both_derivatives():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * 2.0 + wrong_tanh(b), [0.1, 0.8])
    message = str(info.value)
    assert "input 1" in message and "value 0.8" in message
    analytic = 1.0 - 0.8**2
    assert repr(analytic) in message
    assert "relative error" in message


def test_names_a_flipped_sign():
    with pytest.raises(GradcheckError, match="sign is flipped"):
        gradcheck(backwards_sign_square, [1.5])


def test_names_a_doubled_gradient():
    with pytest.raises(GradcheckError, match="twice the true gradient"):
        gradcheck(double_counted_square, [1.5])


def test_names_a_gradient_that_was_never_set():
    with pytest.raises(GradcheckError, match="never set"):
        gradcheck(forgotten_gradient, [2.0, 3.0])


def test_can_return_false_instead_of_raising():
    assert gradcheck(wrong_tanh, [0.5], raise_exception=False) is False


def test_gradcheck_error_is_an_assertion_error():
    """So a failing gradcheck reads as a failed test in a notebook or in pytest."""
    assert issubclass(GradcheckError, AssertionError)


def test_inputs_are_fresh_leaves_each_time():
    x = Value(2.0)
    x.grad = 123.0
    assert gradcheck(lambda a: a * a, [x])
    assert x.grad == 123.0  # the caller's Value is not touched


def test_function_must_return_a_value():
    with pytest.raises(TypeError, match="single Value"):
        gradcheck(lambda a: [a, a], [1.0])


def test_needs_an_input():
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Value(1.0), [])
