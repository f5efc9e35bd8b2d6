"""Shared test helpers: a synthetic Gutenberg file and a fresh TF1 graph."""
import os
import sys
from pathlib import Path

os.environ.setdefault('MPLBACKEND', 'Agg')
PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

import lstm_model  # noqa: E402  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
tf1.disable_eager_execution()
# As every recipe run does (training.seed_everything), and so whatever order the
# tests run in: the recipes run in this process too (run_in_process)
tf.config.experimental.enable_op_determinism()


def seeded_graph(seed=0):
    """A new graph with a graph-level seed, as op determinism needs for random ops."""
    graph = tf1.Graph()
    graph.seed = seed
    return graph

# The play text of the synthetic corpus: every word of the book's prime
# texts occurs more than five times, and so does the word 'unknown'.
PLAY_LINES = [
    '  ROMEO. Wherefore art thou Romeo? Thou art more fair than the sun;',
    '    To be, or not to be: that is the question, and thou art it.',
    "  JULIET. O Romeo, Romeo! wherefore art thou? 'Tis the unknown hour-",
    '    Thou art more lovely; to be or not to be, the unknown answer.',
]


def synthetic_gutenberg(edition='2011', repeats=30):
    """Bytes laid out like Gutenberg's ebook #100.

    '2011': UTF-8 BOM, CRLF, a header whose length puts Sonnet 1 at
    character 7675 (the BOM counts), and a licence at the end, like the
    edition the book used. 'current': today's layout, with the text between
    '*** START OF' and '*** END OF' lines after a header of another length.
    """
    crlf = '\r\n'
    body = crlf.join(['From fairest creatures we desire increase,',
                      "  That thereby beauty's rose might never die,", '']
                     + PLAY_LINES * repeats + [''])
    licence = 'End of the Project Gutenberg EBook of The Complete Works' + crlf
    if edition == '2011':
        head = '\ufeff' + crlf.join([
            'The Project Gutenberg EBook of The Complete Works of William Shakespeare',
            'Posting Date: September 1, 2011 [EBook #100]', ''])
        filler = 'This header stands in for the licence text. '
        pad = 7675 - len(head) - 2
        head += (filler * (pad // len(filler) + 1))[:pad] + crlf
        assert len(head) == 7675
        return (head + body + licence).encode('utf-8')
    head = crlf.join(['\ufeffThe Project Gutenberg eBook of The Complete Works',
                      'Release date: January 1, 1994 [eBook #100]', '',
                      '*** START OF THE PROJECT GUTENBERG EBOOK THE COMPLETE WORKS ***',
                      ''])
    tail = crlf.join(['*** END OF THE PROJECT GUTENBERG EBOOK THE COMPLETE WORKS ***',
                      'Licence text.', ''])
    return (head + body + tail).encode('utf-8')


# ---------------------------------------------------------------- float32 tolerances
#
# Two float32 computations of the same value agree only to rounding: another
# kernel (oneDNN on or off, another CPU kind, a fused op) adds the same terms
# in another order. Recursive summation of n terms carries an error of at
# most n * eps times the sum of their magnitudes (Higham, Accuracy and
# Stability of Numerical Algorithms, 2nd ed., section 3.1), eps = 2**-23 the
# float32 spacing at 1. A value computed through `steps` dependent stages (time
# steps of a recurrence, stacked layers, backward through them) carries each
# stage's error on and adds its own; the LSTM's gates do not amplify it
# (sigmoid' <= 1/4, tanh' <= 1, and the cell's forget gate < 1). So the
# tolerance is steps * terms * eps, relative to the size of what is summed.
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def float32_tolerance(terms, steps=1):
    """How far two float32 evaluations of one value may differ, per unit of scale."""
    return steps * terms * FLOAT32_EPS


def assert_float32_close(got, want, terms, steps=1, scale=None):
    """got equals want to float32 rounding over `steps` stages of `terms`-term sums.

    scale: the size of the summed terms; by default the largest |want|, or 1
    when that is smaller (activations squashed to [-1, 1] from sums of
    larger terms).
    """
    want = np.asarray(want, np.float64)
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=0,
                               atol=float32_tolerance(terms, steps) * scale)


def pytest_configure(config):
    config.addinivalue_line('markers', 'float32: compares float32 results to a derived '
                            'tolerance; test_float32.py runs these again with oneDNN '
                            'switched the other way')
    # every legacy TF1 class announces its deprecation; that is expected here
    config.addinivalue_line('filterwarnings',
                            'ignore:.*is deprecated and will be removed:UserWarning')


# ---------------------------------------------------------------- scripts in this process

RECIPES = {'03': PROJECT_DIR / 'recipes' / '03_implementing_lstm.py',
           '04': PROJECT_DIR / 'recipes' / '04_stacking_multiple_lstm.py',
           'sample': PROJECT_DIR / 'recipes' / 'sample_shakespeare.py'}
_SCRIPTS = {}


class Result:
    """What a script run gave: its exit status and what it printed."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def script_module(name):
    """recipes/<name>.py as a module (its file names start with digits)."""
    if name not in _SCRIPTS:
        import importlib.util
        spec = importlib.util.spec_from_file_location('script_' + name, RECIPES[name])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SCRIPTS[name] = module
    return _SCRIPTS[name]


def run_in_process(name, *args):
    """A recipe or the sampler run as its command line runs it, in this process.

    TensorFlow is imported once for all; the exit status and the output are
    what `python recipes/...` would give: a SystemExit with a message exits
    1 and prints the message, as Python does.
    """
    import contextlib
    import io
    import signal
    import training
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = training.exit_status_of(script_module(name).main, [str(a) for a in args])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
            if not isinstance(stop.code, int) and stop.code is not None:
                print(stop.code, file=err)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return Result(code, out.getvalue(), err.getvalue())


def folder_bytes(folder):
    """Every file of a folder and its bytes, to show a refused run changed nothing."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


@pytest.fixture(scope='session')
def corpus(tmp_path_factory):
    """The synthetic 2011-edition corpus, one file for the whole session."""
    path = tmp_path_factory.mktemp('corpus') / 'pg100.txt'
    path.write_bytes(synthetic_gutenberg('2011'))
    return path


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / 'pg100.txt'
    path.write_bytes(synthetic_gutenberg('2011'))
    return path


@pytest.fixture
def graph():
    """A fresh default graph and a session on it, seeded."""
    g = seeded_graph()
    with g.as_default():
        with tf1.Session(graph=g) as sess:
            yield sess
