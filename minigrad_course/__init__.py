"""Instructor tooling behind the ``minigrad-course`` command.

``release`` regenerates the student notebooks in ``course/`` from the instructor notebooks
in ``solutions/``; ``check`` proves the two agree and that grading works end to end;
``publish`` writes the student edition; ``grade`` grades a class.  They drive nbgrader (a
course extra: ``pip install 'minigrad-course[course]'``); nothing here re-implements it.

cli.py parses the command line and hands each command to its module: release.py,
check.py, publish.py, and the grading/ package.  course.py knows where things are in a
course (its root, its assignments, their notebooks); notebooks.py reads and writes
notebooks in one normalized form.

Grading is a flow, and grading/ has a module per step, named for it.  One submission (a
student's assignment) goes through them in this order:

    grading/pipeline.py        ``grade``: the whole class, start to end, and OUT at the end
    grading/collect.py         collect: the submissions, from folders or LMS zips, as units
    grading/nbgrader_setup.py  nbgrader set up once (template workspace, class gradebook)
    grading/workers.py         ``--jobs`` processes on this machine, grading unit after unit
    grading/submission.py      one submission, top to bottom, through the next four steps:
    grading/tamper.py            read each notebook and put its released tests back
    grading/run/                 run it: execute.py (the executor nbgrader uses), kernel.py
                                 (the kernel's launcher and limits), bubblewrap.py (the
                                 sandbox the launcher starts the kernel in), sandbox.py (the
                                 kernel's folder), guard.py (inside the kernel), report.py
                                 (what the run saw)
    grading/verdict.py           judge it: status, scores, detail
    grading/feedback.py          the student's page, without hidden tests
    grading/gradebook.py       every result into the class gradebook
    grading/out.py             OUT: its checks, and a submission's files moved into it
    grading/results.py         a notebook's result, and grades.csv and tests.csv

Beside the flow: grading/progress.py (the terminal's lines), grading/scratch.py (the run's
scratch folders) and grading/signals.py (Ctrl-C and SIGTERM).

Why a package for grading, when release, check and publish are a module each: grading is
most of the tooling, and its modules read as steps only among themselves.  Why run/: it is
everything that touches the student's kernel, which the bubblewrap sandbox wraps (around
the launcher's command in the kernelspec); and workers.py is the only module that knows
the grading happens in local processes, so another engine (a cluster) sits beside it,
taking the same units from the pipeline.
"""
