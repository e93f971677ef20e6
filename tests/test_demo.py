# The demo (the README's first command) on a board-sized heap, from the .mpy
# files a board gets: it must run to its end and show every kind of state,
# with no MemoryError anywhere. 96K on the 32-bit port and on the virtual
# Pico (the .mpy files in its /lib, a ballast leaving the free heap a 96K
# 32-bit unix heap has); 108K on the 64-bit port, whose objects take twice
# the room (at 96K its debug status() fails now and then, and the watcher
# restarts the conductor: the demo runs twice). It was 104K until issue 16
# made the name maps and the heap of small pieces (4.5 KB more to import):
# since, the smallest heap it ran at was 100K, and 104K failed once under
# load (a MemoryError in the conductor).
import os
import re
import subprocess

import pytest

from conftest import EXAMPLES, ROOT
from helpers import plain


@pytest.mark.board
def test_demo_on_a_board_sized_heap_from_mpy(tier, mpy_dir, tmp_path):
    demo = os.path.join(EXAMPLES, "demo.py")
    heap = "108K" if tier.name == "unix64" else "96K"
    if tier.name == "pico":
        p = tier.board.run([mpy_dir, EXAMPLES], demo, heap=heap, timeout=180)
    else:
        env = dict(os.environ, TZ="UTC", MICROPYPATH=":".join([mpy_dir, EXAMPLES, ".frozen"]))
        p = subprocess.run(
            [tier.exe, "-X", "heapsize=" + heap, demo],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    out = plain(p.stdout)
    assert p.returncode == 0, p.stderr[-2000:]
    assert out.rstrip().endswith("all tasks ended")
    assert "MemoryError" not in out, out[-3000:]
    assert out.count("=== t=0.5 s") == 1  # the conductor ran once
    for pattern in (
        r"● test: status: scheduled @ .* --> result: \n    ┗━► schedule: starts in ",
        r"● test: status: scheduled - done @ .* --> result: 42\n    ┗━► schedule: last @ .* --> next in ",
        r"● flaky: status: (ERROR|running) .*\n    ┗━► restarts: \d",
        r"\[flaky\] restarted by watcher_loop \(2\)",
        r"● blink: status: stopped @ ",
        r"● test_from: status: .*\n(.*\n)*    ┗━► schedule: every 3 s, runs: \d, skipped: 0",
        r"    ┗━► traceback:\n          flaky: Traceback",
        r"● upload: status: running .*\n    ┗━► schedule: .*\n    ┗━► progress: \[#+-*\] \d+% uploading",
        r"\[upload\] failed; retry 1 of 2 in 0\.2 s",
        r"\[upload\] done after 2 tries",
        r"● upload: status: scheduled - done @ .* --> result: 'uploaded'\n.*\n    ┗━► attempt 2 of 3",
        r"\[door\] opened: started by an interrupt",
    ):
        assert re.search(pattern, out), pattern
