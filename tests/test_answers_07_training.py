"""Lesson 07's tests against common wrong answers (they must fail, visibly, naming the
mistake) and correct alternatives (they must pass everything)."""

from __future__ import annotations

import lesson_answers as answers
import pytest

# The two checks every catalogue gets, run on this file's WRONG and RIGHT (conftest.py):
from lesson_answers import test_right_answer_passes, test_wrong_answer_is_named  # noqa: F401

pytestmark = pytest.mark.slow

LESSON = "07_training"


def solution(grade_id: str) -> str:
    return answers.solution(LESSON, grade_id)


def edit(grade_id: str, *changes: tuple[str, str]) -> str:
    """The instructor's solution of `grade_id` with each (old, new) text replaced once."""
    code = solution(grade_id)
    for old, new in changes:
        assert old in code, f"{grade_id}: {old!r} is not in the solution any more"
        code = code.replace(old, new, 1)
    return code


SOFTMAX_SHIFT = "    shifted = z - z.max(axis=-1, keepdims=True)\n"
SGD_STEP = """            if p.grad is None:
                continue
            v *= self.momentum
            v += p.grad
"""
ADAM_T = "        self.t += 1\n        b1, b2 = self.beta1, self.beta2\n"
ADAM_UPDATE = "p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"
TRAIN_ACC = "    accuracy = float((logits.argmax(axis=1) == np.asarray(y)).mean())\n"
EVAL_ACC = TRAIN_ACC

