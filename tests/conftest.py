"""Test-wide settings.

Hypothesis's per-example deadline (200 ms) measures the machine as much as the code: on a
shared or busy machine a correct test would fail now and then.  Speed is the benchmarks'
business, so the tests run without it.
"""

import pytest
from hypothesis import settings

settings.register_profile("minigrad", deadline=None, print_blob=True)
settings.load_profile("minigrad")


@pytest.fixture(scope="session")
def edition(tmp_path_factory):
    """A student's clone of the edition published from this checkout (tests/edition.py)."""
    from edition import published_clone

    return published_clone(tmp_path_factory.mktemp("edition"))
