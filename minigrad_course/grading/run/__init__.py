"""Running one notebook, and everything that touches the student's kernel.

nbgrader runs the notebook with our executor (execute.py), which starts the kernel in a
folder of its own (sandbox.py) from the grading kernelspec, whose launcher lowers the
kernel's resource limits (kernel.py) and starts it in a bubblewrap sandbox that sees that
folder and nothing else (bubblewrap.py); inside the kernel, the guard puts back what tests
rely on (guard.py); the executor notes what happened in the run's report (report.py).

This package imports nothing: the guard is imported inside every grading kernel, by name.
"""