WRONG = [
    # softmax
    pytest.param(
        "training_softmax",
        edit("training_softmax", (SOFTMAX_SHIFT, "    shifted = z\n")),
        "Subtract the max first",
        id="softmax-no-shift",
    ),
    pytest.param(
        "training_softmax",
        edit(
            "training_softmax",
            (SOFTMAX_SHIFT, "    shifted = z - z.mean(axis=-1, keepdims=True)\n"),
        ),
        "subtract the max, not any shift",
        id="softmax-mean-shift",
    ),
    pytest.param(
        "training_softmax",
        edit("training_softmax", (SOFTMAX_SHIFT, "    shifted = z - z.max(axis=-1)\n")),
        "keepdims",
        id="softmax-no-keepdims",
    ),
    pytest.param(
        "training_softmax",
        edit(
            "training_softmax",
            (
                SOFTMAX_SHIFT,
                "    m = z.max(axis=-1)\n"
                "    try:\n"
                "        shifted = z - m\n"
                "    except ValueError:\n"
                "        shifted = (z.T - m).T\n",
            ),
        ),
        "keepdims",
        id="softmax-no-keepdims-square-only",
    ),
    pytest.param(
        "training_softmax",
        edit("training_softmax", (SOFTMAX_SHIFT, "    shifted = z - z.max()\n")),
        "not the max of the whole array",
        id="softmax-global-max",
    ),
    pytest.param(
        "training_softmax",
        edit(
            "training_softmax",
            (SOFTMAX_SHIFT, "    z -= z.max(axis=-1, keepdims=True)\n    shifted = z\n"),
            ("    z = np.asarray(z, dtype=float)\n", ""),
        ),
        "changed its input array",
        id="softmax-in-place",
    ),
    # log_softmax
    pytest.param(
        "training_log_softmax",
        edit("training_log_softmax", (SOFTMAX_SHIFT, "    shifted = z - z.max(axis=-1)\n")),
        "keepdims",
        id="log-softmax-no-keepdims",
    ),
    pytest.param(
        "training_log_softmax",
        edit(
            "training_log_softmax",
            (SOFTMAX_SHIFT, "    shifted = z - z.mean(axis=-1, keepdims=True)\n"),
        ),
        "subtract the max, not any shift",
        id="log-softmax-mean-shift",
    ),
    pytest.param(
        "training_log_softmax",
        "def log_softmax(z):\n    z = np.asarray(z, dtype=float)\n    return np.log(softmax(z))\n",
        "log-sum-exp trick",
        id="log-softmax-log-of-softmax",
    ),
    # SGD
    pytest.param(
        "training_sgd",
        edit(
            "training_sgd", (SGD_STEP, "            v *= self.momentum\n            v += p.grad\n")
        ),
        "skip parameters whose .grad is None",
        id="sgd-no-skip",
    ),
    pytest.param(
        "training_sgd",
        edit(
            "training_sgd",
            (
                SGD_STEP,
                "            v *= self.momentum\n"
                "            if p.grad is not None:\n"
                "                v += p.grad\n",
            ),
        ),
        "velocity and all",
        id="sgd-none-as-zero-keeps-coasting",
    ),
    pytest.param(
        "training_sgd",
        edit("training_sgd", ("p.data -= self.lr * v", "p.data -= self.lr * p.grad")),
        "this is plain SGD",
        id="sgd-plain",
    ),
    pytest.param(
        "training_sgd",
        edit("training_sgd", ("v += p.grad", "v += (1 - self.momentum) * p.grad")),
        "(1 - momentum) * g",
        id="sgd-average",
    ),
    # Adam
    pytest.param(
        "training_adam",
        edit(
            "training_adam",
            (ADAM_T, "        b1, b2 = self.beta1, self.beta2\n"),
            ("            g = p.grad\n", "            g = p.grad\n            self.t += 1\n"),
        ),
        "t counts optimizer steps, not parameters",
        id="adam-t-per-parameter",
    ),
    pytest.param(
        "training_adam",
        edit(
            "training_adam",
            ("self.beta1, self.beta2 = betas", "self.beta1, self.beta2 = 0.9, 0.999"),
            ("self.eps = eps", "self.eps = 1e-8"),
        ),
        "use the betas and eps given to the constructor",
        id="adam-default-betas",
    ),
    pytest.param(
        "training_adam",
        edit(
            "training_adam", (ADAM_UPDATE, "p.data -= self.lr * m_hat / np.sqrt(v_hat + self.eps)")
        ),
        "eps goes outside the square root",
        id="adam-eps-inside-sqrt",
    ),
    pytest.param(
        "training_adam",
        edit("training_adam", (ADAM_UPDATE, "p.data -= self.lr * m / (np.sqrt(v) + self.eps)")),
        "without bias correction",
        id="adam-no-bias-correction",
    ),
    # evaluate
    pytest.param(
        "training_evaluate",
        edit("training_evaluate", ("logits.argmax(axis=1)", "logits.argmax(axis=0)")),
        "axis=1",
        id="evaluate-argmax-axis-0",
    ),
    pytest.param(
        "training_evaluate",
        edit(
            "training_evaluate",
            ("    with no_grad():\n        logits", "    if True:\n        logits"),
        ),
        "no_grad",
        id="evaluate-no-no-grad",
    ),
    pytest.param(
        "training_evaluate",
        edit(
            "training_evaluate", ("F.cross_entropy(logits, y).item()", "F.cross_entropy(logits, y)")
        ),
        "loss.item()",
        id="evaluate-tensor-loss",
    ),
    # train_step
    pytest.param(
        "training_train_step",
        edit(
            "training_train_step",
            (
                TRAIN_ACC,
                "    with no_grad():\n"
                "        after = model(Tensor(X)).argmax(axis=1)\n"
                "        accuracy = float((after == np.asarray(y)).mean())\n",
            ),
        ),
        "before the update",
        id="train-step-accuracy-after-update",
    ),
    pytest.param(
        "training_train_step",
        edit(
            "training_train_step",
            (
                "    return loss.item(), accuracy\n",
                "    with no_grad():\n"
                "        after = F.cross_entropy(model(Tensor(X)), y)\n"
                "    return after.item(), accuracy\n",
            ),
        ),
        "before the update",
        id="train-step-loss-after-update",
    ),
    pytest.param(
        "training_train_step",
        edit("training_train_step", ("    optimizer.zero_grad()\n", "")),
        "zero_grad",
        id="train-step-no-zero-grad",
    ),
    pytest.param(
        "training_train_step",
        edit(
            "training_train_step",
            ("    optimizer.zero_grad()\n", ""),
            ("    loss.backward()\n", "    loss.backward()\n    optimizer.zero_grad()\n"),
        ),
        "zero_grad() at the start of the step",
        id="train-step-zero-after-backward",
    ),
]

