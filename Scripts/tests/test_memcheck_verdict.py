"""Self-test of Scripts/memcheck_verdict.py on hand-written valgrind reports."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

VERDICT = Path(__file__).resolve().parent.parent / "memcheck_verdict.py"

RUNTIME_NOISE = """\
==7== Conditional jump or move depends on uninitialised value(s)
==7==    at 0x4D1D42B: swift_initStructMetadata (in /opt/swift/usr/lib/swift/linux/libswiftCore.so)
==7==    by 0x38D6DA: $s7Logging0A6SystemO14ReplaceOnceBoxVMr (in /tmp/conductor-smoke)
==7== 
"""

SHIM_LEAK = """\
==7== 48 bytes in 1 blocks are definitely lost in loss record 3 of 9
==7==    at 0x48407B4: malloc (vg_replace_malloc.c:381)
==7==    by 0x2CD5AF: call_retain (in /tmp/conductor-smoke)
==7==    by 0x2CD6A0: h2shim_submit (in /tmp/conductor-smoke)
==7== 
"""

SHIM_INVALID_READ = """\
==7== Invalid read of size 8
==7==    at 0x2D488D: on_stream_close (in /tmp/conductor-smoke)
==7==    by 0x4E2B6AF: ??? (in /usr/lib/x86_64-linux-gnu/libnghttp2.so.14.24.1)
==7== 
"""


def judge(report: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory, "report.txt")
        log.write_text(report)
        symbols = Path(directory, "symbols.txt")
        symbols.write_text("call_retain\nh2shim_submit\non_stream_close\n")
        return subprocess.run([sys.executable, str(VERDICT), str(log), str(symbols)],
                              capture_output=True, text=True, check=False)


class MemcheckVerdictTest(unittest.TestCase):
    def test_runtime_noise_passes_and_is_counted(self):
        result = judge(RUNTIME_NOISE)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("errors: 0 in the C shim/protobuf-c, 1 elsewhere", result.stdout)

    def test_a_leak_through_the_shim_fails(self):
        result = judge(RUNTIME_NOISE + SHIM_LEAK)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("leaked bytes: 48 in the C shim/protobuf-c", result.stdout)
        self.assertIn("h2shim_submit", result.stdout)

    def test_an_invalid_read_in_the_shim_fails(self):
        result = judge(SHIM_INVALID_READ)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("errors: 1 in the C shim/protobuf-c", result.stdout)


if __name__ == "__main__":
    unittest.main()
