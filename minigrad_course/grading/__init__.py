"""``minigrad-course grade``: a class's submissions to grades, feedback and a gradebook.

The flow, and the module of each step, are described in minigrad_course/__init__.py;
``grade`` (pipeline.py) runs it.

This package imports nothing: the guard (run/guard.py) is imported inside every grading
kernel, by name, and importing it must not bring the grader along.
"""
