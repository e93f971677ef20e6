# tools/hosttools.py, what every tool builds and runs MicroPython with:
# the parts no tool's own test would notice breaking (a tool that ran a
# wrong heap or lost .frozen would still pass where its figures do not
# depend on them; a syntax error must name the file, as deploy.py prints it).

import os
import time

import pytest

from conftest import hosttools


def test_build_mpy_makes_dest_and_an_mpy_of_each_py(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("X = 1\n")
    (src / "b.py").write_text("import a\nprint('b', a.X)\n")
    (src / "notes.txt").write_text("not a module\n")
    dest = str(tmp_path / "out" / "mpy")
    assert hosttools.build_mpy(dest, str(src)) == dest
    assert sorted(os.listdir(dest)) == ["a.mpy", "b.mpy"]
    # bytecode only, so the .mpy loads wherever the .mpy version matches
    with open(os.path.join(dest, "b.mpy"), "rb") as f:
        assert f.read(3)[2] >> 2 == 0
    p = hosttools.run_mp(["-c", "import b"], path=[dest], timeout=30)
    assert (p.returncode, p.stdout) == (0, "b 1\n"), p.stderr


def test_build_mpy_errors_name_the_file(tmp_path):
    (tmp_path / "ok.py").write_text("X = 1\n")
    (tmp_path / "bad.py").write_text("def f(:\n")
    with pytest.raises(hosttools.BuildError, match=r"(?s)mpy-cross failed on .*bad\.py:\n.*line 1\nSyntaxError"):
        hosttools.build_mpy(str(tmp_path / "out"), str(tmp_path))
    with pytest.raises(hosttools.BuildError, match="no .py files"):
        hosttools.build_mpy(str(tmp_path / "out2"), str(tmp_path / "out"))


def test_run_mp_path_heap_env(tmp_path):
    # The path's directories in order, then .frozen (asyncio imports); the
    # heap as asked; TZ=UTC unless env sets it.
    code = "import sys, gc, asyncio, os\nprint(sys.path)\nprint(gc.mem_free() + gc.mem_alloc())\nprint(os.getenv('TZ'))"
    p = hosttools.run_mp(["-c", code], path=["/x", "/y"], heap="96K", timeout=30)
    assert p.returncode == 0, p.stderr
    path, heap, tz = p.stdout.splitlines()
    assert path.startswith("['', '/x', '/y', '.frozen'")
    assert 90 * 1024 <= int(heap) <= 96 * 1024
    assert tz == "UTC"
    p = hosttools.run_mp(["-c", "import os; print(os.getenv('TZ'))"], env={"TZ": "Europe/Paris"}, timeout=30)
    assert p.stdout == "Europe/Paris\n"


def test_table_pads_numbers_right_text_left():
    assert hosttools.table(("name", "n"), [("ab", 5), ("c", 12)]).splitlines() == [
        "| name | n  |",
        "|------|----|",
        "| ab   |  5 |",
        "| c    | 12 |",
    ]
    assert hosttools.table(("a", "b"), [("long text", 1)], pad=False).splitlines() == [
        "| a | b |", "|---|---|", "| long text | 1 |"]


def test_run_mp_watched_kills_a_silent_or_endless_run():
    # fuzz.py and filefuzz.py: a case that hangs is killed, what it printed kept
    t0 = time.monotonic()
    rc, out, err = hosttools.run_mp_watched(
        ["-c", "import time, sys\nprint('a')\nprint('b', file=sys.stderr)\ntime.sleep(30)"], silence=1)
    assert (rc, out, err) == ("hang", b"a\n", "b\n")
    rc, out, err = hosttools.run_mp_watched(
        ["-c", "import time\nwhile True:\n print('x')\n time.sleep_ms(50)"], silence=10, timeout=1)
    assert rc == "timeout" and out.startswith(b"x\nx\n")
    assert time.monotonic() - t0 < 10
    assert hosttools.run_mp_watched(["-c", "import sys; print('c'); sys.exit(3)"], silence=10) == (3, b"c\n", "")
