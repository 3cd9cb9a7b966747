#!/usr/bin/env python3
"""The baseline of issue 14: Python's json module reading and parsing every spec file that
`opcat build --versions all` compiles (`<specs>/<area>/<version>/*.json`, recorded examples
aside), timed in the same session as the build it is compared with.

    python3 benches/json_baseline.py [SPECS] [--repeat N]

Prints the best and median wall time of N passes (default 5) over the files.
"""
import glob
import json
import os
import statistics
import sys
import time


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repeat = 5
    if "--repeat" in sys.argv:
        repeat = int(sys.argv[sys.argv.index("--repeat") + 1])
        args = [a for a in args if a != str(repeat)]
    specs = args[0] if args else os.path.join("..", "shared", "specs", "azure-devops", "specification")
    files = sorted(glob.glob(os.path.join(specs, "*", "*", "*.json")))
    if not files:
        sys.exit(f"no spec files under {specs}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for path in files:
            with open(path, "rb") as f:
                json.loads(f.read())
        times.append(time.perf_counter() - start)
    print(
        f"{len(files)} files: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
        f"({repeat} passes)"
    )


if __name__ == "__main__":
    main()
