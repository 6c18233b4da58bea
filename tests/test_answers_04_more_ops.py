"""Lesson 04's tests against students' answers: each common mistake gets a message that names
it in the visible tests, and correct alternatives pass everything."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow

COMPOSITIONS = """def neg(x):
    return {}


def sub(a, b):
    return {}


def div(a, b):
    return {}
"""


def compositions(neg="x * -1", sub="a + neg(b)", div="a * power(b, -1)"):
    return COMPOSITIONS.format(neg, sub, div)


POWER = (
    'def power(x, n):\n    return make_node(x.data**n, f"**{n}", (x,), (n * x.data ** (n - 1),))\n'
)

STABLE_SIGMOID = """def sigmoid(x):
    if x.data >= 0:
        s = 1 / (1 + math.exp(-x.data))
    else:
        e = math.exp(x.data)
        s = e / (1 + e)
    return make_node(s, "sigmoid", (x,), ({},))
"""


WRONG = [
    # power
    pytest.param(
        "more_ops_power",
        'def power(x, n):\n    return make_node(x.data**n, f"**{n}", (x,), (n * x.data**n,))\n',
        "n * x**n",
        id="power-n-x-n",
    ),
    pytest.param(
        "more_ops_power",
        "def power(x, n):\n"
        '    return make_node(x.data**n, f"**{n}", (x,), ((n - 1) * x.data ** (n - 1),))\n',
        "(n - 1) * x**(n - 1)",
        id="power-factor-n-minus-1",
    ),
    pytest.param(
        "more_ops_power",
        "def power(x, n):\n    return x ** n\n",
        "power calls minigrad's own **",
        id="power-uses-minigrad-pow",
    ),
    # neg, sub, div
    pytest.param(
        "more_ops_compositions",
        compositions(neg="-x"),
        "neg uses minigrad's own unary -",
        id="neg-unary-minus",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(neg='make_node(-x.data, "*", (x,), (-1.0,))'),
        "operands are x and the constant -1",
        id="neg-make-node-star",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(neg='make_node(-x.data, "neg", (x,), (-1.0,))'),
        "but it is a 'neg' node",
        id="neg-make-node-neg",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(sub="a - b"),
        "sub uses minigrad's own -",
        id="sub-minigrad-minus",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(div="a / b"),
        "div uses minigrad's own /",
        id="div-minigrad-slash",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(div="a * b ** -1"),
        "div uses minigrad's own **",
        id="div-minigrad-pow",
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(sub="neg(a) + b"),
        "sub(Value(6.0), Value(4.0)).data",
        id="sub-sign",
    ),
    # exp, log
    pytest.param(
        "more_ops_exp",
        'def exp(x):\n    return make_node(math.exp(x.data), "exp", (x,), (x.data,))\n',
        "which is x.data",
        id="exp-local-x",
    ),
    pytest.param(
        "more_ops_exp",
        "def exp(x):\n    return x.exp()\n",
        "exp calls minigrad's own Value.exp",
        id="exp-uses-minigrad-exp",
    ),
    pytest.param(
        "more_ops_log",
        "def log(x):\n    return x.log()\n",
        "log calls minigrad's own Value.log",
        id="log-uses-minigrad-log",
    ),
    # tanh
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    e2x = math.exp(2 * x.data)\n    t = (e2x - 1) / (e2x + 1)\n"
        '    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        "the textbook formula (e**(2x) - 1) / (e**(2x) + 1) overflows",
        id="tanh-textbook",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    t = math.tanh(x.data)\n"
        '    return make_node(t, "tanh", (x,), (1 - x.data**2,))\n',
        "1 - x**2",
        id="tanh-from-input",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    t = math.tanh(x.data)\n"
        '    return make_node(t, "tanh", (x,), (1 / math.cosh(x.data) ** 2,))\n',
        "1 - t**2 needs only t",
        id="tanh-derivative-cosh-overflows",
    ),
    pytest.param(
        "more_ops_tanh",
        'def tanh(x):\n    return make_node(math.tanh(x.data), "tanh", (x,), '
        "(1 / math.cosh(x.data) ** 2,))\n",
        "1 - t**2 needs only t",
        id="tanh-derivative-cosh-overflows-one-line",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    e = math.exp(-2 * abs(x.data))\n    t = (1 - e) / (1 + e)\n"
        '    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        "tanh(-x) = -tanh(x)",
        id="tanh-lost-sign",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    e = math.exp(-2 * x.data)\n    t = (1 - e) / (1 + e)\n"
        '    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        "a formula with e**(-2x) overflows for x < -354.9",
        id="tanh-e-minus-2x-without-abs",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    t = 2 / (1 + math.exp(-2 * x.data)) - 1\n"
        '    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        "a formula with e**(-2x) overflows for x < -354.9",
        id="tanh-forward-overflows-to-a-finite-limit",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    return x.tanh()\n",
        "tanh calls minigrad's own Value.tanh",
        id="tanh-uses-minigrad-tanh",
    ),
    # relu
    pytest.param(
        "more_ops_relu",
        "def relu(x):\n    if x.data >= 0:\n"
        '        return make_node(x.data, "relu", (x,), (1.0,))\n'
        '    return make_node(0.0, "relu", (x,), (0.0,))\n',
        "test x.data > 0, not x.data >= 0",
        id="relu-ge-zero",
    ),
    pytest.param(
        "more_ops_relu",
        "def relu(x):\n    return x.relu()\n",
        "relu calls minigrad's own Value.relu",
        id="relu-uses-minigrad-relu",
    ),
    # sigmoid
    pytest.param(
        "more_ops_sigmoid",
        "def sigmoid(x):\n    s = 1 / (1 + math.exp(-x.data))\n"
        '    return make_node(s, "sigmoid", (x,), (s * (1 - s),))\n',
        "when x < 0 use e**x / (1 + e**x)",
        id="sigmoid-naive",
    ),
    pytest.param(
        "more_ops_sigmoid",
        STABLE_SIGMOID.format("math.exp(-x.data) / (1 + math.exp(-x.data)) ** 2"),
        "s * (1 - s) needs only s",
        id="sigmoid-derivative-formula-overflows",
    ),
    pytest.param(
        "more_ops_sigmoid",
        STABLE_SIGMOID.format("s"),
        "sigma(2) itself",
        id="sigmoid-local-s",
    ),
    pytest.param(
        "more_ops_sigmoid",
        "def sigmoid(x):\n    return x.sigmoid()\n",
        "sigmoid calls minigrad's own Value.sigmoid",
        id="sigmoid-uses-minigrad-sigmoid",
    ),
    # the worked example, the loop
    pytest.param(
        "more_ops_worked_example",
        "def f_gradient_by_hand(a, b, c):\n    return (b, a, 1 - math.tanh(c) ** 2)\n",
        "a appears twice in f",
        id="worked-forgot-second-path",
    ),
    pytest.param(
        "more_ops_worked_example",
        "def f_gradient_by_hand(a, b, c):\n    a, b, c = Value(a), Value(b), Value(c)\n"
        "    (a * b + c.tanh() - 0.5 * a**2).backward()\n    return (a.grad, b.grad, c.grad)\n",
        "f_gradient_by_hand calls backward()",
        id="worked-calls-backward",
    ),
    pytest.param(
        "more_ops_tanh_chain",
        "def tanh_n_derivative(x, n):\n    return (1 - math.tanh(x) ** 2) ** n\n",
        "each factor uses its own step's output",
        id="chain-same-factor",
    ),
    pytest.param(
        "more_ops_tanh_chain",
        "def tanh_n_derivative(x, n):\n    v = Value(x)\n    y = v\n    for _ in range(n):\n"
        "        y = y.tanh()\n    y.backward()\n    return v.grad\n",
        "tanh_n_derivative calls backward()",
        id="chain-calls-backward",
    ),
]

RIGHT = [
    pytest.param(
        "more_ops_power",
        "def power(x, n):\n    y = math.pow(x.data, n)\n"
        '    return make_node(y, f"**{n}", (x,), (n * math.pow(x.data, n - 1),))\n',
        id="power-math-pow",
    ),
    pytest.param(
        "more_ops_power",
        'def power(x, n):\n    y = x.data ** n\n    return make_node(y, "**" + str(n), [x], '
        "[n * y / x.data])\n",
        id="power-from-output",
    ),
    pytest.param("more_ops_compositions", compositions(), id="compositions-as-taught"),
    pytest.param(
        "more_ops_compositions", compositions(div="power(b, -1) * a"), id="div-operands-swapped"
    ),
    pytest.param(
        "more_ops_compositions",
        compositions(neg="-1 * x", sub="neg(b) + a"),
        id="neg-sub-operands-swapped",
    ),
    pytest.param("more_ops_compositions", compositions(neg="x * -1.0"), id="neg-float-constant"),
    pytest.param(
        "more_ops_exp",
        'def exp(x):\n    out = math.e ** x.data\n    return make_node(out, "exp", (x,), (out,))\n',
        id="exp-e-pow",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    e = math.exp(-2 * abs(x.data))\n"
        "    t = math.copysign((1 - e) / (1 + e), x.data)\n"
        '    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        id="tanh-stable-form",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    m = math.expm1(-2 * abs(x.data))\n"
        "    t = math.copysign(-m / (2 + m), x.data)\n"
        '    return make_node(t, "tanh", (x,), ((1 - t) * (1 + t),))\n',
        id="tanh-expm1",
    ),
    pytest.param(
        "more_ops_tanh",
        "def tanh(x):\n    z = 2 * x.data\n"
        "    s = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))\n"
        '    t = 2 * s - 1\n    return make_node(t, "tanh", (x,), (1 - t * t,))\n',
        id="tanh-via-sigmoid",
    ),
    pytest.param(
        "more_ops_relu",
        "def relu(x):\n    on = x.data > 0\n"
        '    return make_node(x.data * on, "relu", (x,), (float(on),))\n',
        id="relu-bool-mask",
    ),
    pytest.param("more_ops_sigmoid", STABLE_SIGMOID.format("s * (1 - s)"), id="sigmoid-two-forms"),
    pytest.param(
        "more_ops_sigmoid",
        "def sigmoid(x):\n    s = 0.5 * (1 + math.tanh(0.5 * x.data))\n"
        '    return make_node(s, "sigmoid", (x,), (s * (1 - s),))\n',
        id="sigmoid-via-tanh",
    ),
    pytest.param(
        "more_ops_worked_example",
        "def f_gradient_by_hand(a, b, c):\n    return [b - a, a, 1 - math.tanh(c) ** 2]\n",
        id="worked-returns-list",
    ),
    pytest.param(
        "more_ops_worked_example",
        "def f_gradient_by_hand(a, b, c):\n    return (b - a, a, 1 / math.cosh(c) ** 2)\n",
        id="worked-sech2",
    ),
    pytest.param(
        "more_ops_tanh_chain",
        "def tanh_n_derivative(x, n):\n    if n == 0:\n        return 1.0\n"
        "    t = math.tanh(x)\n    return (1 - t * t) * tanh_n_derivative(t, n - 1)\n",
        id="chain-recursive",
    ),
]


def test_neg_without_unary_minus_is_not_blamed_on_it(lesson):
    seen = lesson.answer(
        "more_ops_compositions", compositions(neg='make_node(-x.data, "neg", (x,), (-1.0,))')
    )
    assert seen.visible and "unary" not in seen.visible, seen


def test_power_with_minigrad_pow_is_blamed_in_compositions(lesson):
    # The student's power uses minigrad's **, the compositions are right: both parts of the
    # compositions' tests name power, not neg, sub or div.
    try:
        seen = lesson.answer(
            "more_ops_compositions", "def power(x, n):\n    return x ** n\n\n\n" + compositions()
        )
    finally:
        assert lesson.answer("more_ops_power", POWER).passes
    assert seen.visible and "power (section 2) calls minigrad's own **" in seen.visible, seen
    assert seen.hidden and "power (section 2) calls minigrad's own **" in seen.hidden, seen
