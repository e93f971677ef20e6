# Bugs a code review found, each checked so it stays fixed.

from test_calendar import run


def test_loop_stopped_poked_and_started_at_once_leaves_one_loop(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        n = [0]
        async def job():
            n[0] += 1
        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=0.1, repeat=0.1)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(150)
            old = aioctl.group()["schedule_loop"][aioctl.TASK]
            aioctl.stop("schedule_loop")
            aioschedule.schedule("job", start_in=0.1, repeat=0.1)  # wakes the cancelled loop
            aioctl.start("schedule_loop")
            await asyncio.sleep_ms(500)
            print(old.done(), aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING, n[0] >= 4)
            aioctl.stop("schedule_loop")
            await asyncio.sleep_ms(250)
            k = n[0]
            await asyncio.sleep_ms(250)
            print(n[0] == k)  # no orphan loop left firing
        asyncio.run(main())
        """
    )
    assert out.splitlines() == ["True True True", "True"]


def test_clock_rebase_after_six_days_keeps_everything_on_time(mp):
    # The scheduler's clock shifts down every 2**28 ms (3.1 days); each time
    # kept on it must shift too.
    out = run(
        mp,
        """
    aiocron.clock_check(2020)
    at(2025, 1, 1, 0, 0, 0)
    add("daily", hrs=6, mins=30)
    add("plain", start_in=3600, repeat=3600)
    add("opts", start_in=3600, repeat=3600, misfire="skip")
    add("parked", start_in=3600, repeat=3600)
    await start_loop()
    await advance(3 * 3600000)
    aioctl.stop("parked")
    while wall[0] < aiocron.mktime((2025, 1, 8, 0, 30, 0)) * 1000:
        await step(["daily", "plain", "opts"])
    print(fmt(aiocron.next_runs("opts", 1)[0]), aiocron.info("opts")["skipped"], aiocron.info("plain")["skipped"])
    aioctl.start("parked")
    print(aiocron.info("parked")["next_in"] <= 3600000)
    # the wall clock jumps back 3 h and nobody calls clock_set()
    await advance(120000, 120000 - 3 * 3600000)
    await advance(120000)
    print(round(aiocron.info("daily")["next_in"] / 3600000, 2))
""",
    )
    # on the hour after 7 days; skipped: the 3 h advance at the start (plain:
    # 2 starts collapsed; opts: those 2 and the late one its misfire drops),
    # never negative
    assert out[0] == "2025-01-08 02:00:00 3 2"
    assert out[1] == "True"
    # now 01-08 01:04 - 3 h = 01-07 22:04: 06:30 is 8.43 h away (5.43 if the
    # jump went unnoticed)
    assert out[2] == "8.43"


def test_new_utc_offset_moves_the_next_start(mp):
    out = run(
        mp,
        """
    at(2025, 3, 30, 0, 0, 0)
    aiocron.utc_offset(3600)
    add("water", hrs=6, mins=30)
    print(aiocron.info("water")["next_in"] / 3600000)
    aiocron.utc_offset(7200)  # summer time
    print(aiocron.info("water")["next_in"] / 3600000, fmt(aiocron.next_runs("water", 1)[0]))
    aiocron.utc_offset(None)
""",
    )
    assert out == ["5.5", "4.5 2025-03-30 06:30:00"]


def test_jump_noticed_after_a_schedule_becomes_a_calendar(mp):
    out = run(
        mp,
        """
    aiocron.clock_check(2020)
    at(2025, 1, 1, 0, 0, 0)
    add("a", start_in=600, repeat=600, misfire="skip")
    await start_loop()
    aioschedule.schedule("a", hrs=6)
    await advance(1000)
    await advance(120000, 120000 + 2 * 3600000)  # the clock was 2 h behind
    await advance(120000)
    print(round(aiocron.info("a")["next_in"] / 3600000, 2))
""",
    )
    assert out == ["3.93"]


def test_outside_a_running_loop_and_before_a_first_step(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        async def job():
            await asyncio.sleep_ms(50)
        aioctl.add(job)
        print(aioctl.stop("job"), aioctl.start("job"), aioctl.delete("job"))  # no loop runs
        aioctl.add(job)
        aioctl.reset()

        async def a():
            aioctl.stop("b")  # b has not begun yet
            await asyncio.sleep_ms(20)
            return "a"
        async def b():
            await asyncio.sleep_ms(20)
        async def main():
            aioctl.add(a)
            aioctl.add(b)
            print(await asyncio.gather(*aioctl.tasks()))
            print(aioctl.group()["b"][aioctl.STATE] == aioctl.STOPPED, aioctl.group()["b"][aioctl.TASK])
        asyncio.run(main())
        """
    )
    # gather ends normally (the runs' own results are in aioctl, not in gather)
    assert out.splitlines() == ["True True True", "[None, None]", "True None"]


