"""Lesson 08's tests against students' common mistakes: each wrong answer is caught by the
visible tests with a message that names the mistake, each correct alternative passes."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow


def newton(body):
    return "def newton_step(f, x):\n" + body


def hvp(body):
    return "def hessian_vector_product(f, x, v):\n" + body


def evaluate(body):
    return "def evaluate(model, X, targets):\n" + body


WRONG = [
    # beyond_newton_step
    pytest.param(
        "beyond_newton_step",
        newton("""
    x = Tensor(x, requires_grad=True)
    (d1,) = mg.grad(f(x), x, create_graph=True)
    (d2,) = mg.grad(d1, x)
    return x - d1 / d2
"""),
        "newton_step returned a Tensor",
        id="newton-returns-tensor",
    ),
    pytest.param(
        "beyond_newton_step",
        newton("""
    x = Tensor(x, requires_grad=True)
    (d1,) = mg.grad(f(x), x)
    (d2,) = mg.grad(d1, x)
    return float(x.item() - d1.item() / d2.item())
"""),
        "create_graph=True",
        id="newton-no-create-graph",
    ),
    pytest.param(
        "beyond_newton_step",
        newton("""
    x = Tensor(x, requires_grad=True)
    (d1,) = mg.grad(f(x), x, create_graph=True)
    (d2,) = mg.grad(d1, x)
    return float(x.item() + d1.item() / d2.item())
"""),
        "you stepped uphill",
        id="newton-plus",
    ),
    # beyond_hvp
    pytest.param(
        "beyond_hvp",
        hvp("""
    x = Tensor(x, requires_grad=True)
    (g,) = mg.grad(f(x), x, create_graph=True)
    (hv,) = mg.grad((g * Tensor(v)).sum(), x)
    return hv
"""),
        "hessian_vector_product returned a Tensor",
        id="hvp-returns-tensor",
    ),
    pytest.param(
        "beyond_hvp",
        hvp("""
    x = Tensor(x, requires_grad=True)
    (g,) = mg.grad(f(x), x, create_graph=True)
    (hv,) = mg.grad(g.sum(), x)
    return hv.data
"""),
        "not g.sum()",
        id="hvp-g-sum",
    ),
    pytest.param(
        "beyond_hvp",
        hvp("""
    x = Tensor(x, requires_grad=True)
    (g,) = mg.grad(f(x), x)
    (hv,) = mg.grad((g * Tensor(v)).sum(), x)
    return hv.data
"""),
        "create_graph=True",
        id="hvp-no-create-graph",
    ),
    # beyond_evaluate
    pytest.param(
        "beyond_evaluate",
        evaluate("""
    with no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, targets)
    accuracy = float(np.mean(logits.argmax(axis=1) == np.asarray(targets)))
    return loss.item(), accuracy
"""),
        "unlike lesson 07's evaluate",
        id="evaluate-loss-item",
    ),
    pytest.param(
        "beyond_evaluate",
        evaluate("""
    logits = model(X).detach()
    loss = F.cross_entropy(logits, targets)
    accuracy = float(np.mean(logits.argmax(axis=1) == np.asarray(targets)))
    return loss, accuracy
"""),
        "run it inside `with no_grad():`",
        id="evaluate-detach-instead-of-no-grad",
    ),
    pytest.param(
        "beyond_evaluate",
        evaluate("""
    with no_grad():
        loss = F.cross_entropy(model(X), targets)
        accuracy = float(np.mean(model(X).argmax(axis=1) == np.asarray(targets)))
    return loss, accuracy
"""),
        "run it once",
        id="evaluate-model-twice",
    ),
]

RIGHT = [
    pytest.param(
        "beyond_newton_step",
        newton("""
    t = Tensor(float(x), requires_grad=True)
    first = mg.grad(f(t), [t], create_graph=True)[0]
    second = mg.grad(first, [t])[0]
    return (t - first / second).item()
"""),
        id="newton-tensor-math-then-item",
    ),
    pytest.param(
        "beyond_newton_step",
        newton("""
    x = Tensor(x, requires_grad=True)
    (d1,) = mg.grad(f(x), x, create_graph=True)
    (d2,) = mg.grad(d1, x)
    return float((x - d1 / d2).data)
"""),
        id="newton-float-of-data",
    ),
    pytest.param(
        "beyond_hvp",
        hvp("""
    x = Tensor(x, requires_grad=True)
    (g,) = mg.grad(f(x), x, create_graph=True)
    (hv,) = mg.grad(g @ Tensor(v), x)
    return hv.data
"""),
        id="hvp-dot",
    ),
    pytest.param(
        "beyond_hvp",
        hvp("""
    x = Tensor(x, requires_grad=True)
    (g,) = mg.grad(f(x), x, create_graph=True)
    (hv,) = mg.grad(g, x, grad_output=np.asarray(v))
    return hv.data
"""),
        id="hvp-grad-output",
    ),
    pytest.param(
        "beyond_evaluate",
        evaluate("""
    with mg.no_grad():
        logits = model(Tensor(X))
        loss = F.cross_entropy(logits, np.asarray(targets))
    return loss, (logits.data.argmax(1) == targets).mean()
"""),
        id="evaluate-np-float64-accuracy",
    ),
]
