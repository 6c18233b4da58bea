"""Lesson 02's tests against students' answers: each common mistake gets a message that
names it, and each correct alternative passes everything."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import Lesson, test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def init_lesson():
    # An answer to value_init redefines the class Value; putting the solution back defines
    # it afresh, without the methods the later exercises attach to it. So value_init's
    # answers get a kernel of their own, and the other exercises keep a complete Value.
    with Lesson("02_value") as lesson:
        yield lesson


INIT = "value_init"
ADD = "value_add"
MUL = "value_mul"
REFLECTED = "value_reflected"
STEP = "value_backprop_step"
MANUAL = "value_manual_backprop"


def init(body):
    return (
        "class Value:\n"
        '    def __init__(self, data, _prev=(), _op="", _local_grads=(), label=""):\n'
        + body
        + "\n    def __repr__(self):\n"
        + '        return f"Value(data={self.data!r}, grad={self.grad!r})"\n'
    )


FIELDS = (
    "        self._op = _op\n"
    "        self._local_grads = tuple(_local_grads)\n"
    "        self.label = label\n"
)

ATTACH_REFLECTED = "\n\nValue.__radd__ = radd\nValue.__rmul__ = rmul\n"


def manual(steps):
    return (
        "def manual_backprop(a, b, c, f):\n"
        '    a, b = Value(a, label="a"), Value(b, label="b")\n'
        '    c, f = Value(c, label="c"), Value(f, label="f")\n'
        "    d = a * b\n"
        '    d.label = "d"\n'
        "    e = d + c\n"
        '    e.label = "e"\n'
        "    L = e * f\n"
        '    L.label = "L"\n'
        + steps
        + "    return {node.label: node.grad for node in (a, b, c, f, d, e, L)}\n"
    )


INIT_WRONG = [
    pytest.param(
        init(
            "        self.data = data\n"
            "        self.grad = 0.0\n"
            "        self._prev = tuple(_prev)\n" + FIELDS
        ),
        "store data as a float",
        id="init-data-not-float",
    ),
    pytest.param(
        init(
            "        self.data = float(data)\n"
            "        self.grad = 0.0\n"
            "        self._prev = set(_prev)\n" + FIELDS
        ),
        "expected (): it was computed from nothing",
        id="init-prev-as-set",
    ),
    pytest.param(
        init(
            "        self.data = float(data)\n"
            "        self.grad = None\n"
            "        self._prev = tuple(_prev)\n" + FIELDS
        ),
        "nothing has been propagated",
        id="init-grad-none",
    ),
]

WRONG = [
    pytest.param(
        ADD,
        "def add(self, other):\n"
        "    od = other.data if isinstance(other, Value) else other\n"
        "    return Value(self.data + od, (self, other), '+', (1.0, 1.0))\n\n\n"
        "Value.__add__ = add\n",
        "should wrap the number 2 in a Value",
        id="add-number-not-wrapped",
    ),
    pytest.param(
        ADD,
        "def add(self, other):\n"
        "    if not isinstance(other, Value):\n"
        "        other = Value(other)\n"
        "    grads = (other.data, self.data)\n"
        "    return Value(self.data + other.data, (self, other), '+', grads)\n\n\n"
        "Value.__add__ = add\n",
        "both local derivatives are 1",
        id="add-product-rule-grads",
    ),
    pytest.param(
        MUL,
        "def mul(self, other):\n"
        "    if not isinstance(other, Value):\n"
        "        other = Value(other)\n"
        "    grads = (self.data, other.data)\n"
        "    return Value(self.data * other.data, (self, other), '*', grads)\n\n\n"
        "Value.__mul__ = mul\n",
        "the local derivatives are swapped",
        id="mul-grads-swapped",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n    return self + other\n\n\n"
        "def rmul(self, other):\n    return self * other\n" + ATTACH_REFLECTED,
        "the number was written first",
        id="reflected-self-first",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n    return other + self\n\n\n"
        "def rmul(self, other):\n    return other * self\n" + ATTACH_REFLECTED,
        "calls radd again",
        id="reflected-recursion",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n    return Value(other) + self\n\n\n"
        "def rmul(self, other):\n    return other * self\n" + ATTACH_REFLECTED,
        "calls rmul again",
        id="reflected-recursion-in-rmul",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n    return Value(other) + self\n\n\n"
        "def rmul(self, other):\n"
        "    return Value(other * self.data, (Value(other), self), '*', (other, self.data))\n"
        + ATTACH_REFLECTED,
        "d/d(4) is p.data and d/dp is 4, in that order",
        id="reflected-rmul-grads-swapped",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for operand, local_grad in zip(node._prev, node._local_grads):\n"
        "        operand.grad = local_grad * node.grad\n",
        "Use `+=` instead of `=`",
        id="step-assigns",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for operand, local_grad in zip(node._prev, node._local_grads):\n"
        "        operand.grad += local_grad\n",
        "a missing out.grad factor",
        id="step-no-chain-rule",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for operand, local_grad in set(zip(node._prev, node._local_grads)):\n"
        "        operand.grad += local_grad * node.grad\n",
        "the second edge overwrote the first",
        id="step-set-loses-an-edge",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for operand, local_grad in zip(node._prev, node._local_grads):\n"
        "        operand.grad += local_grad * node.grad\n"
        "        backprop_step(operand)\n",
        "backprop_step does one node's step only",
        id="step-recurses-into-operands",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for operand, local_grad in zip(node._prev, node._local_grads):\n"
        "        operand.grad += local_grad * node.grad\n"
        "    node.grad = 0.0\n",
        "should not change the node's own grad",
        id="step-zeroes-the-node",
    ),
    pytest.param(
        MANUAL,
        manual("    backprop_step(L)\n    backprop_step(e)\n    backprop_step(d)\n"),
        "seed the backward pass with L.grad = 1.0",
        id="manual-no-seed",
    ),
    pytest.param(
        MANUAL,
        manual(
            "    L.grad = 1.0\n    backprop_step(d)\n    backprop_step(e)\n    backprop_step(L)\n"
        ),
        "after the step at L comes backprop_step(e)",
        id="manual-wrong-order",
    ),
    pytest.param(
        MANUAL,
        manual(
            "    L.grad = 1.0\n    backprop_step(L)\n    backprop_step(e)\n"
            "    backprop_step(e)\n    backprop_step(d)\n"
        ),
        "was a step called twice?",
        id="manual-step-twice",
    ),
]

INIT_RIGHT = [
    pytest.param(
        "import numpy as _np\n"
        + init(
            "        self.data, self.grad = float(_np.float64(data)), 0.0\n"
            "        self._prev, self._local_grads = (*_prev,), (*_local_grads,)\n"
            "        self._op, self.label = _op, label\n"
        ),
        id="init-unpacking",
    ),
]

RIGHT = [
    pytest.param(
        ADD,
        "def add(self, other):\n"
        "    if isinstance(other, (int, float)):\n"
        "        other = Value(other)\n"
        "    return Value(self.data + other.data, _prev=[self, other], _op='+',\n"
        "                 _local_grads=[1, 1])\n\n\n"
        "Value.__add__ = add\n",
        id="add-keywords-and-lists",
    ),
    pytest.param(
        MUL,
        "def mul(self, other):\n"
        "    other = other if isinstance(other, Value) else Value(other)\n"
        "    a, b = self.data, other.data\n"
        "    return Value(a * b, _prev=(self, other), _op='*', _local_grads=(b, a))\n\n\n"
        "Value.__mul__ = mul\n",
        id="mul-explicit",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n"
        "    c = Value(other)\n"
        "    return Value(c.data + self.data, (c, self), '+', (1.0, 1.0))\n\n\n"
        "def rmul(self, other):\n"
        "    c = Value(other)\n"
        "    return Value(c.data * self.data, (c, self), '*', (self.data, c.data))\n"
        + ATTACH_REFLECTED,
        id="reflected-explicit",
    ),
    pytest.param(
        REFLECTED,
        "def radd(self, other):\n    return Value(other).__add__(self)\n\n\n"
        "def rmul(self, other):\n    return mul(Value(other), self)\n" + ATTACH_REFLECTED,
        id="reflected-via-add-and-mul",
    ),
    pytest.param(
        STEP,
        "def backprop_step(node):\n"
        "    for i in range(len(node._prev)):\n"
        "        node._prev[i].grad = node._prev[i].grad + node._local_grads[i] * node.grad\n",
        id="step-index-loop",
    ),
    pytest.param(
        MANUAL,
        manual(
            "    L.grad = 1.0\n"
            "    for node in (L, e, d, a, b, c, f):\n"
            "        backprop_step(node)\n"
        ),
        id="manual-loop-including-leaves",
    ),
]


@pytest.mark.parametrize(("code", "phrase"), INIT_WRONG)
def test_wrong_constructor_is_named(init_lesson, code, phrase):
    seen = init_lesson.answer(INIT, code)
    assert seen.visible and phrase in seen.visible, seen


@pytest.mark.parametrize("code", INIT_RIGHT)
def test_right_constructor_passes(init_lesson, code):
    seen = init_lesson.answer(INIT, code)
    assert seen.passes, seen
