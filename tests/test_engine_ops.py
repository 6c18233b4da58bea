"""Each operation of the scalar engine: its value, and its backward rule against central
differences in float64 on hypothesis-drawn inputs, each across its domain (kept away from
singularities and from flat tails where every derivative looks like zero)."""

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_catalogue import real

from minigrad import Value, gradcheck


def away_from_zero(lo, hi):
    """Magnitudes in [lo, hi], either sign."""
    return st.tuples(real(lo, hi), st.booleans()).map(lambda t: t[0] if t[1] else -t[0])


def check(fn, *inputs):
    """gradcheck with tolerances tight enough to catch a wrong factor in any rule."""
    assert gradcheck(fn, list(inputs), atol=1e-7, rtol=1e-6)


# ---------------------------------------------------------------------- values


@given(real(-1e3, 1e3), real(-1e3, 1e3))
def test_arithmetic_matches_plain_floats(x, y):
    a, b = Value(x), Value(y)
    assert (a + b).data == x + y
    assert (a - b).data == x - y
    assert (a * b).data == x * y
    assert (-a).data == -x
    if y != 0.0:
        assert (a / b).data == x / y  # exact: division is not a * b**-1


@given(real(-30, 30))
def test_functions_match_math(x):
    a = Value(x)
    assert a.exp().data == math.exp(x)
    assert a.tanh().data == math.tanh(x)
    assert a.relu().data == max(0.0, x)
    assert a.sigmoid().data == pytest.approx(1.0 / (1.0 + math.exp(-x)), rel=1e-14)
    if x > 0:
        assert a.log().data == math.log(x)


def test_numbers_on_either_side_become_constant_operands():
    a = Value(3.0)
    assert (a + 2).data == 5.0 and (2 + a).data == 5.0
    assert (a - 2).data == 1.0 and (2 - a).data == -1.0
    assert (a * 2).data == 6.0 and (2 * a).data == 6.0
    assert (a / 2).data == 1.5 and (6 / a).data == 2.0
    assert (a**2).data == 9.0 and (2**a).data == 8.0
    assert (a ** Value(2.0)).data == 9.0
    out = 2 * a
    assert out._prev[1] is a and out._prev[0].data == 2.0  # operand order as written


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    a = Value(np.float32(2.0))
    assert type(a.data) is float
    assert (a * np.int64(3)).data == 6.0
    assert (a + np.float64(0.5)).data == 2.5


def test_value_data_and_grad_are_floats():
    a = Value(2)
    assert type(a.data) is float and type(a.grad) is float
    assert type((a * 3).data) is float
    assert type(Value(True).data) is float


def test_bad_inputs_raise_clear_type_errors():
    with pytest.raises(TypeError, match=r"real number.*str"):
        Value("3")
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="complex"):
        Value(1j)
    with pytest.raises(TypeError, match="unsupported operand"):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        [1.0] * Value(2.0)
    with pytest.raises(TypeError):
        Value(1.0) ** "2"


def test_repr_shows_data_grad_and_label():
    a = Value(2.0, label="a")
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(Value(-0.5)) == "Value(data=-0.5, grad=0.0)"


def test_op_names_and_operands():
    a, b = Value(1.0), Value(2.0)
    assert (a + b)._op == "+" and (a + b)._prev == (a, b)
    assert (a * b)._op == "*" and (a * b)._prev == (a, b)
    assert (a**3)._op == "**3" and (a**3)._prev == (a,)
    assert (a**b)._op == "**" and (a**b)._prev == (a, b)
    assert (a / b)._op == "/" and (a / b)._prev == (a, b)
    assert (-a)._op == "neg"
    for name in ("exp", "log", "tanh", "relu", "sigmoid"):
        out = getattr(b, name)()
        assert out._op == name and out._prev == (b,)
    assert a._prev == () and a._op == ""


def test_local_grads_line_up_with_operands():
    a, b = Value(2.0), Value(5.0)
    out = a * b
    assert out._local_grads == (5.0, 2.0)
    assert a.tanh()._local_grads == (1.0 - math.tanh(2.0) ** 2,)
    assert a._local_grads == ()


def test_values_hash_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2


# ---------------------------------------------------------------------- gradients


@given(real(-1e3, 1e3), real(-1e3, 1e3))
def test_add_sub_mul_gradients(x, y):
    check(lambda a, b: a + b, x, y)
    check(lambda a, b: a - b, x, y)
    check(lambda a, b: a * b, x, y)
    check(lambda a: -a, x)


@given(real(-1e3, 1e3), away_from_zero(0.1, 1e3))
def test_div_gradient(x, y):
    check(lambda a, b: a / b, x, y)
    check(lambda b: 3.0 / b, y)


@given(real(0.1, 10.0), real(-3.0, 3.0))
def test_pow_with_number_exponent_gradient(x, n):
    check(lambda a: a**n, x)


@given(away_from_zero(0.1, 10.0), st.integers(-4, 4))
def test_pow_of_negative_base_with_integer_exponent_gradient(x, n):
    check(lambda a: a**n, x)


@given(real(0.1, 10.0), real(-3.0, 3.0))
def test_pow_with_value_exponent_gradient(x, y):
    check(lambda a, b: a**b, x, y)
    check(lambda b: 2.5**b, y)


@given(real(-20.0, 20.0))
def test_exp_gradient(x):
    check(lambda a: a.exp(), x)


@given(real(0.01, 1e3))
def test_log_gradient(x):
    check(lambda a: a.log(), x)


