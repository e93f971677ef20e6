# tools/vboard.py: the unix port behind a pty, as stock mpremote sees a USB
# board (soft reset, resume, files, an interrupted program, the REPL). The
# board runs on each tier (conftest.py: the `board` and `tier` fixtures).

import os
import pty
import select
import signal
import subprocess
import time

import pytest

from conftest import MPREMOTE
from helpers import read


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
