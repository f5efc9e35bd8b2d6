"""Generating text from a saved run: strategies, priming, the graph-side loop, bad input."""
import functools
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from conftest import (assert_float32_close, run_in_process,
                      seeded_graph, synthetic_gutenberg)
from cookbook_lstm import fast_lstm
from cookbook_lstm import sampling
from lstm_model import LSTM_Model

tf1 = tf.compat.v1


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """One tiny trained run folder per recipe."""
    base = tmp_path_factory.mktemp('runs')
    corpus = base / 'pg100.txt'
    corpus.write_bytes(synthetic_gutenberg('2011'))
    folders = {}
    for recipe in ('03', '04'):
        out = base / recipe
        result = run_in_process(recipe, '--tiny', '--max-steps', 20, '--seed', 3,
                            '--corpus', corpus, '--out', out)
        assert result.returncode == 0, result.stderr[-3000:]
        folders[recipe] = out
    return folders


def sample(*args):
    """The sampler's command line, run in this process."""
    return run_in_process('sample', *args)


def test_the_samplers_strategies_are_the_models():
    # the sampler names them itself, so that --help answers before TensorFlow loads
    from conftest import script_module
    assert script_module('sample').STRATEGIES == sampling.STRATEGIES


def test_the_command_line_reports_errors_without_a_stack_trace(tmp_path):
    result = sample('--checkpoint', tmp_path / 'nowhere')
    assert result.returncode == 1
    assert 'Error: {}: no such run folder or checkpoint.'.format(tmp_path / 'nowhere') \
        in result.stderr
    assert 'Traceback' not in result.stderr


def _generator_pair(graph, **kwargs):
    shape = dict(rnn_size=16, num_layers=2, batch_size=1, learning_rate=None,
                 vocab_size=9, infer_sample=True)
    with tf1.variable_scope('lstm_model') as scope:
        step = LSTM_Model(training_seq_len=1, **shape)
        scope.reuse_variables()
        gen = LSTM_Model(training_seq_len=8, **shape, **kwargs)
    graph.run(tf1.global_variables_initializer())
    return step, gen


def test_topk_of_one_and_cold_weighted_are_greedy(graph):
    tf1.set_random_seed(0)
    step, greedy = _generator_pair(graph)
    with tf1.variable_scope('lstm_model', reuse=True):
        top1 = LSTM_Model(16, 2, 1, None, 8, 9, infer_sample=True,
                          choose=sampling.chooser('topk', top_k=1, vocab_size=9))
        cold = LSTM_Model(16, 2, 1, None, 8, 9, infer_sample=True,
                          choose=sampling.chooser('weighted', temperature=1e-6, vocab_size=9))
    # weights from NumPy, so the texts compared do not depend on TF's seeds
    rng = np.random.RandomState(0)
    for v in tf1.trainable_variables():
        graph.run(v.assign(rng.randn(*v.shape.as_list()).astype(np.float32)))
    # draws never take index 0; make greedy never want it either
    b = [v for v in tf1.global_variables() if v.name == 'lstm_model/lstm_vars/b:0'][0]
    graph.run(b.assign(np.array([-1000.0] + [0.0] * 8, np.float32)))
    seen = set()
    for start in range(1, 9):
        state = sampling.prime_state(step, graph, [start, start])
        want = list(sampling.generate(greedy, graph, state, start)[0])
        assert list(sampling.generate(top1, graph, state, start)[0]) == want
        assert list(sampling.generate(cold, graph, state, start)[0]) == want
        seen.update(want)
    assert len(seen) > 1  # the comparison is not between constant texts


def test_a_continued_text_is_the_prime_and_what_the_generator_chose(graph):
    """sampling.continued (the notebooks' drawn samples) and sampling.drawn (a
    finished run's): with a cold weighted chooser each is the book's greedy
    text, the prime fed one token a call."""
    tf1.set_random_seed(0)
    step, _ = _generator_pair(graph)
    with tf1.variable_scope('lstm_model', reuse=True):
        cold = LSTM_Model(16, 2, 1, None, 6, 9, infer_sample=True,
                          choose=sampling.chooser('weighted', temperature=1e-6, vocab_size=9))
    rng = np.random.RandomState(0)
    for v in tf1.trainable_variables():
        graph.run(v.assign(rng.randn(*v.shape.as_list()).astype(np.float32)))
    b = [v for v in tf1.global_variables() if v.name == 'lstm_model/lstm_vars/b:0'][0]
    graph.run(b.assign(np.array([-1000.0] + [0.0] * 8, np.float32)))  # greedy never stops
    ix2vocab = {i: 'w{}'.format(i) for i in range(1, 9)}
    vocab2ix = {w: i for i, w in ix2vocab.items()}
    for prime in ('w1 w2', 'w5', 'w3 w3 w8'):
        greedy = step.sample(graph, ix2vocab, vocab2ix, num=6, prime_text=prime)
        assert sampling.continued(step, cold, graph, ix2vocab, vocab2ix, prime) == greedy
        # a finished run's drawn continuation, one call a token: the same text
        assert sampling.drawn(step, graph, ix2vocab, vocab2ix, prime, 6, sampling.chooser(
            'weighted', temperature=1e-6, vocab_size=9)) == greedy
        assert len(greedy.split()) == len(prime.split()) + 6
    assert sampling.words_of('w1 xx w3 w3', {'w1', 'w3'}) == ['w1', 'w3', 'w3']


