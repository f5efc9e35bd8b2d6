"""SIGKILL a run at random moments, go on as the project says, and compare with a run never killed.

    python tests/kill_sweep.py [--kills 30] [--seed 0] [--recipe 03]

Each trial starts the recipe (tiny, seeded, saving every iteration, so that
kills land in saves as often as in training), kills it with SIGKILL at a
random moment between the start of its training and its last save (as the
run never killed took them), then goes on as the project's own messages say: --resume until
the record says finished, or, when the run saved no checkpoint, the same
command with --overwrite. Every trial's losses and samples must equal those
of the same run never killed, to the last bit. Prints one line a trial and a
summary; exits 1 if any trial differs. Not part of the suite (minutes); the
kill points test (test_kill_and_resume.py) and the states test
(test_run_states.py) are.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
RECIPES = {'03': PROJECT / 'recipes' / '03_implementing_lstm.py',
           '04': PROJECT / 'recipes' / '04_stacking_multiple_lstm.py'}
ARGS = ['--tiny', '--seed', '7', '--save-every', '1', '--eval-every', '5',
        '--max-steps', '40', '--offline']


def run(script, *args, timeout=600):
    env = dict(os.environ, MPLBACKEND='Agg')
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)


def start(script, folder):
    """(the run's process, when its training began): the recipe started into
    folder, its output read up to its first epoch's line."""
    child = subprocess.Popen([sys.executable, str(script), *ARGS, '--out', str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1'))
    for line in child.stdout:
        if line.startswith('Starting Epoch'):
            break
    return child, time.monotonic()


def outcome(folder):
    """(rows as (iteration, loss), samples) of a finished run's record."""
    record = json.loads((folder / 'record.json').read_text())
    return [(r[0], r[3]) for r in record['iterations']['rows']], record['samples'], \
        record['status']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--kills', type=int, default=30, help='trials (default 30)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the kill delays')
    parser.add_argument('--recipe', choices=sorted(RECIPES), default='03')
    args = parser.parse_args(argv)
    script, rng = RECIPES[args.recipe], random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix='kill-sweep-'))
    child, training = start(script, base / 'whole')
    last_save = training
    for line in child.stdout:  # training and saving end with the last save
        if line.startswith('Model Saved To'):
            last_save = time.monotonic()
    assert child.wait() == 0, 'the run never killed failed'
    whole_seconds = last_save - training
    want = outcome(base / 'whole')
    print('reference: {} iterations, {:.1f} s from its first epoch to its last save'.format(
        len(want[0]), whole_seconds))
    failures = 0
    for trial in range(args.kills):
        folder = base / 'trial-{}'.format(trial)
        delay = rng.uniform(0.0, whole_seconds)
        child, training = start(script, folder)
        time.sleep(max(0.0, training + delay - time.monotonic()))
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
        child.wait()
        state = 'no folder'
        if folder.is_dir():
            record = folder / 'record.json'
            state = 'record: {}'.format(json.loads(record.read_text())['status']) \
                if record.exists() else 'files: {}'.format(len(list(folder.iterdir())))
        steps = []
        for _ in range(3):  # what the project says to do, until the run is finished
            if (folder / 'record.json').exists() and outcome(folder)[2] == 'finished' \
                    and (folder / 'loss.png').exists():
                break
            resuming = (folder / 'record.json').exists()
            result = run(script, '--resume', folder) if resuming \
                else run(script, *ARGS, '--out', folder)
            if 'adding --overwrite' in result.stderr or 'add --overwrite' in result.stderr:
                result = run(script, *ARGS, '--out', folder, '--overwrite')
                steps.append('--overwrite')
            else:
                steps.append('--resume' if resuming else 'the same command')
            if result.returncode != 0:
                steps.append('status {}: {}'.format(result.returncode,
                                                    result.stderr.strip()[-300:]))
                break
        got = outcome(folder) if (folder / 'record.json').exists() else None
        same = got is not None and got[:2] == want[:2] and got[2] == 'finished' \
            and (folder / 'loss.png').exists()
        failures += not same
        print('trial {:2d}: killed {:4.2f} s into training{}, {}; then {}: {}'.format(
            trial, delay, '' if killed else ' (had ended)', state, ', '.join(steps) or
            'nothing', 'same losses and samples, loss.png' if same else 'DIFFERENT'))
    print('{} of {} trials went on to the same losses and samples as the run never '
          'killed.'.format(args.kills - failures, args.kills))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
