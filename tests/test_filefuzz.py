# File fuzz of aiostore, short: tools/filefuzz.py's mutated schedules files
# (values, record lengths, counts and duplicate names, cuts, junk bytes, line
# ends, long lines, bad checksums, headers; formats 1 and 2), each read at a
# boot of the real library in the unix port. No case may hang or crash, every
# record dropped is named with its field, and only a proven-corrupt file is
# set aside. The bugs it found have reproducers in tests/test_aiostore.py.
#
#   FILEFUZZ_CASES=1000 FILEFUZZ_SEED=2 .venv/bin/python -m pytest tests/test_filefuzz.py -q
#   .venv/bin/python tools/filefuzz.py --cases 1000     # the long run, with a table
#
# On the 64-bit tier only: the reading is the same code on 32 bits (the tool
# takes --micropython PATH for the 32-bit port).

import os
import time

import pytest

from conftest import tool_module

filefuzz = tool_module("filefuzz")

CASES = int(os.environ.get("FILEFUZZ_CASES", "150"))
SEED = int(os.environ.get("FILEFUZZ_SEED", "1"))


def test_file_fuzz(mp, capsys):
    if mp.tier != "unix64":
        pytest.skip("the file fuzz runs on the 64-bit tier")
    t = time.monotonic()
    res = filefuzz.run(CASES, SEED, libdir=mp.libdir, exe=mp.exe)
    text, ok = filefuzz.table(res)
    with capsys.disabled():  # the figures, in CI's log too
        print("\nfilefuzz: %s, seed %d, %d cases on %s, %.0f s\n%s" % (
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), SEED, CASES, mp.kind, time.monotonic() - t, text))
    assert len(res) == CASES, text
    assert ok, text
