"""speechsent-sph2pipe: convert NIST SPHERE files (shorten-compressed or not), like LDC's sph2pipe v2.5.

Usage::

    speechsent-sph2pipe [-h hdrfile] [-t b:e | -s b:e] [-c 1|2] [-p|-u|-a] [-f typ] [--no_checksum]
                        infile [outfile]

Options (single-dash, as in sph2pipe, but for ``--no_checksum``):

``-f typ``     output format: ``sph`` (the default, as sph2pipe on Unix), ``raw``, ``wav``
               (or ``rif``), ``au``, ``aif`` (or ``mac``); matched on the first letters,
               case-insensitively
``-p|-u|-a``   output 16-bit linear pcm, 8-bit µ-law or 8-bit A-law (default: the input's
               coding; ``aif`` output is always pcm)
``-c 1|2``     output only the first or second channel (ignored for 1-channel input)
``-t b:e``     output the part from ``b`` to ``e`` seconds (floating point; either side may
               be empty): samples ``int(b * rate)`` up to, not including, ``int(e * rate)``;
               an empty or zero ``e``, or one at or past the end, means the end of the file
``-s b:e``     the same in samples: samples ``b`` up to, not including, ``e``
``-h hdrfile`` take the SPHERE header from ``hdrfile``; ``infile`` is then headerless data
``--no_checksum``
               do not verify the header's ``sample_checksum`` (not in sph2pipe, which never
               verifies it; the environment variable ``SPEECHSENT_SPHERE_CHECKSUM=ignore`` does
               the same for every reader of the toolkit)

The output goes to ``outfile``, or to standard output.  Errors print ``speechsent-sph2pipe: FILE:
REASON`` and exit with status 1 (a corrupt or truncated input before anything is written); a usage error
exits with status 2.  When the reader of standard output goes away early (``| head -c 100``) the command
stops quietly.  Output formats, the differences from sph2pipe and the checksum:
:mod:`speechsent.audio.sph2pipe`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from speechsent.audio.sph2pipe import add_arguments, sph2pipe

__all__ = ["get_parser", "main"]

PROG = "speechsent-sph2pipe"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [-h hdrfile] [-t b:e | -s b:e] [-c 1|2] [-p|-u|-a] [-f typ] [--no_checksum] "
        "infile [outfile]",
        description="Convert a NIST SPHERE file (plain or shorten-compressed; pcm, ulaw or alaw) to "
        "SPHERE, WAV, AU, AIFF or raw samples, like LDC's sph2pipe v2.5.",
        add_help=False,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        sph2pipe(
            args.infile,
            args.outfile,
            out_format=args.out_format,
            out_coding=args.coding,
            channel=None if args.channel is None else int(args.channel) - 1,
            seconds=args.seconds,
            samples=args.samples,
            header_file=args.header_file,
            verify_checksum=None if args.verify_checksum else False,
        )
    except BrokenPipeError:
        # The reader went away (e.g. `| head -c 100`): stop quietly, and keep Python from
        # complaining again when it flushes standard output at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as error:
        where = error.filename if error.filename is not None else args.infile
        print(f"{PROG}: {where}: {error.strerror or error}", file=sys.stderr)
        return 1
    except ValueError as error:  # SphereError is a ValueError and already names the file
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
