"""Helpers every part of speechsent shares, each defined once (stdlib only, except :mod:`.device`).

- :mod:`.fileio`: atomic file and directory writes, JSON read/write.
- :mod:`.digest`: content digests (SHA-256, the one hash of every stamp and fingerprint).
- :mod:`.seeded`: seeded, machine-independent orders and selections.
- :mod:`.device`: ``auto``/``cpu``/``cuda[:N]`` → a ``torch.device`` (imports torch when called).
- :mod:`.errors`: a library's exception as one short line (:func:`.errors.one_line`).

Boolean command-line values are :func:`speechsent.cli.str2bool`.
"""
