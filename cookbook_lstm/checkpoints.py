"""A checkpoint: saved, kept, found, judged complete, read back and restored.

The book saves with saver.save(sess, path, global_step=iteration) and keeps
the Saver's max_to_keep newest. Here a save (Checkpoints.save) writes, in
this order, each file whole or not at all (safe_files.write_atomically):

    model-N.index, model-N.data-*   the weights and Adam's slots (the book's Saver)
    model-N.meta                    the graph, as the book's Saver writes it
    record.json                     every loss and sample so far
    model-N.progress.npz            where the run stands, for --resume
    checkpoint                      the pointer: names model-N, the newest kept
    (model-M.*)                     the checkpoints beyond max_to_keep, removed

The pointer moves after everything it names is on disk, so a kill at any
point leaves the checkpoint it names complete; --resume takes the newest
complete checkpoint, which may be newer than the pointer (a save killed
after the progress file). The keeping is done here, not by the Saver, since
the pointer must move last: the Saver's own max_to_keep is read and obeyed.

Weights that are no longer finite are not saved (NotFinite), and a full disk
ends the save with the half-written checkpoint removed (DiskFull): either
way the last checkpoint stays the last good one.

Found (find_checkpoint): a folder's checkpoint is its newest complete one,
its .index, every .data shard and, for --resume, its progress file. Read
back: read_progress checks each array; restore checks each variable's shape
before TensorFlow reads the weights. Nothing read here can run code: the
progress file is a .npz opened with allow_pickle=False.
"""
import io
import json
import os
import random
import re
import zipfile
from pathlib import Path

import numpy as np

from cookbook_lstm import run_folder
from cookbook_lstm import settings
from cookbook_lstm.command_line import first_line
from cookbook_lstm import safe_files
from cookbook_lstm.errors import DiskFull, NotFinite, RunError
from cookbook_lstm.record import write_record
from cookbook_lstm.run_folder import CHECKPOINT_FILE, POINTER_FILE, PROGRESS_SUFFIX, names_in
from cookbook_lstm.safe_files import (LIMITS, RUN_ADVICE, check_kind, is_disk_full, limit_of,
                                      read_bytes, sync_file)


def checkpoint_prefix(run_dir, iteration):
    return Path(run_dir) / 'model-{}'.format(iteration)


def iteration_of(prefix):
    """The iteration a checkpoint prefix (DIR/model-1810) was saved at; None for
    a name of another form."""
    found = re.fullmatch(r'model-(\d+)', Path(prefix).name)
    return int(found.group(1)) if found else None


# ---------------------------------------------------------------- saving, keeping

def _saving(step):
    """Called before each step of a save, named by step.

    Does nothing: the fault-injection tests replace it to kill the process
    (or fill the disk) at each step in turn (tests/kill_during_save.py).
    """


