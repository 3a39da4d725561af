"""speechsent.utils: the shared helpers (atomic writes, JSON, digests, seeded orders, devices)."""

import hashlib
import json
import os
import stat

import pytest

from speechsent.cli import str2bool
from speechsent.utils import digest, fileio, seeded


def test_file_digest_is_sha256(tmp_path):
    f = tmp_path / "a"
    f.write_bytes(b"abc")
    assert digest.file_digest(f) == hashlib.sha256(b"abc").hexdigest()
    assert digest.file_digest(None) is None and digest.file_digest(tmp_path / "missing") is None
    assert digest.text_digest("abc") == digest.bytes_digest(b"abc") == digest.file_digest(f)


def test_atomic_write_keeps_mode_and_leaves_nothing_on_failure(tmp_path):
    f = tmp_path / "x.txt"
    fileio.atomic_write_text(f, "one\n")
    os.chmod(f, 0o640)
    fileio.atomic_write_text(f, "two\n")
    assert f.read_text() == "two\n" and stat.S_IMODE(f.stat().st_mode) == 0o640

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        fileio.atomic_write(f, broken)
    assert f.read_text() == "two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_json_round_trip_and_errors_name_the_file(tmp_path):
    f = tmp_path / "a.json"
    fileio.write_json(f, {"b": 1, "a": [1.5]})
    assert f.read_text() == json.dumps({"b": 1, "a": [1.5]}, indent=1) + "\n"
    assert fileio.read_json(f) == {"b": 1, "a": [1.5]}
    f.write_text('{\n"a": 1,\n}')
    with pytest.raises(ValueError, match=r"a\.json:3: not valid JSON"):
        fileio.read_json(f)
    assert fileio.read_json_or_none(f) is None and fileio.read_json_or_none(tmp_path / "none") is None


def test_replace_dir_swaps_a_directory(tmp_path):
    dst, tmp = tmp_path / "model", tmp_path / ".model.tmp"
    dst.mkdir()
    (dst / "old").write_text("o")
    tmp.mkdir()
    (tmp / "new").write_text("n")
    fileio.replace_dir(tmp, dst)
    assert [p.name for p in dst.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_seeded_orders_are_frozen():
    """The three keys define published sets: these values must never change (see the module's docstring)."""
    ids = [f"u{i}" for i in range(6)]
    assert seeded.seeded_order(ids, 0) == sorted(
        ids, key=lambda x: hashlib.sha256(b"0\0" + x.encode()).digest()
    )
    assert seeded.seeded_order(ids[:3], 7) == [u for u in seeded.seeded_order(ids, 7) if u in ids[:3]]
    assert seeded.conversation_order(["sw02001", "sw02005", "sw03000"], 0) == sorted(
        ["sw02001", "sw02005", "sw03000"], key=lambda c: hashlib.sha256(f"0:{c}".encode()).hexdigest()
    )
    sides = [f"sw0{2000 + i}-A" for i in range(200)]
    share = seeded.seeded_share(sides, 0.1, 3)
    expected = {s for s in sides if int(hashlib.sha1(f"3:{s}".encode()).hexdigest()[:8], 16) % 10000 < 1000}
    assert share == expected
    assert 5 < len(share) < 40 and seeded.seeded_share(sides, 0, 3) == set()


@pytest.mark.parametrize("text,value", [("true", True), ("True", True), ("1", True), ("yes", True),
                                        ("false", False), ("FALSE", False), ("0", False), ("no", False)])
def test_str2bool(text, value):
    assert str2bool(text) is value


def test_str2bool_refuses_other_words():
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        str2bool("maybe")


def test_resolve_device():
    torch = pytest.importorskip("torch")
    from speechsent.utils.device import DeviceError, resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type in ("cpu", "cuda") and resolve_device("").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="auto, cpu, cuda or cuda:N"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            resolve_device("cuda:0")