@given(real(-5.0, 5.0))
def test_tanh_gradient(x):
    check(lambda a: a.tanh(), x)


@given(away_from_zero(1e-3, 1e3))
def test_relu_gradient(x):
    check(lambda a: a.relu(), x)


@given(real(-10.0, 10.0))
def test_sigmoid_gradient(x):
    check(lambda a: a.sigmoid(), x)


@given(away_from_zero(0.05, 2.0), real(-2.0, 2.0), real(0.5, 2.0))
def test_expression_mixing_every_op(x, y, z):
    # x stays away from 0, where relu(a * c) has its kink
    def f(a, b, c):
        return (
            a * b
            + (a - c).tanh() / c
            + (b**2).exp() * 0.1
            - c.log()
            + c**b
            + (a * c).relu()
            + (-b).sigmoid()
            - 2 / c
        )

    check(f, x, y, z)


def test_worked_example_of_lesson_04():
    """f = a*b + tanh(c) - 0.5*a**2 at a=2, b=3, c=0.5, against its hand derivation."""
    a, b, c = Value(2.0), Value(3.0), Value(0.5)
    f = a * b + c.tanh() - 0.5 * a**2
    f.backward()
    assert f.data == pytest.approx(6.0 + math.tanh(0.5) - 2.0, rel=1e-15)
    assert a.grad == pytest.approx(3.0 - 2.0, rel=1e-15)  # b - a
    assert b.grad == 2.0  # a
    assert c.grad == pytest.approx(1.0 - math.tanh(0.5) ** 2, rel=1e-15)


# ---------------------------------------------------------------------- special values


def test_tanh_is_exact_in_both_tails():
    for x, t in [(1000.0, 1.0), (-1000.0, -1.0), (20.0, 1.0), (1e308, 1.0)]:
        a = Value(x)
        out = a.tanh()
        out.backward()
        assert out.data == t
        assert a.grad == 0.0


def test_sigmoid_is_exact_in_both_tails():
    big, small = Value(1000.0).sigmoid(), Value(-1000.0).sigmoid()
    assert big.data == 1.0 and small.data == 0.0
    assert Value(-745.0).sigmoid().data > 0.0  # e^-745 is subnormal, not 0
    assert Value(-30.0).sigmoid().data == pytest.approx(math.exp(-30.0), rel=1e-12)


def test_exp_overflows_to_inf():
    a = Value(1000.0)
    out = a.exp()
    out.backward()
    assert out.data == math.inf and a.grad == math.inf


def test_log_outside_its_domain_is_inf_or_nan_with_a_warning():
    with pytest.warns(RuntimeWarning, match="log of 0"):
        zero = Value(0.0)
        out = zero.log()
    out.backward()
    assert out.data == -math.inf and zero.grad == math.inf
    with pytest.warns(RuntimeWarning, match="negative"):
        neg = Value(-2.0)
        out = neg.log()
    out.backward()
    assert math.isnan(out.data) and neg.grad == -0.5


def test_pow_special_cases_follow_ieee_and_pytorch():
    with pytest.warns(RuntimeWarning, match="non-integer power"):
        assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these is a domain error
        assert (Value(0.0) ** -1).data == math.inf
        assert (Value(-0.0) ** -1).data == -math.inf
        assert (Value(10.0) ** 400).data == math.inf
        assert (Value(-10.0) ** 401).data == -math.inf
        assert (Value(-2.0) ** 3).data == -8.0


def test_pow_derivative_conventions_at_zero():
    a = Value(0.0)
    (a**0).backward()
    assert a.grad == 0.0  # d(a^0)/da is 0, not 0 * 0^-1
    a = Value(0.0)
    (a**0.5).backward()
    assert a.grad == math.inf
    a, b = Value(0.0), Value(2.0)
    (a**b).backward()
    assert a.grad == 0.0 and b.grad == 0.0  # d(0^b)/db is 0 for b >= 0
    a, b = Value(-2.0), Value(2.0)
    (a**b).backward()
    assert a.grad == -4.0 and math.isnan(b.grad)  # no real derivative in b for a < 0


def test_division_by_zero_follows_ieee():
    a, b = Value(1.0), Value(0.0)
    out = a / b
    out.backward()
    assert out.data == math.inf and a.grad == math.inf and b.grad == -math.inf
    assert (Value(-1.0) / Value(0.0)).data == -math.inf
    assert math.isnan((Value(0.0) / Value(0.0)).data)
    assert (Value(0.0) / Value(2.2e-311)).data == 0.0  # b**-1 would overflow here


def test_relu_derivative_at_zero_is_zero():
    a = Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0


def test_make_node_builds_an_operation_that_backward_follows():
    from minigrad.engine import make_node

    x = Value(2.0)
    cube = make_node(x.data**3, "cube", (x,), (3 * x.data**2,))
    (cube * x).backward()  # d(x^4)/dx = 4 x^3 = 32
    assert x.grad == 32.0
    assert cube._op == "cube" and cube._prev == (x,) and cube._local_grads == (12.0,)


def test_make_node_refuses_mismatched_parents_and_derivatives():
    from minigrad.engine import make_node

    x = Value(1.0)
    with pytest.raises(ValueError, match="one d\\(output\\)/d\\(parent\\) per parent"):
        make_node(1.0, "f", (x, x), (1.0,))
    with pytest.raises(TypeError, match="one or two Values"):
        make_node(1.0, "f", (1.0,), (1.0,))
