"""Higher-order gradients and forward mode against PyTorch: Hessians and Hessian-vector
products (``torch.autograd.grad`` with ``create_graph=True``), second derivatives of each op
along a random direction, and ``jvp`` against ``torch.func.jvp``.  All float64, on the same
numbers; tolerances as in test_tensor_torch_parity.py, a little looser for Hessians, whose
entries are sums of many products computed in different orders.

Skipped when torch is not installed.
"""

# ruff: noqa: E501  (the table of cases reads best one case per line)

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad import functional as F  # noqa: N812

torch = pytest.importorskip("torch")
TF = torch.nn.functional

pytestmark = [
    pytest.mark.torch,
    # torch.func warns about its own use of torch.jit, which is not ours to fix
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]

RTOL = 1e-10
ATOL = 1e-12


def close(actual, expected, rtol=RTOL, atol=ATOL):
    actual = actual.data if isinstance(actual, Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


# Each case: (name, minigrad function, torch function, input shapes, input sampler)
def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def normal(rng, shape):
    return rng.normal(size=shape)


def nonzero(rng, shape):
    return rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1, 1], size=shape)


CASES = [
    ("add_mul", lambda a, b: (a + b) * a * b, lambda a, b: (a + b) * a * b, [(2, 3), (3,)], normal),
    ("sub_div", lambda a, b: (a - b) / b, lambda a, b: (a - b) / b, [(2, 3), (2, 1)], nonzero),
    ("pow", lambda a, b: a**b, lambda a, b: a**b, [(3,), (3,)], positive),
    ("pow_number", lambda a: a**3 + 2.0**a, lambda a: a**3 + 2.0**a, [(4,)], normal),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (3, 4)], normal),
    ("batched_matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 2, 3), (3,)], normal),
    ("exp", lambda a: a.exp(), torch.exp, [(2, 3)], normal),
    ("log", lambda a: a.log(), torch.log, [(2, 3)], positive),
    ("tanh", lambda a: a.tanh(), torch.tanh, [(2, 3)], normal),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, [(2, 3)], normal),
    ("relu", lambda a: a.relu() * a, lambda a: torch.relu(a) * a, [(2, 3)], nonzero),
    ("abs", lambda a: a.abs() * a, lambda a: torch.abs(a) * a, [(2, 3)], nonzero),
    ("sum", lambda a: a.sum(axis=1) ** 2, lambda a: a.sum(dim=1) ** 2, [(2, 3)], normal),
    ("mean", lambda a: a.mean(axis=0) ** 3, lambda a: a.mean(dim=0) ** 3, [(2, 3)], normal),
    ("max", lambda a: a.max(axis=1) ** 2, lambda a: a.amax(dim=1) ** 2, [(2, 3)], normal),
    ("reshape_T", lambda a: (a.reshape(3, 2).T * a).tanh(), lambda a: (a.reshape(3, 2).T * a).tanh(), [(2, 3)], normal),
    ("index", lambda a: a[[0, 0, 1], [2, 2, 0]] ** 3, lambda a: a[[0, 0, 1], [2, 2, 0]] ** 3, [(2, 3)], normal),
    ("concat", lambda a, b: mg.concatenate([a * b, b**2], 0).exp(), lambda a, b: torch.cat([a * b, b**2], 0).exp(), [(2, 3), (1, 3)], normal),
    ("softmax", lambda a: F.softmax(a, axis=-1), lambda a: torch.softmax(a, dim=-1), [(2, 4)], normal),
    ("log_softmax", lambda a: F.log_softmax(a, axis=0), lambda a: torch.log_softmax(a, dim=0), [(3, 4)], normal),
    ("cross_entropy", lambda a: F.cross_entropy(a, [1, 0, 3]), lambda a: TF.cross_entropy(a, torch.tensor([1, 0, 3])), [(3, 4)], normal),
    ("bce", lambda a: F.binary_cross_entropy_with_logits(a, np.full((2, 3), 0.3)), lambda a: TF.binary_cross_entropy_with_logits(a, torch.full((2, 3), 0.3, dtype=torch.float64)), [(2, 3)], normal),
    ("linear", lambda x, w, b: F.linear(x, w, b).tanh(), lambda x, w, b: TF.linear(x, w, b).tanh(), [(2, 3), (4, 3), (4,)], normal),
]  # fmt: skip