class Checkpoints:
    """The checkpoints of one run folder: saving the next, keeping the newest.

    kept: the iterations of the checkpoints kept, oldest first (for a resumed
    run, those already in the folder up to where it goes on from).
    """

    def __init__(self, run_dir, sess, saver, kept=()):
        import tensorflow as tf
        self.run_dir, self.sess, self.saver = Path(run_dir), sess, saver
        self.keep = saver.saver_def.max_to_keep  # the recipe's Saver(max_to_keep=5)
        self.kept = list(kept)
        trainable = sess.graph.get_collection(tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES)
        with sess.graph.as_default(), tf.name_scope('weights_finite'):  # one box in TensorBoard
            self._weights_finite = tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(w)) for w in trainable])

    @property
    def last(self):
        """The iteration of the newest checkpoint kept, or None."""
        return self.kept[-1] if self.kept else None

    def save(self, iteration, record, position, lstm_state):
        """Save checkpoint model-<iteration>, complete when this returns.

        record: record.json's contents; position: {'iteration', 'epoch',
        'batch', 'order'}, where the run stands; lstm_state: the LSTM state
        after the last batch, flattened. The random states are taken now.
        Raises NotFinite or DiskFull, having saved nothing.
        """
        import tensorflow as tf
        if not self.sess.run(self._weights_finite):
            raise NotFinite('the weights are no longer finite after iteration {}'.format(
                iteration))
        prefix = checkpoint_prefix(self.run_dir, iteration)
        try:
            run_folder.register(self.run_dir, prefix.name)  # listed before its files exist
            _saving('weights')
            self.saver.save(self.sess, str(self.run_dir / 'model'), global_step=iteration,
                            write_meta_graph=False, write_state=False)
            for path in self.run_dir.glob(prefix.name + '.[di]*'):
                sync_file(path)
            _saving('graph')
            safe_files.write_atomically(str(prefix) + '.meta',
                                        self.saver.export_meta_graph().SerializeToString())
            _saving('record')
            write_record(self.run_dir, record)
            _saving('progress')
            write_progress(prefix, position, lstm_state, random.getstate(),
                           np.random.get_state())
            _saving('pointer')
            kept = [i for i in self.kept if i != iteration] + [iteration]
            write_pointer(self.run_dir,
                          ['model-{}'.format(i) for i in kept[-self.keep:]])
            self.kept = kept
            _saving('old checkpoints')
            self.remove_beyond_keep()
        except (OSError, tf.errors.OpError) as err:
            if not is_disk_full(err):
                raise
            if iteration not in self.kept:
                remove_checkpoint(prefix)
            run_folder.remove_leftovers(self.run_dir)
            raise DiskFull('no space left on device while saving iteration {}'.format(
                iteration)) from None

    def remove_beyond_keep(self):
        """Remove the kept checkpoints beyond the Saver's max_to_keep, oldest first,
        as a save does last (a resumed run whose last save was cut short there);
        return their names."""
        removed = ['model-{}'.format(i) for i in self.kept[:-self.keep]]
        for old in self.kept[:-self.keep]:
            remove_checkpoint(checkpoint_prefix(self.run_dir, old))
        self.kept = self.kept[-self.keep:]
        return removed

    def set_aside(self, iteration):
        """Rename checkpoint model-<iteration> to model-<iteration>.diverged.*; its name.

        The latest checkpoint becomes the one before it, so that --resume and
        the sampler take the last good weights; the set-aside files stay.
        """
        prefix = 'model-{}'.format(iteration)
        self.kept = [i for i in self.kept if i != iteration]
        if self.kept:
            write_pointer(self.run_dir, ['model-{}'.format(i) for i in self.kept])
        else:
            (self.run_dir / POINTER_FILE).unlink(missing_ok=True)
        for path in list(self.run_dir.glob(prefix + '.*')):
            if '.diverged' not in path.name:
                os.replace(path, self.run_dir / path.name.replace(
                    prefix, prefix + '.diverged', 1))
        return prefix + '.diverged'



# ---------------------------------------------------------------- finding

def _files_by_iteration(run_dir):
    """{iteration: the suffixes of its files} of the model-N checkpoints in run_dir
    (.index, .data-00000-of-00001, .meta, .progress.npz; not a set-aside one's),
    from one scan of the folder."""
    found = {}
    for name in names_in(run_dir):
        match = re.fullmatch(
            r'model-(\d+)(\.index|\.data-\d{5}-of-\d{5}|\.meta|\.progress\.npz)', name)
        if match:
            found.setdefault(int(match.group(1)), []).append(match.group(2))
    return found


def _complete(prefix, suffixes, need_progress):
    """True when checkpoint prefix has its .index and every .data shard the shards
    name, none empty, and with need_progress its progress file. suffixes: the
    suffixes of its files in the folder (_files_by_iteration)."""
    index = check_kind(str(prefix) + '.index') if '.index' in suffixes else None
    if index is None or index.st_size == 0:
        return False
    if index.st_size > LIMITS['.index']:  # TensorFlow reads it: bounded here
        raise RunError('{}.index is {:,} bytes, more than the {:,} this project writes there: '
                       'it is not one of its files. {}'.format(
                           prefix, index.st_size, LIMITS['.index'], RUN_ADVICE))
    shards = [x for x in suffixes if x.startswith('.data-')]
    if not shards or len(shards) != int(shards[0][-5:]):
        return False
    return all(check_kind(str(prefix) + x).st_size > 0 for x in shards) and (
        not need_progress or PROGRESS_SUFFIX in suffixes)


def is_complete(prefix, need_progress):
    """True when checkpoint prefix (DIR/model-N) is complete: its weights and, with
    need_progress, its progress file."""
    prefix = Path(prefix)
    suffixes = [n[len(prefix.name):] for n in names_in(prefix.parent)
                if n.startswith(prefix.name + '.')]
    return _complete(prefix, suffixes, need_progress)


