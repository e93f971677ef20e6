# The soak test (tools/soak.py) in its quick modes: 50 tasks of every kind for
# 20 s on the MicroPython unix port, from .mpy, on each tier (on 32-bit,
# objects take a board's room), on the default heap (-X heapsize, a
# board's): the plain mix, and the mix with the hog that fills the heap every
# few seconds (--hog); every check in the table must pass.
import os
import re
import subprocess
import sys

from conftest import ROOT

SOAK = os.path.join(ROOT, "tools", "soak.py")


def soak(tier, capsys, *args):
    p = subprocess.run(
        [sys.executable, SOAK, "--seconds", "20", "--mpy", "--micropython", tier.exe] + list(args),
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    out = p.stdout
    with capsys.disabled():  # the figures, in the test log too
        print("\n" + "\n".join(line for line in out.splitlines() if line.startswith(("soak", "|"))))
    assert p.returncode == 0, out[-6000:] + p.stderr[-2000:]
    assert "| check " in out and "| result |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| check ")]
    assert len(rows) > 30, out
    assert not [r for r in rows if r.rstrip().endswith("| FAIL   |")], out
    assert out.rstrip().endswith("soak: all checks passed"), out[-2000:]
    return out, rows


def test_soak_quick_mpy(tier, capsys):
    out, rows = soak(tier, capsys)
    assert re.search(r"^soak: 20 s, modules \.mpy, heap 116K, .*; started ", out, re.M), out[-2000:]


def test_soak_hog_quick_mpy(tier, capsys):
    out, rows = soak(tier, capsys, "--hog")
    assert re.search(r"^soak: 20 s, modules \.mpy, heap 130K, .*; started .*; hog: ", out, re.M), out[-2000:]
    for what in ("loops (sl, wl) never died", "records RUNNING with no live run", "hog spikes",
                 "Task exception wasn't retrieved", "runs in task + failed starts = scheduler's runs"):
        assert [r for r in rows if what in r and r.rstrip().endswith("| ok     |")], what + "\n" + out
