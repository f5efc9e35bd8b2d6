"""The numerical comparisons hold with oneDNN on and off.

oneDNN picks other kernels on other CPU kinds (and TF_ENABLE_ONEDNN_OPTS=0
turns it off), so float32 results differ in their last bits from machine to
machine. The tests marked float32 compare to tolerances derived from float32
rounding (conftest.float32_tolerance); here they run again in a process with
oneDNN switched the other way from this one, the closest one machine comes
to the other CPU kind.
"""
import os
import re
import subprocess
import sys

from conftest import PROJECT_DIR


def test_the_float32_comparisons_hold_with_onednn_switched_the_other_way():
    here = os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1')  # on by default on x86-64 Linux
    other = '0' if here != '0' else '1'
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-m', 'float32', '-q', '-n', '0',
         '-p', 'no:cacheprovider', 'tests'], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS=other))
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ''
    assert result.returncode == 0, result.stdout[-5000:]
    # every marked test ran and passed, none skipped
    assert re.fullmatch(r'[1-9]\d* passed, \d+ deselected in .*', summary), summary
