# For freezing into firmware: include("path/to/this/manifest.py") in a board's
# manifest. The same modules as package.json (mip).
metadata(
    version="0.3.0",
    description="Create, schedule, stop and inspect asyncio tasks, with a log for them.",
)

module("aioctl.py", base_path="lib")
module("aionames.py", base_path="lib")
module("aioheap.py", base_path="lib")
module("aioschedule.py", base_path="lib")
module("aiolog.py", base_path="lib")
module("aiologread.py", base_path="lib")
module("aiocron.py", base_path="lib")
module("aiospec.py", base_path="lib")
module("aiojob.py", base_path="lib")
module("aiowatch.py", base_path="lib")
module("aiostatus.py", base_path="lib")
module("aioinfo.py", base_path="lib")
module("aiostore.py", base_path="lib")
module("aiowall.py", base_path="lib")
