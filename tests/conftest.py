"""Test-wide settings.

Hypothesis's per-example deadline (200 ms) measures the machine as much as the code: on a
shared or busy machine a correct test would fail now and then.  Speed is the benchmarks'
business, so the tests run without it.
"""

from hypothesis import settings

settings.register_profile("minigrad", deadline=None, print_blob=True)
settings.load_profile("minigrad")
