"""minigrad.testing: the checks notebook test cells use."""

import numpy as np
import pytest

from minigrad import Value
from minigrad.nn import ValueMLP
from minigrad.testing import check_close, check_own_work, check_true


def test_check_close_names_the_quantity_and_the_hint():
    with pytest.raises(AssertionError, match=r"grad of b is 2, expected 4\. use \+="):
        check_close(2.0, 4.0, "grad of b", "use +=")
    check_close(np.array([1.0, np.nan]), [1.0 + 1e-12, np.nan], "x")


def test_check_close_reports_shape_and_non_numbers():
    with pytest.raises(AssertionError, match=r"has shape \(2,\), expected \(3,\)"):
        check_close([1.0, 2.0], [1.0, 2.0, 3.0], "v")
    with pytest.raises(AssertionError, match="not a number"):
        check_close("two", 2.0, "v")


def test_check_true_raises_its_message():
    check_true(True, "never")
    with pytest.raises(AssertionError, match="the message"):
        check_true(False, "the message")


def test_check_own_work_refuses_the_reference_and_its_subclasses():
    def mine():
        pass

    mine.__module__ = "__main__"
    check_own_work(mine, "mine")
    with pytest.raises(AssertionError, match=r"comes from minigrad\.engine"):
        check_own_work(Value, "Value")

    class Copy(ValueMLP):
        pass

    Copy.__module__ = "__main__"
    with pytest.raises(AssertionError, match="built on minigrad's ValueMLP"):
        check_own_work(Copy, "MLP")
