# tools/deploy.py: .mpy files onto a board (the virtual one, conftest.py's
# `board` fixture), and what it refuses.

import os
import subprocess
import sys

import pytest

from conftest import MODULES, ROOT, tool_module
from helpers import check_status


def test_deploy_mpy(board, tmp_path_factory):
    build = str(tmp_path_factory.mktemp("build"))
    # A stale source copy would be imported before the .mpy next to it.
    os.makedirs(board.path("lib"), exist_ok=True)
    with open(board.path("lib", "aioctl.py"), "w") as f:
        f.write("raise ImportError('stale aioctl.py')\n")
    p = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--device", board.dev, "--build", build],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "removed aioctl.py" in p.stdout
    for m in MODULES:
        assert "%s.mpy" % m[:-3] in p.stdout
    assert sorted(os.listdir(board.path("lib"))) == sorted(m[:-3] + ".mpy" for m in MODULES)
    check_status(board.mpremote("run", "examples/board_check.py"))
    assert board.exec("import aioctl; print(aioctl.__file__)").strip() == "/lib/aioctl.mpy"


def test_deploy_refuses(tmp_path):
    deploy = tool_module("deploy")
    board = 6 | 3 << 8 | 2 << 10  # sys.implementation._mpy here: v6.3, x64
    deploy.check_compatible(board, (6, 0, 0, 31))  # bytecode: sub-version ignored
    deploy.check_compatible(6 | 2 << 8, (6, 0, 0, 31))
    for sys_mpy, header in [
        (None, (6, 0, 0, 31)),  # no .mpy support
        (5 | 2 << 10, (6, 0, 0, 31)),  # older MicroPython
        (board, (6, 3, 9, 31)),  # native code for xtensa
        (6 | 2 << 8 | 2 << 10, (6, 3, 2, 31)),  # native code, other sub-version
    ]:
        with pytest.raises(deploy.DeployError):
            deploy.check_compatible(sys_mpy, header)
    p = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "deploy.py"), "--device", "/dev/no-such-board",
         "--build", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode != 0
    assert "deploy: error:" in p.stderr and "/dev/no-such-board" in p.stderr
