#!/usr/bin/env python3
"""The async frames one task held at its largest, from task_alloc_trace.c's log.

  task_frames.py LOG [TASK]

TASK defaults to the fifth busiest task of the log (a benchmark worker rather than the main task).
Prints each live allocation at that moment (bytes, and the function that allocated it), symbolized
with addr2line and swift demangle.
"""
import collections
import subprocess
import sys


def main() -> None:
    lines = [line.split() for line in open(sys.argv[1])]
    if len(sys.argv) > 2:
        task = sys.argv[2]
    else:
        busiest = collections.Counter(fields[3] for fields in lines if fields[0] == "A").most_common(5)
        task = busiest[-1][0]
    live: dict[str, tuple[int, str]] = {}
    total = peak = 0
    peak_frames: list[tuple[int, str]] = []
    for fields in lines:
        if fields[0] == "A" and fields[3] == task:
            live[fields[1]] = (int(fields[2]), fields[4])
            total += int(fields[2])
            if total > peak:
                peak, peak_frames = total, list(live.values())
        elif fields[0] == "D" and fields[1] in live:
            total -= live.pop(fields[1])[0]
    names = symbolize([site for _, site in peak_frames])
    print(f"task {task}: {peak} bytes in {len(peak_frames)} allocations at its largest")
    for (size, site), name in zip(peak_frames, names):
        print(f"{size:6d}  {name[:140]}")


def symbolize(sites: list[str]) -> list[str]:
    by_object: dict[str, list[str]] = collections.defaultdict(list)
    for site in sites:
        path, offset = site.split("+")
        by_object[path].append(offset)
    raw: dict[str, str] = {}
    for path, offsets in by_object.items():
        output = subprocess.run(["addr2line", "-f", "-e", path, *offsets], capture_output=True, text=True).stdout.splitlines()
        for index, offset in enumerate(offsets):
            raw[f"{path}+{offset}"] = output[2 * index] if 2 * index < len(output) else "?"
    mangled = [raw[site] for site in sites]
    demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(mangled), capture_output=True,
                               text=True).stdout.splitlines()
    return demangled if len(demangled) == len(mangled) else mangled


if __name__ == "__main__":
    main()
