# The shape of lib/ (see lib/README.md): layers that point one way, no
# module reaching into another's private names, each record's layout
# declared once, and what `import aiocron` alone loads. The source is read
# as text (ast), never imported into CPython; the last tests run MicroPython.

import ast
import os
import re

import pytest

from conftest import LIB

PURE = ("aiocron", "aiospec", "aionames", "aioheap")  # import nothing of the library when they load
CORE = ("aioctl", "aioschedule", "aiolog")  # import no add-on
# The owner of each record layout and the constants it declares it with.
# Other modules may keep compile-time copies (const: they cost no RAM, where
# an imported name costs a global on every board); each copy must agree.
OWNERS = {
    "aioctl": ("SEQ", "NAME", "FN", "ARGS", "KWARGS", "OPTS", "TASK", "STATE", "SINCE", "DONE_AT", "RESULT",
               "EXC", "_OPT_STOP", "_OPT_ERROR", "_OPT_RESTART", "_OPT_TIMEOUT", "_OPT_BEAT"),
    "aioschedule": ("_S_DUE", "_S_SEQ", "_S_NAME", "_S_EVERY", "_S_FLAG", "_S_RUNS", "_S_SKIPPED", "_S_TASK", "_LIVE",
                    "_PENDING", "_DEAD", "_OVER", "_X_SPEC", "_X_AT", "_X_LEFT", "_X_GRACE", "_X_JITTER",
                    "_X_BASE", "_X_LEN"),
    "aiojob": ("_J_PRIO", "_J_MAX", "_J_DELAY", "_J_TRY"),
    "aiocron": ("_SEC", "_MIN", "_HR", "_MDAY", "_MON", "_WDAY", "_RULE", "_LEN", "_OR"),
}


def modules():
    out = {}
    for f in sorted(os.listdir(LIB)):
        if f.endswith(".py"):
            with open(os.path.join(LIB, f)) as fh:
                out[f[:-3]] = ast.parse(fh.read(), f)
    return out


MODS = modules()


def top_imports(tree):
    # lib modules imported when the module loads (not inside a function)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names & set(MODS)


def test_no_import_cycle():
    graph = {m: top_imports(t) for m, t in MODS.items()}

    def visit(m, path):
        assert m not in path, "import cycle: " + " -> ".join(path + [m])
        for n in graph[m]:
            visit(n, path + [m])

    for m in graph:
        visit(m, [])


def test_layers_point_one_way():
    for m in PURE:
        wrong = top_imports(MODS[m])
        assert not wrong, "%s (pure) imports %s when it loads" % (m, wrong)
    for m in CORE:
        wrong = top_imports(MODS[m]) - set(CORE) - set(PURE)
        assert not wrong, "%s (core) imports add-on %s" % (m, wrong)


def test_no_module_uses_another_modules_private_names():
    bad = []
    for m, tree in MODS.items():
        aliases = {}  # local name -> lib module
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODS:
                        aliases[a.asname or a.name] = a.name
            elif isinstance(node, ast.ImportFrom) and node.module in MODS:
                for a in node.names:
                    if a.name.startswith("_"):
                        bad.append("%s: from %s import %s" % (m, node.module, a.name))
                    if a.name in MODS:
                        aliases[a.asname or a.name] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and aliases.get(node.value.id, m) != m and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                bad.append("%s:%d: %s.%s" % (m, node.lineno, node.value.id, node.attr))
    assert not bad, "\n".join(bad)


def consts(tree):
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "const"):
            out[node.targets[0].id] = eval(compile(ast.Expression(node.value.args[0]), "const", "eval"))
    return out


def test_record_layouts_are_declared_by_their_owner_and_copies_agree():
    owned = {}
    for owner, names in OWNERS.items():
        mine = consts(MODS[owner])
        for n in names:
            assert n in mine, "%s does not declare %s" % (owner, n)
            owned.setdefault(n, []).append((owner, mine[n]))
    copies = 0
    for m, tree in MODS.items():
        for n, v in consts(tree).items():
            if m in OWNERS and n in OWNERS[m]:
                continue
            if n in owned:
                # a name two owners use (aiocron's _LEN, say) may match either
                assert any(v == ov for _, ov in owned[n]), "%s: %s = %r, but %s" % (m, n, v, owned[n])
                copies += 1
    assert copies > 20  # the copies are there, and were checked


