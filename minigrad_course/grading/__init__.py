"""``minigrad-course grade``: a class's submissions to grades, feedback and a gradebook.

This package imports nothing: the guard (run/guard.py) is imported inside every grading
kernel, by name, and importing it must not bring the grader along.
"""
