"""Lesson 05's tests against students' answers (sgd_step, zero_grad and train_step): each
common mistake gets a message that names it in the visible tests, and correct alternatives
pass everything."""

import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow

SGD = """def sgd_step(parameters, lr):
    for p in parameters:
        {}


def zero_grad(parameters):
    for p in parameters:
        {}
"""


def sgd(step="p.data -= lr * p.grad", zero="p.grad = 0.0"):
    return SGD.format(step, zero)


TRAIN_STEP = """def train_step(model, X, ys, lr, alpha=1e-4):
    params = model.parameters()
{}
"""
ZERO = "    zero_grad(params)"
FORWARD = """    scores = [model(x) for x in X]
    loss = hinge_loss(scores, ys) + l2_penalty(params, alpha)
    loss.backward()"""
UPDATE = "    sgd_step(params, lr)"
RETURN = "    return loss.data, accuracy(scores, ys)"


def train_step(*lines):
    return TRAIN_STEP.format("\n".join(lines))


WRONG = [
    pytest.param(
        "neural_net_sgd", sgd(step="p.data += lr * p.grad"), "gradient ascent", id="sgd-ascent"
    ),
    pytest.param(
        "neural_net_sgd",
        sgd(step="p = p - lr * p.grad"),
        "assigning a new Value to the loop variable changes nothing",
        id="sgd-rebinds-loop-variable",
    ),
    pytest.param(
        "neural_net_sgd",
        sgd(step="p.data -= lr * p.grad\n        p.grad = 0.0"),
        "zeroing is zero_grad's job",
        id="sgd-step-zeroes",
    ),
    pytest.param(
        "neural_net_sgd", sgd(zero="p.data = 0.0"), "set each p.grad = 0.0", id="zero-grad-data"
    ),
    pytest.param(
        "neural_net_train_step",
        train_step(FORWARD, UPDATE, RETURN),
        "did you zero the gradients before backward()?",
        id="train-no-zero-grad",
    ),
    pytest.param(
        "neural_net_train_step",
        train_step(FORWARD, ZERO, UPDATE, RETURN),
        "zero the gradients before backward(), not after",
        id="train-zero-after-backward",
    ),
    pytest.param(
        "neural_net_train_step",
        train_step(
            ZERO,
            FORWARD,
            UPDATE,
            "    new_scores = [model(x) for x in X]",
            "    return (hinge_loss(new_scores, ys) + l2_penalty(params, alpha)).data, "
            "accuracy(scores, ys)",
        ),
        "measured after the update",
        id="train-loss-after-update",
    ),
    pytest.param(
        "neural_net_train_step",
        train_step(
            ZERO, FORWARD, UPDATE, "    return loss.data, accuracy([model(x) for x in X], ys)"
        ),
        "measured after the update",
        id="train-accuracy-after-update",
    ),
    pytest.param(
        "neural_net_train_step",
        train_step(ZERO, FORWARD.replace(" + l2_penalty(params, alpha)", ""), UPDATE, RETURN),
        "hinge_loss(scores, ys) + l2_penalty(model.parameters(), alpha)",
        id="train-no-penalty",
    ),
]

RIGHT = [
    pytest.param("neural_net_sgd", sgd(), id="sgd-as-taught"),
    pytest.param("neural_net_sgd", sgd(zero="p.grad = 0"), id="zero-grad-int-zero"),
    pytest.param(
        "neural_net_sgd",
        sgd(step="p.data = p.data - lr * p.grad", zero="setattr(p, 'grad', 0.0)"),
        id="sgd-assign",
    ),
    pytest.param("neural_net_train_step", train_step(ZERO, FORWARD, UPDATE, RETURN), id="train"),
    pytest.param(
        "neural_net_train_step",
        """def train_step(model, X, ys, lr, alpha=1e-4):
    for p in model.parameters():
        p.grad = 0.0
    scores = [model(x) for x in X]
    data_loss = sum((1 - y * s).relu() for s, y in zip(scores, ys)) / len(ys)
    loss = data_loss + alpha * sum(p * p for p in model.parameters())
    loss.backward()
    for p in model.parameters():
        p.data = p.data - lr * p.grad
    acc = sum(1 for s, y in zip(scores, ys) if (s.data > 0) == (y > 0)) / len(ys)
    return float(loss.data), acc
""",
        id="train-inline",
    ),
]


def test_hidden_names_the_loss_measured_after_the_update(lesson):
    code = train_step(
        ZERO,
        FORWARD,
        UPDATE,
        "    new_scores = [model(x) for x in X]",
        "    return (hinge_loss(new_scores, ys) + l2_penalty(params, alpha)).data, "
        "accuracy(scores, ys)",
    )
    seen = lesson.answer("neural_net_train_step", code)
    assert seen.hidden and "measured after the update" in seen.hidden, seen