def test_records_are_not_indexed_by_bare_numbers():
    # A record field is read by its owner's name: s[DUE], never s[0].
    bad = []
    for m in MODS:
        with open(os.path.join(LIB, m + ".py")) as fh:
            for i, line in enumerate(fh, 1):
                code = line.split("#")[0]
                for hit in re.findall(r"\b(?:s|x|t|nxt|new|old|opts|pol|o)\[\d+\]", code):
                    if m != "aiostore" or not hit.startswith("r"):  # aiostore's saved form is its own
                        bad.append("%s:%d: %s" % (m, i, hit))
    assert not bad, "\n".join(bad)


def test_import_aiocron_alone_loads_nothing_else(mp):
    out = mp.run("""
        import sys
        before = set(sys.modules)
        import aiocron
        print(sorted(m for m in sys.modules if m not in before))
        spec = aiocron.cron("0 8 * * 1-5")
        print(aiocron.next_time(spec, 0), sorted(m for m in sys.modules if m not in before and m.startswith("aio")))
        """)
    assert out.splitlines() == [
        "['aiocron']",
        "28800 ['aiocron', 'aioctl', 'aionames', 'aiospec']",  # cron() is aiospec's; the lookup loads aioctl.lazy_attr (and aionames with it)
    ]


def test_hooks_are_attached_once_in_order(mp):
    # aiojob attaches before aiostore whatever the import order (its tick
    # starts runs that aiostore's tick then saves); each module once.
    out = mp.run("""
        import aioctl, aioschedule, aiostore, aiowatch, aiojob
        aioctl.attach("tick", aiojob.tick, True)  # again: no second copy
        print(aioctl.hooks.get("tick", ()) == (aiojob.tick, aiostore.tick))
        print(aioctl.hooks.get("forget", ()) == (aioschedule.forget, aiowatch.forget))
        print(len(aioctl.hooks.get("clocked", ())), len(aioctl.hooks.get("ended", ())), aioctl.hooks.get("nothing", ()))
        """)
    assert out.split() == ["True", "True", "5", "2", "()"]  # clocked: aiostore 1, aiowatch 2, aiojob 2


# The functions every scheduled start and every run's end goes through. A
# function whose frame (locals and stack, plus 3 words per try block) is
# over 11 words has it allocated on the heap at each call, and freed at its
# return (test_a_frame_over_11_words_is_allocated_at_each_call): on an
# emulated RP2040 that cost 8-17 us a call.
START_PATH = {"aioctl": ("launch", "_task", "__call__", "wall_s"), "aioschedule": ("_fire", "_start"),
              "aioheap": ("settle", "first")}


def frames(mod):
    # {code block name: words of frame} of lib module mod, from the 64-bit
    # interpreter's bytecode dump (-v -v): the compiler's figures, the same
    # in every port and in mpy-cross
    from conftest import UNIX64, hosttools

    exe = UNIX64.require().exe
    p = hosttools.run_mp(["-v", "-v", "-c", "import " + mod], path=[LIB], timeout=60, exe=exe)
    out, name, words = {}, None, None
    for line in p.stdout.splitlines():
        m = re.match(r"File (\S+), code block '([^']*)'", line)
        if m:
            name = m.group(2) if m.group(1).endswith("/%s.py" % mod) else None
        m = re.match(r"\((N_STATE|N_EXC_STACK) (\d+)\)", line)
        if m and name:
            if m.group(1) == "N_STATE":
                words = int(m.group(2))
            else:
                out.setdefault(name, []).append(words + 3 * int(m.group(2)))
    return out


def test_the_start_path_keeps_its_frames_off_the_heap():
    big = []
    for mod, names in START_PATH.items():
        got = frames(mod)
        for n in names:
            assert len(got.get(n, ())) == 1, "%s.%s: %r code blocks of that name" % (mod, n, got.get(n))
            if got[n][0] > 11:
                big.append("%s.%s: %d words" % (mod, n, got[n][0]))
    assert not big, big
