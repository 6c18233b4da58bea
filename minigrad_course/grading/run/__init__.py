"""Running one notebook: the executor nbgrader uses, the kernel it starts, the guard inside.

This package imports nothing: the guard is imported inside every grading kernel, by name.
"""
