# The soak test (tools/soak.py) in its quick mode: 50 tasks of every kind for
# 20 s on the MicroPython unix port, from .mpy, on a 96K heap (-X
# heapsize=96K, a board's), on each tier (on 32-bit, objects take a board's
# room); every check in its table must pass.
import os
import re
import subprocess
import sys

from conftest import ROOT

SOAK = os.path.join(ROOT, "tools", "soak.py")


def test_soak_quick_mpy(tier, capsys):
    p = subprocess.run(
        [sys.executable, SOAK, "--seconds", "20", "--mpy", "--micropython", tier.exe],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    out = p.stdout
    with capsys.disabled():  # the figures, in the test log too
        print("\n" + "\n".join(line for line in out.splitlines() if line.startswith(("soak", "|"))))
    assert p.returncode == 0, out[-6000:] + p.stderr[-2000:]
    assert re.search(r"^soak: 20 s, modules \.mpy, heap 96K, .*; started ", out, re.M), out[-2000:]
    assert "| check " in out and "| result |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| check ")]
    assert len(rows) > 30, out
    assert not [r for r in rows if r.rstrip().endswith("| FAIL   |")], out
    assert out.rstrip().endswith("soak: all checks passed"), out[-2000:]