RIGHT = [
    pytest.param(
        "training_softmax",
        edit(
            "training_softmax",
            (
                "    shifted = z - z.max(axis=-1, keepdims=True)\n    e = np.exp(shifted)\n",
                "    m = np.max(z, axis=-1, keepdims=True)\n"
                "    lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))\n"
                "    return np.exp(z - lse)\n",
            ),
        ),
        id="softmax-via-lse",
    ),
    pytest.param(
        "training_softmax",
        edit("training_softmax", (SOFTMAX_SHIFT, "    shifted = z - z.max(axis=-1)[..., None]\n")),
        id="softmax-newaxis",
    ),
    pytest.param(
        "training_log_softmax",
        edit(
            "training_log_softmax",
            (
                "    shifted = z - z.max(axis=-1, keepdims=True)\n",
                "    return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)\n",
            ),
        ),
        id="log-softmax-logaddexp",
    ),
    pytest.param(
        "training_sgd",
        edit(
            "training_sgd",
            (
                "self.velocities = [np.zeros_like(p.data) for p in self.params]",
                "self.vel = {id(p): np.zeros_like(p.data) for p in self.params}",
            ),
            (
                """        for p, v in zip(self.params, self.velocities):
            if p.grad is None:
                continue
            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v
""",
                """        for p in self.params:
            if p.grad is not None:
                self.vel[id(p)] = self.momentum * self.vel[id(p)] + p.grad
                p.data = p.data - self.lr * self.vel[id(p)]
""",
            ),
        ),
        id="sgd-dict-of-velocities",
    ),
    pytest.param(
        "training_sgd",
        edit(
            "training_sgd",
            (
                "            p.data -= self.lr * v\n",
                "            with no_grad():\n                p -= self.lr * v\n",
            ),
        ),
        id="sgd-in-place-on-the-tensor-under-no-grad",
    ),
    pytest.param(
        "training_adam",
        edit(
            "training_adam",
            ("self.t = 0", "self.t = 1"),
            (
                ADAM_T,
                "        t = self.t\n"
                "        self.t += 1\n"
                "        b1, b2 = self.beta1, self.beta2\n",
            ),
            ("b1 ** self.t", "b1 ** t"),
            ("b2 ** self.t", "b2 ** t"),
        ),
        id="adam-t-from-one",
    ),
    pytest.param(
        "training_adam",
        edit(
            "training_adam",
            (
                """            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)""",
                """            bc2 = np.sqrt(1 - b2 ** self.t)
            step = self.lr * bc2 / (1 - b1 ** self.t)
            p.data -= step * m / (np.sqrt(v) + self.eps * bc2)""",
            ),
        ),
        id="adam-efficient-form",
    ),
    pytest.param(
        "training_evaluate",
        edit(
            "training_evaluate",
            (EVAL_ACC, "    accuracy = np.mean(logits.argmax(axis=1) == np.asarray(y))\n"),
        ),
        id="evaluate-numpy-float64",
    ),
    pytest.param(
        "training_evaluate",
        edit(
            "training_evaluate",
            (
                """    with no_grad():
        logits = model(Tensor(X))
        loss = F.cross_entropy(logits, y).item()
""",
                """    with no_grad():
        logits = model(Tensor(X))
    loss, _ = cross_entropy(logits.data, y)
""",
            ),
        ),
        id="evaluate-own-cross-entropy",
    ),
    pytest.param(
        "training_train_step",
        edit(
            "training_train_step",
            (TRAIN_ACC, "    accuracy = np.mean(logits.data.argmax(1) == y)\n"),
            ("return loss.item(), accuracy", "return float(loss.data), accuracy"),
        ),
        id="train-step-numpy-float64",
    ),
]
