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


# --- the answer catalogues (tests/test_answers_*.py; see tests/lesson_answers.py) ----------


@pytest.fixture(scope="module")
def lesson(request):
    """The catalogue's lesson, run once in a kernel for all of the file's answers."""
    from lesson_answers import Lesson, lesson_of

    with Lesson(lesson_of(request.module.__name__)) as lesson:
        yield lesson


def pytest_generate_tests(metafunc):
    """The catalogue's WRONG answers for test_wrong_answer_is_named, its RIGHT ones for
    test_right_answer_passes."""
    if metafunc.function.__name__ == "test_wrong_answer_is_named":
        metafunc.parametrize(("grade_id", "code", "phrase"), metafunc.module.WRONG)
    elif metafunc.function.__name__ == "test_right_answer_passes":
        metafunc.parametrize(("grade_id", "code"), metafunc.module.RIGHT)