def complete_iterations(run_dir, need_progress):
    """The iterations of the complete checkpoints in run_dir, oldest first: one
    scan of the folder, then one look at each checkpoint's files."""
    return [i for i, suffixes in sorted(_files_by_iteration(run_dir).items())
            if _complete(checkpoint_prefix(run_dir, i), suffixes, need_progress)]


def saved_iterations(run_dir):
    """The iterations of the checkpoints in run_dir with an .index, oldest first
    (set-aside ones not)."""
    return [i for i, suffixes in sorted(_files_by_iteration(run_dir).items())
            if '.index' in suffixes]


def read_pointer(run_dir):
    """The checkpoint names the `checkpoint` file lists, latest last.

    Returns (names, problem): problem is None, or says why the file cannot
    be used (then names is empty). Only each path's last part is kept: the
    file may hold absolute paths, stale once the folder is moved.
    """
    path = Path(run_dir) / POINTER_FILE
    if check_kind(path) is None:
        return [], 'there is no "checkpoint" file'
    try:
        lines = read_bytes(path).decode('utf-8').splitlines()
    except UnicodeDecodeError:
        return [], 'the "checkpoint" file is not text'
    latest, listed = None, []
    for line in lines:
        match = re.fullmatch(r'\s*(\w+)\s*:\s*"(.*)"\s*', line)
        if match is None:
            if line.strip() and not re.fullmatch(r'\s*\w+\s*:\s*[-+0-9.e]+\s*', line):
                return [], 'the "checkpoint" file is unreadable'
            continue
        name = os.path.basename(match.group(2))
        if match.group(1) == 'model_checkpoint_path':
            latest = name
        elif match.group(1) == 'all_model_checkpoint_paths':
            listed.append(name)
    if latest is None:
        return [], 'the "checkpoint" file names no checkpoint'
    return [n for n in listed if n != latest] + [latest], None


def write_pointer(run_dir, names):
    """The `checkpoint` file, as TensorFlow's Saver writes it: names, latest last.

    Relative names, so the folder can be moved; tf.train.latest_checkpoint
    and TF1's Saver read it.
    """
    lines = ['model_checkpoint_path: "{}"'.format(names[-1])]
    lines += ['all_model_checkpoint_paths: "{}"'.format(n) for n in names]
    run_folder.write_file(run_dir, POINTER_FILE, '\n'.join(lines) + '\n')


def find_checkpoint(path, need_progress=False):
    """The run folder and the checkpoint to use that path names.

    path is a run folder or a checkpoint prefix in one (DIR/model-500). In a
    folder, the checkpoint is the newest complete one: its weights and, with
    need_progress, its progress file. That is the one the `checkpoint` file
    names, unless a save was cut short or the file is damaged: then `note`
    says which is taken, and why.

    Returns (run_dir, prefix, note); note is None when the checkpoint is the
    one the `checkpoint` file names. Raises RunError naming what is missing.
    """
    path = Path(path)
    if path.is_dir():
        run_dir = path
        run_folder.check_folder(run_dir)
        needs = 'weights and progress file' if need_progress else 'weights'
        names, problem = read_pointer(run_dir)
        complete = complete_iterations(run_dir, need_progress)
        if names and complete and names[-1] == 'model-{}'.format(complete[-1]):
            return run_dir, str(run_dir / names[-1]), None
        if names and not is_complete(run_dir / names[-1], need_progress):
            problem = 'the latest checkpoint, {}, lacks some of its {}'.format(
                names[-1], needs)
        elif names:
            problem = 'the "checkpoint" file names {}, but a newer one is complete (its ' \
                      'save was cut short before the file moved)'.format(names[-1])
        if not complete:
            advice = ('Give a run folder a recipe wrote, or a checkpoint such as {}.'.format(
                path / 'model-500') if run_folder.listed_files(run_dir) is None else
                'The run there stopped before its first save was complete, so there is '
                'nothing to go on from. To train it from the start, run its command again, '
                'adding --overwrite.')
            raise RunError('{}: no complete checkpoint here ({}, and no model-N with its '
                           '{}). {}'.format(path, problem, needs, advice))
        prefix = checkpoint_prefix(run_dir, complete[-1])
        return run_dir, str(prefix), '{}: using {}, the newest complete one'.format(
            problem, prefix.name)
    prefix, run_dir = path, path.parent
    if not run_dir.is_dir() or not any(n.startswith(prefix.name + '.')
                                       for n in names_in(run_dir)):
        raise RunError('{}: no such run folder or checkpoint.'.format(path))
    run_folder.check_folder(run_dir)
    if check_kind(str(prefix) + '.index') is None:
        raise RunError('{}: the checkpoint is missing (no {}). Give a run folder or a '
                       'checkpoint that exists.'.format(prefix, prefix.name + '.index'))
    if not is_complete(prefix, need_progress=False):
        raise RunError('{}: the checkpoint is partial: {} lacks its data file. Give the run '
                       'folder instead: its newest complete checkpoint is used.'.format(
                           prefix, prefix.name + '.index'))
    if need_progress and not is_complete(prefix, True):
        raise RunError('{} is missing, so where the run stood at that checkpoint is '
                       'unknown. Resume from the run folder, which takes the newest '
                       'complete checkpoint.'.format(str(prefix) + PROGRESS_SUFFIX))
    return run_dir, str(prefix), None