@pytest.mark.float32
@pytest.mark.parametrize('layers, separate', [(1, False), (3, False), (3, True)],
                         ids=['one layer', 'three tied', 'three separate'])
def test_fused_generator_gives_the_basic_generators_text_and_state(layers, separate):
    rng = np.random.RandomState(1)
    texts, states = {}, {}
    for impl in ('basic', 'fused'):
        g = seeded_graph()
        with g.as_default(), tf1.Session(graph=g) as sess:
            with tf1.variable_scope('lstm_model') as scope:
                step = LSTM_Model(16, layers, 1, None, 1, 9, infer_sample=True,
                                  separate_layers=separate)
                scope.reuse_variables()
                generator = LSTM_Model(16, layers, 1, None, 12, 9, infer_sample=True,
                                       separate_layers=separate,
                                       decoder=fast_lstm.DECODERS[impl])
            if impl == 'basic':  # the same weights for both, from NumPy
                weights = {v.name: rng.randn(*v.shape.as_list()).astype(np.float32)
                           for v in tf1.trainable_variables()}
                weights['lstm_model/lstm_vars/b:0'][0] = -1000.0  # never index 0
            for v in tf1.trainable_variables():
                v.load(weights[v.name], sess)
            texts[impl], states[impl] = [], []
            for start in range(1, 9):
                state = sampling.prime_state(step, sess, [start, start])
                texts[impl].append(list(sampling.generate(generator, sess, state, start)[0]))
                x = np.full((1, 12), start, np.int32)
                states[impl].append(sess.run(tf.nest.flatten(generator.final_state), {
                    generator.x_data: x, generator.initial_state: state}))
    assert texts['fused'] == texts['basic']
    assert len({ix for text in texts['basic'] for ix in text}) > 1  # not a constant text
    for got, want in zip(states['fused'], states['basic']):
        for a, b in zip(got, want):
            # sums of 16 inputs + 16 units, `layers` layers, 2 prime + 12 steps
            assert_float32_close(a, b, terms=16 + 16, steps=layers * 14)


@pytest.mark.float32
def test_a_text_made_in_chunks_is_the_text_made_in_one_call(graph):
    """The sampler's chunks: each goes on from the last one's state and choice."""
    with tf1.variable_scope('lstm_model') as scope:
        step = LSTM_Model(16, 2, 1, None, 1, 9, infer_sample=True)
        scope.reuse_variables()
        whole = LSTM_Model(16, 2, 1, None, 8, 9, infer_sample=True)
        chunk = LSTM_Model(16, 2, 1, None, 4, 9, infer_sample=True)
    rng = np.random.RandomState(2)
    for v in tf1.trainable_variables():
        v.load(rng.randn(*v.shape.as_list()).astype(np.float32), graph)
    b = [v for v in tf1.global_variables() if v.name == 'lstm_model/lstm_vars/b:0'][0]
    b.load(np.r_[-1000.0, np.zeros(8)].astype(np.float32), graph)  # never index 0
    state = sampling.prime_state(step, graph, [3, 5])
    want, want_state = sampling.generate(whole, graph, state, 5)
    first, state = sampling.generate(chunk, graph, state, 5)
    second, state = sampling.generate(chunk, graph, state, first[-1])
    assert list(first) + list(second) == list(want)
    assert len(set(want)) > 1  # not a constant text
    for a, b in zip(tf.nest.flatten(state), tf.nest.flatten(want_state)):
        # sums of 16 inputs + 16 units, 2 layers, 1 prime + 8 steps
        assert_float32_close(a, b, terms=16 + 16, steps=2 * 9)


def _frequencies(graph, strategy, temperature, top_k, probabilities, n=4000, ix2vocab=None):
    logits = tf1.placeholder(tf.float32, [1, len(probabilities)])
    choose = sampling.chooser(strategy, temperature, top_k, len(probabilities), ix2vocab)
    draws = choose(tf.tile(logits, [n, 1]))  # a batch of n rows: n draws
    got = graph.run(draws, {logits: np.log([probabilities])})
    return np.bincount(got, minlength=len(probabilities)) / n


