"""minigrad: automatic differentiation you can read, built lesson by lesson.

The scalar engine (`Value`) comes first; the numpy-backed `Tensor` engine builds on the same
ideas, with broadcasting, matrix products, and PyTorch's names.
"""

from . import datasets, functional, nn, optim
from .autodiff import checkpoint, grad, graph_memory, hessian, hvp, jvp
from .dual import Dual
from .engine import Value
from .gradcheck import GradcheckError, gradcheck
from .modes import enable_grad, is_grad_enabled, no_grad
from .ops import concatenate, stack, where
from .tensor import Tensor

__all__ = [
    "Value",
    "Tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "concatenate",
    "stack",
    "where",
    "grad",
    "hvp",
    "hessian",
    "jvp",
    "Dual",
    "checkpoint",
    "graph_memory",
    "gradcheck",
    "GradcheckError",
    "datasets",
    "functional",
    "nn",
    "optim",
]
__version__ = "0.1.0"
