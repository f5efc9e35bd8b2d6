"""Run a recipe once per kill point, each run SIGKILLed at that point of its n-th save.

    python tests/kill_during_save.py N BASE RECIPE.py ARGS... -- POINT...

A POINT is a step of Checkpoints.save (checkpoints._saving's names: weights,
graph, record, progress, pointer, old checkpoints), killed before it starts;
or 'write:NAME-END', killed inside the atomic write of the file whose name
ends so, after the temporary file is written and before it replaces the old
one. Each run writes to BASE/<point> (':' and ' ' as '-') and is a process
of its own, forked from this one once TensorFlow is imported, so that the
import is paid once. Prints one line per point: its name and how the child
ended (-9: killed, as wanted). Used by test_kill_and_resume.py.
"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cookbook_lstm import safe_files  # noqa: E402
from cookbook_lstm import checkpoints  # noqa: E402
from cookbook_lstm.command_line import exit_status_of  # noqa: E402
from cookbook_lstm.tf1_setup import import_tensorflow  # noqa: E402

nth, base, script = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
split = sys.argv.index('--')
args, points = sys.argv[4:split], sys.argv[split + 1:]
seen = {'calls': 0}


def reached():
    seen['calls'] += 1
    return seen['calls'] == nth


def kill():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point):
    """Make the run die at point."""
    if point.startswith('write:'):
        ending = point[len('write:'):]
        write_atomically = safe_files.write_atomically

        def write_then_die(path, data):
            if Path(path).name.endswith(ending) and reached():
                tmp = Path(path).with_name(Path(path).name + safe_files.TMP_SUFFIX)
                tmp.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
                kill()
            write_atomically(path, data)
        safe_files.write_atomically = write_then_die
    else:
        def kill_before(name):
            if name == point and reached():
                kill()
        checkpoints._saving = kill_before


import_tensorflow()
import importlib.util  # noqa: E402
spec = importlib.util.spec_from_file_location('recipe', script)
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)

children = {}
for point in points:
    out = base / point.replace(':', '-').replace(' ', '-')
    pid = os.fork()
    if pid == 0:  # the child: one run, to be killed at its point
        try:
            sys.stdout = open(os.devnull, 'w')
            arm(point)
            status = exit_status_of(recipe.main, args + ['--out', str(out)])
        finally:
            os._exit(3)  # not killed: the test says so
    children[pid] = point
for pid, point in children.items():
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print('{} {}'.format(point, code))
