# tools/killsave.py: a process that saves its schedules all the time
# (aiostore) is killed at random moments; each restart must load them all.

import os

from conftest import tool_module


def test_killed_while_saving_the_file_always_loads(mp, capsys):
    # tools/killsave.py, short: a process saving all the time is killed at
    # random moments; each restart must load every schedule. KILLS=300 for
    # the README's run.
    killsave = tool_module("killsave")
    rows, ok = killsave.run(int(os.environ.get("KILLS", "25")), mp.kind == "mpy", exe=mp.exe)
    with capsys.disabled():
        print("\n" + killsave.table(rows, ok))
    assert ok
