"""A corpus in the LDC layouts whose SPHERE files another tool wrote: every ``*.sph`` of a corpus tree decoded
and written again by libsndfile (through soundfile, ``format="NIST"``), everything else copied as it is.

libsndfile writes its own SPHERE headers (``sample_n_bytes -s1 1`` for µ-law, its own field order, no
``sample_checksum``, no shorten), so a recipe run on the result reads audio that speechsent did not write.
Used by ``test_outside_written_corpus.py``; also a command, for the full-size check of the demo recipe:

    python test/egs/rewrite_corpus_sphere.py SRC_CORPUS DST_CORPUS [--subtype ULAW|ALAW|PCM_16]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def rewrite_corpus(src: Path, dst: Path, subtype: str = "ULAW") -> int:
    """Copy ``src`` to ``dst``, every SPHERE file rewritten by libsndfile; returns how many were rewritten."""
    import soundfile

    from speechsent.audio.sphere import read_sphere

    count = 0
    for path in sorted(src.rglob("*")):
        out = dst / path.relative_to(src)
        if path.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".sph":
            shutil.copyfile(path, out)
            continue
        samples, rate = read_sphere(path)  # int16 (num_samples, channels), µ-law/shorten expanded as sph2pipe
        soundfile.write(out, samples, rate, format="NIST", subtype=subtype)
        count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--subtype", default="ULAW", choices=("ULAW", "ALAW", "PCM_16"))
    args = parser.parse_args(argv)
    count = rewrite_corpus(args.src, args.dst, args.subtype)
    print(f"{count} SPHERE files rewritten by libsndfile ({args.subtype}) into {args.dst}")


if __name__ == "__main__":
    main()
