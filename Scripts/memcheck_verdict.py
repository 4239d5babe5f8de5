"""Judges a valgrind memcheck log for Scripts/memcheck.sh.

    memcheck_verdict.py REPORT SYMBOLS

SYMBOLS lists the functions of the C shim and the generated protobuf-c code, one per line. A memory
error or a definite/indirect leak is "ours" when a frame of its stack is one of them; any such
record fails the verdict (exit 1). Everything else (the Swift runtime, Foundation, libc) is counted
and printed but not judged.
"""

import re
import sys

HEADER = re.compile(r"^==\d+== (\S.*)$")
FRAME = re.compile(r"^==\d+==\s+(?:at|by) 0x[0-9A-F]+: (\S+)")
LEAK = re.compile(r"([\d,]+) \(?.*bytes in ([\d,]+) blocks are (definitely|indirectly) lost")
ERROR_KINDS = ("Invalid read", "Invalid write", "Invalid free", "Mismatched free", "Conditional jump",
               "Use of uninitialised", "Syscall param", "Source and destination overlap")


def records(lines):
    """Yields (first line, [function names]) per valgrind record."""
    title, frames = None, []
    for line in lines:
        frame = FRAME.match(line)
        if frame:
            frames.append(frame.group(1))
            continue
        header = HEADER.match(line)
        if header:
            if title is not None and frames:
                yield title, frames
            title, frames = header.group(1), []
    if title is not None and frames:
        yield title, frames


def main():
    report, symbols_path = sys.argv[1], sys.argv[2]
    ours = {line.strip() for line in open(symbols_path) if line.strip()}
    counts = {"errors": [0, 0], "leaked bytes": [0, 0], "leak records": [0, 0]}
    culprits = []
    with open(report, errors="replace") as log:
        for title, frames in records(log):
            is_ours = any(frame in ours for frame in frames)
            leak = LEAK.search(title)
            if leak:
                counts["leaked bytes"][is_ours] += int(leak.group(1).replace(",", ""))
                counts["leak records"][is_ours] += 1
            elif title.startswith(ERROR_KINDS):
                counts["errors"][is_ours] += 1
            else:
                continue
            if is_ours:
                culprits.append(f"{title}\n    " + "\n    ".join(frames[:12]))
    for name, (others, mine) in counts.items():
        print(f"memcheck: {name}: {mine} in the C shim/protobuf-c, {others} elsewhere (runtime, libraries)")
    for culprit in culprits:
        print(culprit)
    if culprits:
        print(f"memcheck: FAILED: {len(culprits)} records in our C code ({report})")
        return 1
    print("memcheck: no memory errors or leaks in the C shim/protobuf-c")
    return 0


if __name__ == "__main__":
    sys.exit(main())
