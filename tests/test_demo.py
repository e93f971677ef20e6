# The demo (the README's first command) on a board-sized heap, from the .mpy
# files a board gets: it must run to its end and show every kind of state.
# On the virtual Pico too: the .mpy files in its /lib, a ballast leaving the
# free heap a 96K unix heap has.
import os
import re
import subprocess

import pytest

from conftest import EXAMPLES, ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.board
def test_demo_on_a_96k_heap_from_mpy(tier, mpy_dir, tmp_path):
    demo = os.path.join(EXAMPLES, "demo.py")
    if tier.name == "pico":
        p = tier.board.run([mpy_dir, EXAMPLES], demo, heap="96K", timeout=180)
    else:
        env = dict(os.environ, TZ="UTC", MICROPYPATH=":".join([mpy_dir, EXAMPLES, ".frozen"]))
        p = subprocess.run(
            [tier.exe, "-X", "heapsize=96K", demo],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    out = ANSI.sub("", p.stdout)
    assert p.returncode == 0, p.stderr[-2000:]
    assert out.rstrip().endswith("all tasks ended")
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
