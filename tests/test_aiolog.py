import re


def test_ring_keeps_newest_lines_in_fixed_ram(mp):
    out = mp.run(
        """
        import gc, aiolog
        s = aiolog.LogStream(256)
        print("before", s._mv)  # nothing allocated until the first write
        for i in range(5):
            print("warm", i, file=s)
        gc.collect()
        before = gc.mem_alloc()
        for i in range(2000):
            print("line", i, file=s)
        ring = s._mv
        s.write("tail no newline")
        gc.collect()
        grown = gc.mem_alloc() - before
        print("grown", grown, s._mv is ring, len(s._mv))
        s.cat()
        """
    )
    lines = out.splitlines()
    assert lines.pop(0) == "before None"
    grown = int(lines[0].split()[1])
    assert grown <= 64, lines[0]  # nothing kept beyond the ring itself
    assert lines[0].endswith("True 256")
    kept = lines[1:]
    # newest complete lines, in order, no partial first line, no unfinished tail
    assert kept[-1] == "line 1999"
    assert all(re.fullmatch(r"line \d+", k) for k in kept)
    nums = [int(k.split()[1]) for k in kept]
    assert nums == list(range(nums[0], 2000))
    assert 15 <= len(kept) <= 26


def test_grep_patterns_wildcards_and_lists(mp):
    out = mp.run(
        """
        import aiolog
        s = aiolog.LogStream(1024)
        for line in ("[a] start one", "[b] start two", "[a] done one", "[c] x*y", "[ab] other"):
            s.write(line + "\\n")
        for g in ("[a]", "start*two", ["[b]", "[c]"], "", "nothing", "x*y", "*one"):
            print("--", g)
            s.cat(g)
        print(aiolog.match("t*s*", "tests"), aiolog.match("t*s", "tests"), aiolog.match("a*b*c", "abc"),
              aiolog.match("a*b*c", "acb"), aiolog.match("abc", "abc"), aiolog.match("ab*ab", "ab"))
        """
    )
    groups = out.split("-- ")[1:]
    got = {g.split("\n", 1)[0]: g.split("\n", 1)[1].splitlines() for g in groups[:-1]}
    last = groups[-1].splitlines()
    got[last[0]] = last[1:-1]
    assert got["[a]"] == ["[a] start one", "[a] done one"]
    assert got["start*two"] == ["[b] start two"]
    assert got["['[b]', '[c]']"] == ["[b] start two", "[c] x*y"]
    assert len(got[""]) == 5
    assert got["nothing"] == []
    assert got["x*y"] == ["[c] x*y"]
    assert got["*one"] == ["[a] start one", "[a] done one"]
    assert last[-1] == "True True True False True False"


def test_logger_print_and_bytes(mp):
    out = mp.run(
        """
        import aiolog
        from aiolog import streamlog
        import minilog
        log = minilog.Logger("esp32")
        log.info("[%s] hello %d", "t1", 5)
        log.error("[t1] oops")
        print("printed", 1, 2.5, file=streamlog)
        streamlog.write(b"bytes line\\n")
        streamlog.write("caf\\xe9\\n")
        streamlog.cat()
        """
    )
    lines = out.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[esp32\] \[INFO\] \[t1\] hello 5", lines[0])
    assert lines[1].endswith("[esp32] [ERROR] [t1] oops")
    assert lines[2:] == ["printed 1 2.5", "bytes line", "caf\u00e9"]


def test_follow_prints_new_matching_lines(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aiolog
        from aiolog import streamlog
        aioctl.set_log(streamlog)
        streamlog.write("[t] old line\\n")

        async def writer():
            for i in range(5):
                await asyncio.sleep_ms(5)
                streamlog.write("[t] new %d\\n[u] other %d\\n" % (i, i))

        async def main():
            f = asyncio.create_task(aioctl.follow("[t]"))
            await asyncio.sleep_ms(1)
            await writer()
            await asyncio.sleep_ms(80)
            f.cancel()
            print("--")
            aioctl.log("other 3")

        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["[t] new %d" % i for i in range(5)] + ["--", "[u] other 3"]


def test_follow_survives_ring_wrap(mp):
    out = mp.run(
        """
        import asyncio, aiolog
        s = aiolog.LogStream(128)

        async def main():
            f = asyncio.create_task(s.follow("keep", wait=0.001))
            await asyncio.sleep_ms(1)
            for i in range(40):  # far more than the ring holds, without yielding
                s.write("keep %d\\n" % i)
            await asyncio.sleep_ms(20)
            s.write("keep last\\n")
            await asyncio.sleep_ms(20)
            f.cancel()

        asyncio.run(main())
        """
    )
    lines = out.splitlines()
    assert lines[-1] == "keep last"
    assert lines[-2] == "keep 39"
    assert all(re.fullmatch(r"keep \d+", x) for x in lines[:-1])


# ------------------------------------------ found in review
# Bugs a code review found, each checked so it stays fixed.


def test_log_keeps_the_oldest_line_when_it_is_whole(mp):
    out = mp.run(
        """
        import aiolog
        s = aiolog.LogStream(10)
        s.write("abcd\\n")
        s.write("efgh\\n")
        s.write("ijkl\\n")
        s.cat()
        s.write("mn")
        print("--")
        s.cat()
        """
    )
    assert out.splitlines() == ["efgh", "ijkl", "--", "ijkl"]


def test_a_ring_size_out_of_range_is_refused_by_name(mp):
    # A huge ring would only fail at its first write (OverflowError on a
    # board); it is refused when it is made, naming the size.
    out = mp.run("""
        import aiolog
        for size in (0, 1 << 24 + 1, 2 ** 62, "8"):
            try:
                aiolog.LogStream(size)
            except ValueError as e:
                print(e)
        """)
    assert out.splitlines() == [
        "LogStream: size 0 is not 1 to 2**24 bytes",
        "LogStream: size %d is not 1 to 2**24 bytes" % (1 << 25),
        "LogStream: size %d is not 1 to 2**24 bytes" % 2 ** 62,
        "LogStream: size '8' is not 1 to 2**24 bytes",
    ]
