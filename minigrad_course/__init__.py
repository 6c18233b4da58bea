"""Instructor tooling behind the ``minigrad-course`` command.

``release`` regenerates the student notebooks in ``course/`` from the instructor notebooks
in ``solutions/``; ``check`` proves the two agree and that grading works end to end.  Both
drive nbgrader (a course extra: ``pip install 'minigrad-course[course]'``); nothing here
re-implements it.
"""