def remove_checkpoint(prefix):
    """Remove one checkpoint's files (weights, graph, progress); never a link's target."""
    prefix = Path(prefix)
    for name in names_in(prefix.parent):
        if name.startswith(prefix.name + '.') and CHECKPOINT_FILE.fullmatch(name) \
                and not name.startswith(prefix.name + '.diverged'):
            os.unlink(prefix.parent / name)


# ---------------------------------------------------------------- where the run stood

def write_progress(prefix, position, lstm_state, python_random, numpy_random):
    """Where the run stands, for --resume: model-N.progress.npz, no pickle in it.

    position: {'iteration', 'epoch', 'batch', 'order'}; lstm_state: the
    flattened LSTM state arrays; the random states as random.getstate() and
    np.random.get_state() return them.
    """
    version, internal, gauss = python_random
    kind, keys, pos, has_gauss, cached = numpy_random
    meta = {'format': 1, 'iteration': position['iteration'], 'epoch': position['epoch'],
            'batch': position['batch'], 'python_random': [version, list(internal), gauss],
            'numpy_random': [kind, int(pos), int(has_gauss), float(cached)],
            'lstm_state_count': len(lstm_state)}
    arrays = {'meta': np.frombuffer(json.dumps(meta).encode('utf-8'), np.uint8),
              'order': np.asarray(position['order'], np.int64),
              'numpy_random_keys': np.asarray(keys, np.uint32)}
    for i, array in enumerate(lstm_state):
        arrays['lstm_state_{}'.format(i)] = np.asarray(array)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    run_folder.register(Path(prefix).parent, Path(prefix).name)
    safe_files.write_atomically(str(prefix) + PROGRESS_SUFFIX, buffer.getvalue())


def read_progress(prefix, num_batches, order_length=None):
    """What write_progress wrote, checked; RunError naming the file if unusable.
    The order is one of order_length items (None: of the num_batches batches).

    Returns {'iteration', 'epoch', 'batch', 'order', 'lstm_state',
    'python_random', 'numpy_random'}, the random states ready for
    random.setstate and np.random.set_state.
    """
    path = Path(str(prefix) + PROGRESS_SUFFIX)

    def damaged(what):
        return RunError('{}: {}. The file is damaged: move {}.* out of the folder, then '
                        '--resume the folder: its newest complete checkpoint is used.'.format(
                            path, what, Path(prefix).name))
    if check_kind(path) is None:
        raise RunError('{} is missing, so where the run stood at that checkpoint is '
                       'unknown.'.format(path))
    data = read_bytes(path)
    try:
        # the arrays' sizes as the archive declares them, before any is unpacked
        if sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(data)).infolist()) \
                > limit_of(path):
            raise ValueError('its arrays unpack to more than {:,} bytes'.format(
                limit_of(path)))
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        # an array whose items take no bytes unpacks from nothing to any length
        if any(a.dtype.itemsize == 0 for a in arrays.values()):
            raise ValueError('an array of items of no size')
    except Exception as err:  # not a .npz, truncated, or holding objects
        raise damaged('it cannot be read ({}: {})'.format(type(err).__name__, err)) from None
    for name in ('meta', 'order', 'numpy_random_keys'):
        if name not in arrays:
            raise damaged('"{}" is missing'.format(name))
    try:
        meta = json.loads(arrays['meta'].tobytes().decode('utf-8'))
        iteration, epoch, batch = meta['iteration'], meta['epoch'], meta['batch']
        version, internal, gauss = meta['python_random']
        kind, pos, has_gauss, cached = meta['numpy_random']
        count = meta['lstm_state_count']
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise damaged('its description is incomplete ({}: {})'.format(
            type(err).__name__, err)) from None
    if not all(settings.Whole(0).ok(v) for v in (iteration, epoch, batch, count)):
        raise damaged('iteration, epoch and batch must be whole numbers')
    if batch >= num_batches or count > 4 * settings.LAYERS.maximum:
        raise damaged('batch {} is beyond the epoch\'s {} batches, or it holds {} LSTM '
                      'states'.format(batch, num_batches, count))
    order, length = arrays['order'], num_batches if order_length is None else order_length
    if length == 0:  # a run that keeps no order (recipe 06): whatever is there is not read
        order = np.zeros([0], np.int64)
    if order.dtype != np.int64 or order.shape != (length,) \
            or sorted(order.tolist()) != list(range(length)):
        raise damaged('its order is not an order of this run\'s {} {}'.format(
            length, 'batches' if order_length is None else 'examples'))
    lstm_state = []
    for i in range(count):
        name = 'lstm_state_{}'.format(i)
        if name not in arrays or arrays[name].dtype != np.float32:
            raise damaged('"{}" is missing or not float32'.format(name))
        lstm_state.append(arrays[name])
    return {'iteration': iteration, 'epoch': epoch, 'batch': batch,
            'order': order.tolist(), 'lstm_state': lstm_state,
            'python_random': (version, tuple(internal), gauss),
            'numpy_random': (kind, arrays['numpy_random_keys'], pos, has_gauss, cached)}