def test_weighted_draws_follow_the_softmax_without_unknown(graph):
    tf1.set_random_seed(0)
    # index 0, 'unknown', is never drawn; the rest in proportion
    p = [0.5, 0.35, 0.1, 0.05]
    np.testing.assert_allclose(_frequencies(graph, 'weighted', 1.0, None, p),
                               [0, 0.7, 0.2, 0.1], atol=0.03)
    # temperature 2 flattens: p ** (1 / 2), renormalised
    hot = np.sqrt([0.35, 0.1, 0.05])
    np.testing.assert_allclose(_frequencies(graph, 'weighted', 2.0, None, p),
                               [0] + list(hot / hot.sum()), atol=0.03)
    np.testing.assert_allclose(_frequencies(graph, 'topk', 1.0, 2, p),
                               [0, 0.35 / 0.45, 0.1 / 0.45, 0], atol=0.03)
    # an index that names no token (the book's unused class) is never drawn either
    no_two = {0: 'unknown', 1: 'a', 3: 'c'}
    np.testing.assert_allclose(_frequencies(graph, 'weighted', 1.0, None, p, ix2vocab=no_two),
                               [0, 0.35 / 0.4, 0, 0.05 / 0.4], atol=0.03)
    np.testing.assert_allclose(_frequencies(graph, 'topk', 1.0, 1, p, ix2vocab=no_two),
                               [0, 1, 0, 0])


def test_topk_keeps_its_k_at_a_huge_temperature(graph):
    # 1e38: the logits' differences divided by it are below float32's smallest
    # normal number, flushed to 0, so a top k taken after the division keeps all
    tf1.set_random_seed(0)
    got = _frequencies(graph, 'topk', 1e38, 2, [0.1, 0.2, 0.3, 0.4])
    assert got[:2].tolist() == [0, 0]  # only the two most probable, 2 and 3
    np.testing.assert_allclose(got, [0, 0, 0.5, 0.5], atol=0.03)  # as if uniform


@pytest.mark.parametrize('kwargs, message', [
    (dict(strategy='beam'), 'strategy must be one of'),
    (dict(strategy='weighted', temperature=0), 'temperature must be above 0'),
    (dict(strategy='topk', top_k=9), r'top_k must be between 1 and the number of tokens a draw '
                                     r"can take \('unknown' and indices naming no token are "
                                     r'never drawn\), 8, not 9'),
    (dict(strategy='topk', top_k=8, ix2vocab={i: str(i) for i in range(8)}),
     r'never drawn\), 7, not 8'),  # index 8 names no token
])
def test_bad_strategy_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampling.chooser(vocab_size=9, **kwargs)


@pytest.mark.parametrize('recipe', ['03', '04'])
def test_each_strategy_prints_the_prime_and_num_tokens(runs, recipe):
    for strategy in ('weighted', 'topk'):
        result = sample('--checkpoint', runs[recipe], '--prime', 'Thou art', '--num', 30,
                        '--strategy', strategy, '--seed', 5,
                        *(('--top-k', 3) if strategy == 'topk' else ()))
        assert result.returncode == 0, result.stderr[-3000:]
        (line,) = result.stdout.splitlines()
        assert line.startswith('thou art')
        new = line[len('thou art'):]
        assert (len(new) if recipe == '04' else len(new.split())) == 30
    greedy = sample('--checkpoint', runs[recipe], '--prime', 'Thou art', '--num', 30)
    assert greedy.returncode == 0, greedy.stderr[-3000:]
    assert greedy.stdout.startswith('thou art')


@pytest.mark.parametrize('recipe', ['03', '04'])
def test_same_seed_same_text_and_greedy_graph_equals_python_loop(runs, recipe):
    args = ('--checkpoint', runs[recipe], '--num', 25, '--prime', 'to be or not to')
    first = sample(*args, '--strategy', 'weighted', '--seed', 11)
    again = sample(*args, '--strategy', 'weighted', '--seed', 11)
    other = sample(*args, '--strategy', 'weighted', '--seed', 12)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    graph_side = sample(*args)
    python_loop = sample(*args, '--python-loop')
    fused = sample(*args, '--cell-impl', 'fused')
    assert python_loop.returncode == 0, python_loop.stderr[-3000:]
    assert fused.returncode == 0, fused.stderr[-3000:]
    assert graph_side.stdout == python_loop.stdout == fused.stdout
    assert 'one session call per token' in python_loop.stderr


def test_prime_words_outside_the_vocabulary(runs):
    args = ('--checkpoint', runs['03'], '--prime', 'Thou Zounds art', '--num', 3)
    lenient = sample(*args)
    assert lenient.returncode == 0, lenient.stderr[-3000:]
    assert "words not in the vocabulary: 'zounds'; read as 'unknown', and printed so" \
        in lenient.stderr
    assert lenient.stdout.startswith('thou unknown art')  # as the model read it
    # greedy text that stops at index 0 says why
    stopped = [line for line in lenient.stderr.splitlines() if line.startswith('(greedy stopped')]
    generated = len(lenient.stdout.split()) - 3
    assert bool(stopped) == (generated < 3)
    if stopped:
        assert stopped[0].startswith('(greedy stopped after {} of 3 tokens'.format(generated))
    strict = sample(*args, '--strict')
    assert strict.returncode == 1
    assert "not in the vocabulary: 'zounds' (--strict)" in strict.stderr


