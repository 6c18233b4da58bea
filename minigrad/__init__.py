"""minigrad: automatic differentiation you can read, built lesson by lesson.

The scalar engine (`Value`) comes first; the course's later lessons add a numpy-backed
`Tensor` engine on the same ideas.
"""

from . import datasets, nn
from .engine import Value
from .gradcheck import GradcheckError, gradcheck

__all__ = ["Value", "gradcheck", "GradcheckError", "datasets", "nn"]
__version__ = "0.1.0"
