# The library as a package: package.json and manifest.py list lib/, and mip
# (through mpremote, and on the board itself) installs it onto a virtual
# board (conftest.py's `board` fixture) where examples/board_check.py runs.

import json
import os

from conftest import MODULES, ROOT, serve_http
from helpers import check_status, read


def host_dirs():
    # Where an unmapped unix port would put /lib and mip's default target.
    snap = {}
    for d in ("/lib", os.path.expanduser("~/.micropython/lib")):
        snap[d] = sorted(f for f in os.listdir(d) if f in MODULES) if os.path.isdir(d) else None
    return snap


def test_mip_install_and_run(board):
    before = host_dirs()
    out = board.mpremote("mip", "install", "./package.json")
    assert "Done" in out, out
    assert sorted(os.listdir(board.path("lib"))) == sorted(MODULES)
    for m in MODULES:
        assert read(board.path("lib", m)) == read(os.path.join(ROOT, "lib", m))
    assert host_dirs() == before
    check_status(board.mpremote("run", "examples/board_check.py"))


def test_mip_on_board(board):
    with serve_http(ROOT) as base:
        out = board.exec("import mip; mip.install(%r)" % (base + "/package.json"), timeout=20)
    assert "Done" in out, out
    assert sorted(os.listdir(board.path("lib"))) == sorted(MODULES)
    check_status(board.mpremote("run", "examples/board_check.py"))


def test_package_files_agree():
    with open(os.path.join(ROOT, "package.json")) as f:
        pkg = json.load(f)
    assert sorted(dest for dest, _ in pkg["urls"]) == sorted(MODULES)
    for dest, src in pkg["urls"]:
        assert src == "lib/" + dest and os.path.isfile(os.path.join(ROOT, src))
    # manifest.py is run by MicroPython's manifest tool; stand in for it.
    seen = {}
    with open(os.path.join(ROOT, "manifest.py")) as f:
        code = f.read()
    exec(
        code,
        {
            "metadata": lambda **kw: seen.update(kw),
            "module": lambda name, base_path=".": seen.setdefault("modules", []).append(
                os.path.join(base_path, name)
            ),
        },
    )
    assert seen["version"] == pkg["version"]
    assert sorted(seen["modules"]) == sorted("lib/" + m for m in MODULES)