def test_empty_prime_is_a_clear_error(runs):
    result = sample('--checkpoint', runs['03'], '--prime', ' ?! ')
    assert result.returncode == 1
    assert 'is empty once punctuation and whitespace are removed' in result.stderr


def _copy_run(run, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(run, copy)
    return copy


def test_missing_or_broken_run_files_are_named(runs, tmp_path):
    result = sample('--checkpoint', tmp_path / 'nowhere')
    assert result.returncode == 1 and 'no such run folder or checkpoint' in result.stderr

    run = _copy_run(runs['04'], tmp_path)
    (run / 'config.json').unlink()
    result = sample('--checkpoint', run)
    assert result.returncode == 1 and '{} is missing'.format(run / 'config.json') in result.stderr

    run = _copy_run(runs['04'], tmp_path / 'b')
    (run / 'model-20.index').unlink()
    result = sample('--checkpoint', run)
    # the newest complete checkpoint is taken, and the note says which
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Note: the latest checkpoint, model-20, lacks some of its weights: using ' \
           'model-10, the newest complete one.' in result.stderr.splitlines()
    # which checkpoint, beside the iteration of the run's last printed samples
    assert 'Sampling greedy from {} (04_stacking_multiple_lstm, char level), the checkpoint ' \
           'of iteration 10; the run last printed its samples at iteration 20, so greedy text ' \
           'may differ from them'.format(run / 'model-10') in result.stderr.splitlines()

    run = _copy_run(runs['04'], tmp_path / 'c')
    for data in run.glob('model-20.data-*'):
        data.write_bytes(data.read_bytes()[:100])  # truncated, as by a full disk
    result = sample('--checkpoint', run)
    assert result.returncode == 1
    assert '{}: the checkpoint cannot be read'.format(run / 'model-20') in result.stderr

    # an earlier checkpoint of the same run still works
    result = sample('--checkpoint', run / 'model-10', '--num', 3)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_checkpoint_removed_while_read_is_replaced_by_the_newest(runs, tmp_path, monkeypatch):
    """A run saving every iteration keeps only its newest checkpoints: the one the
    sampler found can go while it reads it. Given the folder, it takes the newest
    complete one again, three times at most; given one checkpoint, it says so."""
    from cookbook_lstm import checkpoints
    run = _copy_run(runs['04'], tmp_path)
    for i in (30, 40, 50):  # more checkpoints, as a longer run keeps
        for f in run.glob('model-10.*'):
            shutil.copyfile(f, run / f.name.replace('model-10', 'model-{}'.format(i)))
    checkpoints.write_pointer(run, ['model-{}'.format(i) for i in (10, 20, 30, 40, 50)])
    restore, read = checkpoints.restore, []

    def removed_as_read(sess, saver, checkpoint, config=None, keep=()):
        read.append(Path(checkpoint).name)
        if read[-1] not in keep:  # the run's Saver removes it: the real error follows
            checkpoints.remove_checkpoint(checkpoint)
        return restore(sess, saver, checkpoint, config)

    monkeypatch.setattr(checkpoints, 'restore', functools.partial(
        removed_as_read, keep=('model-40',)))
    result = sample('--checkpoint', run, '--num', 3)
    assert result.returncode == 0, result.stderr[-3000:]
    assert read == ['model-50', 'model-40']
    assert 'Note: model-50 was removed while it was being read (the run writing in the ' \
           'folder keeps only its newest checkpoints): using model-40.' in result.stderr
    assert 'Sampling greedy from {} '.format(run / 'model-40') in result.stderr

    read.clear()  # each one found removed: 1 read and 3 more, then the message
    monkeypatch.setattr(checkpoints, 'restore', removed_as_read)
    result = sample('--checkpoint', run, '--num', 3)
    assert result.returncode == 1
    assert read == ['model-40', 'model-30', 'model-20', 'model-10']
    assert 'Error: {} was removed while it was being read'.format(run / 'model-10') \
        in result.stderr
    assert 'Traceback' not in result.stderr

    read.clear()  # a checkpoint named: not replaced
    run = _copy_run(runs['04'], tmp_path / 'named')
    result = sample('--checkpoint', run / 'model-20', '--num', 3)
    assert result.returncode == 1
    assert read == ['model-20']
    assert 'Error: {} was removed while it was being read'.format(run / 'model-20') \
        in result.stderr
