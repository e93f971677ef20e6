# End-to-end tests with the board tools: tools/vboard.py runs the unix port
# behind a pty, and stock mpremote, tools/deploy.py and mip talk to it as to a
# USB board. The board runs on each tier (conftest.py's `tier` fixture: the
# 64-bit unix port, and the 32-bit one where present); the other fixtures
# live here.

import importlib.util
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from conftest import MPREMOTE, Board, serve_http

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a board gets: every module in lib/ (package.json and manifest.py must
# list the same).
MODULES = sorted(f for f in os.listdir(os.path.join(ROOT, "lib")) if f.endswith(".py"))

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.path.exists(MPREMOTE)),
    reason="needs Linux ptys and mpremote in the venv",
)


@pytest.fixture
def board(tmp_path, tier):
    b = Board(tmp_path, tier.exe)
    yield b
    b.close()
    assert b.proc.returncode == 0, b.proc.stderr.read().decode()
    # The board wrote nothing next to its directory.
    assert os.listdir(b.tmp) == ["board"]


def host_dirs():
    # Where an unmapped unix port would put /lib and mip's default target.
    snap = {}
    for d in ("/lib", os.path.expanduser("~/.micropython/lib")):
        snap[d] = sorted(f for f in os.listdir(d) if f in MODULES) if os.path.isdir(d) else None
    return snap


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_status(out):
    assert "● " in out, out
    assert "result: 42" in out, out
    assert "ValueError" in out, out


def test_mip_install_and_run(board):
    before = host_dirs()
    out = board.mpremote("mip", "install", "./package.json")
    assert "Done" in out, out
    assert sorted(os.listdir(board.path("lib"))) == sorted(MODULES)
    for m in MODULES:
        assert read(board.path("lib", m)) == read(os.path.join(ROOT, "lib", m))
    assert host_dirs() == before
    check_status(board.mpremote("run", "examples/board_check.py"))


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


def load_deploy():
    spec = importlib.util.spec_from_file_location("deploy", os.path.join(ROOT, "tools", "deploy.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.dont_write_bytecode, old = True, sys.dont_write_bytecode
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.dont_write_bytecode = old
    return mod


def test_deploy_refuses(tmp_path):
    deploy = load_deploy()
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


def test_soft_reset_and_resume(board):
    board.exec("x = 1")
    assert board.exec("print('x' in globals())", resume=True).strip() == "True"
    # connect soft-resets; so does the explicit command
    assert board.exec("print('x' in globals())").strip() == "False"
    board.exec("x = 1", resume=True)
    board.mpremote("soft-reset", resume=True)
    assert board.exec("print('x' in globals())", resume=True).strip() == "False"
    # A program that ends with sys.exit() resets the board, as on hardware.
    assert "bye" in board.exec("import sys; print('bye'); sys.exit(3)")
    assert board.exec("print(1+1)", resume=True).strip() == "2"


def test_fs_round_trip(board, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fs")
    data = bytes(range(256)) * 12 + b"\r\n\x03\x04 end"
    src, back = os.path.join(tmp, "data.bin"), os.path.join(tmp, "back.bin")
    with open(src, "wb") as f:
        f.write(data)
    board.mpremote("fs", "mkdir", ":/d", "+", "fs", "cp", src, ":/d/data.bin", "+", "fs", "cp", ":d/data.bin", back)
    assert read(back) == data
    assert read(board.path("d", "data.bin")) == data
    assert "%d data.bin" % len(data) in board.mpremote("fs", "ls", ":/d")
    # ".." stops at the board's root, as on a board
    board.exec("open('/../../x.txt', 'w').write('x')")
    assert read(board.path("x.txt")) == b"x"
    board.mpremote("fs", "rm", ":/d/data.bin", "+", "fs", "rmdir", ":/d", "+", "fs", "rm", ":x.txt")
    assert sorted(os.listdir(board.dir)) == ["lib"]


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_program(board, how):
    p = subprocess.Popen(
        [MPREMOTE, "connect", board.dev, "exec", "print('looping')\nwhile True:\n pass"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        assert ready and b"looping" in p.stdout.readline()
    finally:
        p.send_signal(how)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            # mpremote itself hung on the way out (seen on a loaded machine):
            # what matters here is the board, below.
            p.kill()
            p.wait(10)
    # The loop still runs on the board; the next client's Ctrl-C stops it.
    assert board.exec("print(1+1)", timeout=10).strip() == "2"
    assert board.exec("print(2+2)", resume=True, timeout=10).strip() == "4"


def test_repl(board):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(MPREMOTE, [MPREMOTE, "connect", board.dev, "repl"])

    rest = [b""]  # read past the last match: "soft reboot" and the prompt may come in one read

    def expect(text, timeout=5):
        out = rest[0]
        end = time.monotonic() + timeout
        while text.encode() not in out:
            ready, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
            if not ready:
                raise AssertionError("no %r in %r" % (text, out))
            out += os.read(fd, 4096)
        i = out.index(text.encode()) + len(text)
        rest[0] = out[i:]
        return out[:i].decode()

    try:
        expect("Ctrl-]")
        os.write(fd, b"\r")
        expect(">>> ")
        os.write(fd, b"print('a\\nb')\r")
        expect("a\r\nb\r\n>>> ")  # \r\n as a board's stdout gives
        os.write(fd, b"while True: pass\r\r")
        time.sleep(0.3)
        os.write(fd, b"\x03")
        expect("KeyboardInterrupt")
        os.write(fd, b"y = 6 * 7\r")
        expect(">>> ")
        os.write(fd, b"\x04")  # soft reset
        expect("soft reboot")
        expect(">>> ")
        os.write(fd, b"'y' in globals()\r")
        expect("False")
        os.write(fd, b"\x1d")  # Ctrl-]: leave mpremote
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    # The board outlives the client.
    assert board.exec("print(3)", resume=True).strip() == "3"


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
