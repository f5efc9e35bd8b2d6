"""A run killed (SIGKILL) at each step of saving a checkpoint resumes and ends as if never killed.

Recipe 03 at the tiny size saves every 2 iterations up to 14; the kill comes
during its 6th save (iteration 12, the first that also deletes the oldest of
the five checkpoints kept). Each killed run is a real process (a kill cannot
be had in-process), forked from one that imported TensorFlow once; they run
side by side, and the resumptions run in this process.
"""
import json
import subprocess
import sys

import pytest

from cookbook_lstm import checkpoints
from cookbook_lstm import safe_files
from conftest import PROJECT_DIR, RECIPES, run_in_process

ARGS = ('--tiny', '--seed', 2, '--save-every', 2, '--max-steps', 14)
SAVE = 6  # the save at iteration 12
# Before each step of TrainingRun.save, and inside each atomic write of it
# (temporary file written, not yet renamed)
KILL_POINTS = ['weights', 'graph', 'record', 'write:record.json', 'progress',
               'write:.progress.npz', 'pointer', 'write:checkpoint', 'old checkpoints']


def rows(folder):
    """(iteration, epoch, batch, loss) of every iteration the record holds."""
    record = json.loads((folder / 'record.json').read_text())
    return [tuple(row[:4]) for row in record['iterations']['rows']], record['samples']


@pytest.fixture(scope='module')
def killed(corpus, tmp_path_factory):
    """One run folder per kill point, each left by a process killed there."""
    base = tmp_path_factory.mktemp('killed')
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / 'tests' / 'kill_during_save.py'), str(SAVE),
         str(base), str(RECIPES['03'])] + [str(a) for a in ARGS]
        + ['--corpus', str(corpus), '--'] + KILL_POINTS,
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ended = dict(line.rsplit(' ', 1) for line in done.stdout.splitlines())
    assert ended == {point: '-9' for point in KILL_POINTS}, done.stderr[-3000:]  # all killed
    return {point: base / point.replace(':', '-').replace(' ', '-') for point in KILL_POINTS}


def test_every_kill_point_resumes_from_a_complete_checkpoint_with_the_same_losses(
        corpus, killed, tmp_path):
    whole = tmp_path / 'whole'
    reference = run_in_process('03', *ARGS, '--corpus', corpus, '--out', whole)
    assert reference.returncode == 0, reference.stderr[-3000:]
    want_rows, want_samples = rows(whole)
    assert [r[0] for r in want_rows] == list(range(1, 15))

    table = []
    for point, folder in killed.items():
        # the checkpoint the pointer names is complete: model-10 until the
        # pointer moved to model-12
        names, problem = checkpoints.read_pointer(folder)
        assert problem is None, point
        assert names[-1] == ('model-12' if point == 'old checkpoints' else 'model-10'), point
        assert checkpoints.is_complete(folder / names[-1], need_progress=True), point
        # resuming takes the newest complete one: model-12 once its progress
        # file is there, the pointer not yet moved
        latest = 12 if point in ('pointer', 'write:checkpoint', 'old checkpoints') else 10

        resumed = run_in_process('03', '--resume', folder)
        assert resumed.returncode == 0, (point, resumed.stderr[-3000:])
        assert 'Resuming {} at iteration {} '.format(folder, latest + 1) in resumed.stdout
        got_rows, got_samples = rows(folder)
        # the same process kind, kernels and order of operations: the same
        # losses to the last bit, not merely to a tolerance
        assert got_rows == want_rows, point
        assert got_samples == want_samples, point
        assert checkpoints.read_pointer(folder)[0] == [
            'model-{}'.format(i) for i in (6, 8, 10, 12, 14)], point
        assert not [p.name for p in folder.iterdir()
                    if p.name.endswith(safe_files.TMP_SUFFIX) or p.name.endswith('_temp')]
        table.append((point, latest))
    assert len(table) == len(KILL_POINTS)
    print('\nkill point                 resumed from')
    for point, latest in table:
        print('{:<26} model-{}'.format(point, latest))
