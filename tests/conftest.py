"""Shared test helpers: the synthetic corpus, float32 tolerances, TF1 graphs, the scripts.

TensorFlow is imported only by the tests that need it: the data and
comparison tests run without it.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

os.environ.setdefault('MPLBACKEND', 'Agg')
PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

# TF_USE_LEGACY_KERAS, before any test imports TensorFlow
from cookbook_lstm import tf1_setup  # noqa: E402,F401
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _tf1_graph_mode():
    """Once a test module has imported TensorFlow: TF1 graph mode, deterministic ops.

    Op determinism as every recipe run sets it (tf1_setup.seed_everything),
    so that the tests see the same numbers whatever order they run in: the
    recipes run in this process too (run_in_process).
    """
    tf = sys.modules.get('tensorflow')
    if tf is not None:
        tf.compat.v1.disable_eager_execution()
        tf.config.experimental.enable_op_determinism()
    yield


def seeded_graph(seed=0):
    """A new graph with a graph-level seed, as op determinism needs for random ops."""
    import tensorflow as tf
    graph = tf.compat.v1.Graph()
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

RECIPES = {'02': PROJECT_DIR / 'recipes' / '02_implementing_rnn.py',
           '03': PROJECT_DIR / 'recipes' / '03_implementing_lstm.py',
           '04': PROJECT_DIR / 'recipes' / '04_stacking_multiple_lstm.py',
           '05': PROJECT_DIR / 'beyond_the_book' / 'bidirectional_lstm.py',
           '06': PROJECT_DIR / 'recipes' / '06_siamese_similarity.py',
           'match': PROJECT_DIR / 'tools' / 'match_addresses.py',
           'classify': PROJECT_DIR / 'tools' / 'classify_messages.py',
           'sample': PROJECT_DIR / 'tools' / 'sample_shakespeare.py',
           'heatmap': PROJECT_DIR / 'tools' / 'cell_heatmap.py'}
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


def run_in_process(name, *args, stdout=None):
    """A recipe or the sampler run as its command line runs it, in this process.

    TensorFlow is imported once for all; the exit status and the output are
    what `python recipes/...` would give: a SystemExit with a message exits
    1 and prints the message, as Python does. stdout: a StringIO of the
    test's own to print into (one that acts as a reader going away, say).
    """
    import contextlib
    import io
    import signal
    from cookbook_lstm.command_line import exit_status_of
    out, err = stdout if stdout is not None else io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = exit_status_of(script_module(name).main, [str(a) for a in args])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
            if not isinstance(stop.code, int) and stop.code is not None:
                print(stop.code, file=err)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return Result(code, out.getvalue(), err.getvalue())


# ---------------------------------------------------------------- scripts as processes

def run_script(script, *args, cwd=None):
    env = dict(os.environ, MPLBACKEND='Agg')
    return subprocess.run(
        [sys.executable, str(script)] + [str(a) for a in args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def run_recipe(recipe, *args, cwd=None):
    return run_script(RECIPES[recipe], *args, cwd=cwd)


def interrupt_recipe(recipe, args, when, sigint=signal.SIG_DFL):
    """Start a recipe, send SIGINT once a line of its output starts with `when`.

    sigint is how the child starts: SIG_IGN as a non-interactive shell starts
    a background job. Returns (returncode, stdout after that line, stderr).
    """
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    child = subprocess.Popen(
        [sys.executable, str(RECIPES[recipe])] + [str(a) for a in args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint))
    try:
        for line in child.stdout:
            if line.startswith(when):
                break
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode, stdout, stderr


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
    import tensorflow as tf
    g = seeded_graph()
    with g.as_default():
        with tf.compat.v1.Session(graph=g) as sess:
            yield sess


@pytest.fixture(scope='module')
def saved_run(corpus, tmp_path_factory):
    """A tiny run of recipe 04 (--tiny --seed 2): checkpoints at iterations 10 and 12."""
    out = tmp_path_factory.mktemp('saved') / 'run'
    result = run_in_process('04', '--tiny', '--seed', 2, '--max-steps', 12, '--corpus', corpus,
                            '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture
def run_copy(saved_run, tmp_path):
    """A copy of saved_run, for a test to change."""
    import shutil
    copy = tmp_path / 'copy'
    shutil.copytree(saved_run, copy)
    return copy