def test_a_task_that_stops_itself_keeps_its_schedule_and_result_is_none_while_running(mp):
    out = mp.run(
        """
        import asyncio, aioctl, aioschedule
        runs = [0]
        async def job():
            runs[0] += 1
            if runs[0] == 1:
                print(aioctl.stop("job"))
            await asyncio.sleep_ms(20)
            return runs[0]
        async def main():
            aioctl.add(job)
            aioschedule.schedule("job", start_in=0.05, repeat=0.05)
            aioctl.add(aioschedule.schedule_loop)
            await asyncio.sleep_ms(260)
            print(runs[0] >= 4, aioctl.result("job"))
        asyncio.run(main())
        """
    )
    lines = out.splitlines()
    assert lines[0] == "aioctl: job cannot stop itself; return from it instead"
    assert lines[1] == "False"
    assert lines[2] in ("True None", "True %s" % lines[2].split()[1])
    # a run is going on at 260 ms (each takes 20 of every 50 ms) or not: the
    # result is None exactly while one runs
    assert lines[2].split()[1] == "None" or lines[2].split()[1].isdigit()


def test_times_after_stop_and_start_is_one_more_run(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("t", start_in=1, repeat=1, times=2)
    await start_loop()
    await step()
    await step()
    print(aiocron.info("t")["state"], aiocron.info("t")["runs"])
    aioctl.stop("t")
    aioctl.start("t")
    await step()
    await advance(5000)
    print(aiocron.info("t")["state"], aiocron.info("t")["runs"])
""",
    )
    assert out == ["over 2", "over 3"]


def test_calendar_with_repeat_none(mp):
    out = run(
        mp,
        """
    at(2026, 1, 1, 0, 0, 0)
    add("c", repeat=None, hrs=6)
    print(fmt(aiocron.next_runs("c", 1)[0]))
""",
    )
    assert out == ["2026-01-01 06:00:00"]


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


def test_a_day_the_month_does_not_have_is_not_a_time(mp):
    out = mp.run(
        """
        import aioctl, aioschedule
        async def job():
            pass
        aioctl.add(job)
        for tm in ((2025, 2, 29, 0, 0, 0, 0, 0), (2025, 4, 31, 6, 0, 0, 0, 0), (2028, 2, 29, 0, 0, 0, 0, 0)):
            try:
                aioschedule.schedule("job", start_in=tm)
                print("ok")
            except ValueError as e:
                print(e)
        """
    )
    assert out.splitlines() == [
        "schedule: start_in (2025, 2, 29, 0, 0, 0, 0, 0) is not a time tuple",
        "schedule: start_in (2025, 4, 31, 6, 0, 0, 0, 0) is not a time tuple",
        "ok",
    ]


def test_inspection_functions_take_any_name(mp):
    out = mp.run(
        """
        import aiocron
        print(aiocron.next_runs([1]), aiocron.info({}))
        """
    )
    assert out.splitlines() == [
        "aioschedule: no schedule [1]", "aioschedule: no schedule {}", "None None"]


def test_a_start_that_fails_for_want_of_memory_loses_nothing(mp):
    # The soak on a full heap: create_task raised MemoryError inside
    # schedule_loop, which had taken the schedule out of its heap and never
    # put it back (and counted a run that never started); the loop then died.
    # And launch() set the record RUNNING before it made the asyncio Task, so
    # after the MemoryError the record said RUNNING with no run for ever and
    # every later start was skipped as "still running" (the soak at 96K lost
    # starts this way). Here create_task fails on the 3rd and 4th run, for
    # plain and queued (aiojob) starts: the record is left as it was, the
    # start is tried again 100 ms later, the loop lives.
    for opts in ("", ", priority=1"):
        out = mp.run(
            """
            import asyncio, aioctl, aioschedule, aiocron
            runs = [0]
            async def job():
                runs[0] += 1
            orig = asyncio.create_task
            calls = [0]
            seen = []
            def create_task(coro):
                if type(coro) is aioctl._Run and coro.t[aioctl.NAME] == "job":
                    calls[0] += 1
                    if calls[0] in (3, 4):
                        t = coro.t
                        seen.append((t[aioctl.STATE], t[aioctl.TASK]))
                        raise MemoryError("simulated: heap full")
                return orig(coro)
            async def main():
                aioctl.add(job)
                aioschedule.schedule("job", start_in=0.02, repeat=0.02%s)
                asyncio.create_task = create_task
                aioctl.add(aioschedule.schedule_loop)
                await asyncio.sleep_ms(410)
                asyncio.create_task = orig
                info = aiocron.info("job")
                print(len(seen), seen[0][0] != aioctl.RUNNING, seen[1][1] is None)
                print(runs[0] >= 7, info["runs"] == runs[0], info["state"])
                print(aioctl.group()["schedule_loop"][aioctl.STATE] == aioctl.RUNNING)
            asyncio.run(main())
            """ % opts
        )
        assert out.splitlines() == ["2 True True", "True True scheduled", "True"], (opts, out)
