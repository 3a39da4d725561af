"""The training tasks: one lifecycle (:class:`speechsent.tasks.abs_task.AbsTask`) and its subclasses, the
E2E task (:mod:`speechsent.tasks.e2e`) and the 2-step text task (:mod:`speechsent.tasks.text`), each with a
config dataclass of its options; and the typed manifests they write (:mod:`speechsent.tasks.manifests`).

Light: importing a task module imports no torch (the entry points' ``--help`` stays fast).
"""
