"""speechsent.kaldi.table's streamed subset reader (read_table itself: test/kaldi/test_data_dir.py)."""

from __future__ import annotations

import re

import pytest


def test_read_table_keys_is_read_table_restricted_to_the_keys(tmp_path):
    """The streamed subset reader: the same entries as read_table for the keys asked, in file order, and
    the same errors (with file and line) for what read_table refuses anywhere in the file."""
    from speechsent.kaldi.table import KaldiDataError, read_table, read_table_keys

    path = tmp_path / "text"
    path.write_text("u3 hello  world\nu1 x\nu2\nu4 tab\tsep\n", encoding="utf-8")
    full = read_table(path)
    keys = {"u1", "u2", "u4", "absent"}
    assert read_table_keys(path, keys) == {k: v for k, v in full.items() if k in keys}
    assert list(read_table_keys(path, keys)) == ["u1", "u2", "u4"]
    for content, message, line in (
        ("u1 a\n\nu2 b\n", "empty line", 2),
        ("u1 a\r\nu2 b\r\n", "carriage return", 1),
        ("u1 a\nu1 b\n", "duplicate key 'u1' (first on line 1)", 2),
    ):
        path.write_text(content, encoding="utf-8", newline="")
        with pytest.raises(KaldiDataError, match=re.escape(message)) as error:
            read_table_keys(path, {"u1"})
        assert error.value.lineno == line
    path.write_text("u9 a\nu9 b\nu1 c\n", encoding="utf-8")
    assert read_table_keys(path, {"u1"}) == {"u1": "c"}  # duplicates of other keys: not this job's business