# ---------------------------------------------------------------- restoring

def _unreadable(checkpoint, err, advice):
    """The RunError for a checkpoint TensorFlow could not read: gone, or damaged."""
    if not is_complete(checkpoint, need_progress=False):
        return RunError('{} was removed while it was being read: a run writing in this '
                        'folder keeps only its newest checkpoints (the Saver\'s max_to_keep). '
                        'Run the command again; it takes the newest.'.format(checkpoint))
    return RunError('{}: the checkpoint cannot be read ({}). {}'.format(
        checkpoint, first_line(err), advice))


DAMAGED = ('It is damaged: move its files ({}.*) out of the folder, then give the folder '
           'again: its newest complete checkpoint is used.')


def restore(sess, saver, checkpoint, config=None):
    """saver.restore, each variable's shape checked first; RunError naming what differs."""
    import tensorflow as tf
    prefix_name = Path(checkpoint).name
    try:
        shapes = tf.train.load_checkpoint(checkpoint).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as err:
        raise _unreadable(checkpoint, err, DAMAGED.format(prefix_name)) from None
    for variable in sess.graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES):
        name, want = variable.op.name, variable.shape.as_list()
        if name not in shapes:
            raise RunError('{}: the checkpoint has no variable {}: it is from another '
                           'model.'.format(checkpoint, name))
        if shapes[name] != want:
            described = ', '.join('{} {}'.format(k, config[k]) for k in (
                'rnn_size', 'embedding_size', 'vocab_size', 'num_layers') if k in config) \
                if config else ''
            raise RunError('{}: {} is {} in the checkpoint but {} in the model {}describes'
                           '{}. The settings were edited; put back the run\'s own.'.format(
                               checkpoint, name, shapes[name], want,
                               'config.json ' if config else 'the settings ',
                               ' ({})'.format(described) if described else ''))
    try:
        saver.restore(sess, checkpoint)
    except (tf.errors.OpError, ValueError) as err:
        raise _unreadable(checkpoint, err, DAMAGED.format(prefix_name)) from None



def later_checkpoints(run_dir, iteration, listed):
    """The iterations after iteration of the checkpoints in run_dir (any file of
    model-N, complete or not) that files.json lists (listed=True) or does not
    (False). A folder
    from before files.json: all of them are the run's."""
    entries = run_folder.listed_files(run_dir)
    return [i for i in sorted(_files_by_iteration(run_dir)) if i > iteration
            and (entries is None or 'model-{}'.format(i) in entries) == listed]


def remove_unfinished(run_dir, iteration):
    """Before a resumed run writes: remove what a save cut short left (temporary
    files, and the checkpoints after iteration that the run listed in
    files.json: never a file it did not write); return their names."""
    left = run_folder.remove_leftovers(run_dir)
    for i in later_checkpoints(run_dir, iteration, listed=True):
            remove_checkpoint(checkpoint_prefix(run_dir, i))
            left.append('model-{}'.format(i))
    return left