def inputs_for(case, seed=0):
    _, _, _, shapes, sampler = case
    rng = np.random.default_rng(seed)
    return [sampler(rng, s) for s in shapes]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivative_along_a_direction_matches_pytorch(case):
    """d/dx [ grad(w . f(x)) . u ] for random w and u: every op's backward, recorded and
    differentiated again."""
    _, ours, theirs, _, _ = case
    values = inputs_for(case)
    rng = np.random.default_rng(1)
    xs = [Tensor(v, requires_grad=True) for v in values]
    ys = [t(v).requires_grad_() for v in values]
    out, out_t = ours(*xs), theirs(*ys)
    w = rng.normal(size=out.shape)
    us = [rng.normal(size=v.shape) for v in values]

    grads = mg.grad((out * w).sum(), xs, create_graph=True)
    grads_t = torch.autograd.grad((out_t * t(w)).sum(), ys, create_graph=True)
    for g, gt in zip(grads, grads_t):
        close(g, gt)
    total = sum((g * u).sum() for g, u in zip(grads, us))
    total_t = sum((g * t(u)).sum() for g, u in zip(grads_t, us))
    second = mg.grad(total, xs, allow_unused=True)
    second_t = torch.autograd.grad(total_t, ys, allow_unused=True)
    for s, st_, v in zip(second, second_t, values):
        close(np.zeros_like(v) if s is None else s, np.zeros_like(v) if st_ is None else st_)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_torch_func_jvp(case):
    _, ours, theirs, _, _ = case
    values = inputs_for(case, seed=2)
    rng = np.random.default_rng(3)
    tangents = [rng.normal(size=v.shape) for v in values]
    out, dot = mg.jvp(ours, [Tensor(v) for v in values], tangents)
    out_t, dot_t = torch.func.jvp(
        theirs, tuple(t(v) for v in values), tuple(t(d) for d in tangents)
    )
    close(out, out_t)
    close(dot, dot_t)


def small_mlp_loss():
    net = mg.nn.MLP(3, [6, 6, 3], seed=4)
    layers = [m for m in net.modules() if isinstance(m, mg.nn.Linear)]
    targets = np.array([2, 0])

    def ours(x):
        return F.cross_entropy(net(x), targets)

    weights = [(t(layer.weight.data), t(layer.bias.data)) for layer in layers]

    def theirs(x):
        for i, (w, b) in enumerate(weights):
            x = TF.linear(x, w, b)
            if i < len(weights) - 1:
                x = torch.tanh(x) if net_uses_tanh(net) else torch.relu(x)
        return TF.cross_entropy(x, torch.tensor(targets))

    return ours, theirs


def net_uses_tanh(net):
    return any(isinstance(m, mg.nn.Tanh) for m in net.modules())


def test_hessian_of_an_mlp_loss_with_respect_to_its_inputs_matches_pytorch():
    ours, theirs = small_mlp_loss()
    x = np.random.default_rng(5).normal(size=(2, 3))
    H = mg.hessian(ours, x)
    H_t = torch.autograd.functional.hessian(theirs, t(x))
    assert H.shape == (2, 3, 2, 3)
    close(H, H_t)


def test_hessian_vector_product_of_an_mlp_loss_matches_pytorch():
    ours, theirs = small_mlp_loss()
    rng = np.random.default_rng(6)
    x, v = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    hv = mg.hvp(ours, x, v)
    x_t = t(x).requires_grad_()
    (g_t,) = torch.autograd.grad(theirs(x_t), x_t, create_graph=True)
    (hv_t,) = torch.autograd.grad((g_t * t(v)).sum(), x_t)
    close(hv, hv_t)


def test_hessian_of_a_smooth_function_of_a_matrix_matches_pytorch():
    def ours(x):
        return (x @ x.T).tanh().sum() + (x.exp() * x).mean()

    def theirs(x):
        return torch.tanh(x @ x.T).sum() + (torch.exp(x) * x).mean()

    x = np.random.default_rng(7).normal(size=(2, 3))
    close(mg.hessian(ours, x), torch.autograd.functional.hessian(theirs, t(x)))
