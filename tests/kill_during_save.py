"""Run a recipe and SIGKILL it at one point of its n-th checkpoint save.

    python tests/kill_during_save.py STEP N RECIPE.py ARGS...

STEP is a step of TrainingRun.save (run_folder._saving's names: weights,
graph, record, progress, pointer, old checkpoints), killed before it starts;
or 'write:NAME-END', killed inside the atomic write of the file whose name
ends so, after the temporary file is written and before it replaces the
old one. Used by test_kill_and_resume.py.
"""
import os
import runpy
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import run_folder  # noqa: E402

step, nth, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = {'calls': 0}


def reached():
    seen['calls'] += 1
    return seen['calls'] == nth


def kill():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if step.startswith('write:'):
    ending = step[len('write:'):]
    write_atomically = run_folder.write_atomically

    def write_then_die(path, data):
        if Path(path).name.endswith(ending) and reached():
            tmp = Path(path).with_name(Path(path).name + run_folder.TMP_SUFFIX)
            tmp.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
            kill()
        write_atomically(path, data)
    run_folder.write_atomically = write_then_die
else:
    def kill_before(name):
        if name == step and reached():
            kill()
    run_folder._saving = kill_before

sys.argv = [script] + sys.argv[4:]
runpy.run_path(script, run_name='__main__')
