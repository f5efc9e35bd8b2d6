"""LSTM_Model and its TF1 pieces, on tiny graphs."""
import math

import numpy as np
import pytest
import tensorflow as tf

from conftest import assert_float32_close, seeded_graph
from cookbook_lstm.legacy_seq2seq import rnn_decoder, sequence_loss_by_example
from lstm_model import LSTM_Model

tf1 = tf.compat.v1


@pytest.mark.float32
def test_rnn_decoder_matches_static_rnn(graph):
    cell = tf1.nn.rnn_cell.BasicLSTMCell(6)
    inputs = [tf.constant(np.random.RandomState(i).randn(3, 4), tf.float32)
              for i in range(5)]
    state0 = cell.zero_state(3, tf.float32)
    outputs, state = rnn_decoder(inputs, state0, cell)
    # the same cell object, so the same weights
    ref_outputs, ref_state = tf1.nn.static_rnn(cell, inputs, initial_state=state0)
    graph.run(tf1.global_variables_initializer())
    got, want = graph.run([(outputs, state), (ref_outputs, ref_state)])
    assert len(got[0]) == 5
    for a, b in zip(tf.nest.flatten(got), tf.nest.flatten(want)):
        # sums of 4 inputs + 6 units, over 5 steps
        assert_float32_close(a, b, terms=4 + 6, steps=5)
    names = [v.name for v in tf1.trainable_variables()]
    assert names == ['rnn_decoder/basic_lstm_cell/kernel:0',
                     'rnn_decoder/basic_lstm_cell/bias:0']


def test_rnn_decoder_calls_loop_function_from_the_second_step(graph):
    calls = []

    def loop_function(prev, i):
        calls.append((prev, i))
        return tf.ones([2, 3]) * float(i)

    cell = tf1.nn.rnn_cell.BasicLSTMCell(4)
    inputs = [tf.zeros([2, 3]) for _ in range(4)]
    outputs, _ = rnn_decoder(inputs, cell.zero_state(2, tf.float32), cell,
                             loop_function=loop_function)
    assert [i for _, i in calls] == [1, 2, 3]
    # each call sees the output of the step before it
    assert [prev for prev, _ in calls] == outputs[:3]


@pytest.mark.float32
def test_constant_logits_give_ln_v_per_position(graph):
    V = 7
    logits = [tf.zeros([5, V])]
    targets = [tf.constant([0, 1, 2, 3, 6])]
    weights = [tf.ones([5])]
    loss = graph.run(sequence_loss_by_example(logits, targets, weights))
    assert loss.shape == (5,)
    assert_float32_close(loss, [math.log(V)] * 5, terms=V)  # log of a sum of V terms


@pytest.mark.float32
def test_sequence_loss_averages_across_timesteps(graph):
    # two steps; the first with weight 1, the second with weight 0
    logits = [tf.constant([[0.0, 0.0]]), tf.constant([[5.0, 0.0]])]
    targets = [tf.constant([1]), tf.constant([1])]
    weights = [tf.constant([1.0]), tf.constant([0.0])]
    averaged = sequence_loss_by_example(logits, targets, weights)
    summed = sequence_loss_by_example(logits, targets, weights,
                                      average_across_timesteps=False)
    got_avg, got_sum = graph.run([averaged, summed])
    assert_float32_close(got_avg, [math.log(2)], terms=2)  # 2 classes
    assert_float32_close(got_sum, [math.log(2)], terms=2)
    # weights [1, 0] cannot tell the two apart; [1, 1] can: the mean and the sum
    weights = [tf.constant([1.0]), tf.constant([1.0])]
    both, both_summed = graph.run([
        sequence_loss_by_example(logits, targets, weights),
        sequence_loss_by_example(logits, targets, weights, average_across_timesteps=False)])
    total = math.log(2) + 5 + math.log(1 + math.exp(-5))
    assert_float32_close(both, [total / 2], terms=2, steps=2)  # 2 classes, 2 steps summed
    assert_float32_close(both_summed, [total], terms=2, steps=2)


@pytest.mark.float32
def test_sequence_loss_and_its_gradient_match_numpy(graph):
    rng = np.random.RandomState(0)
    logits_np = rng.randn(6, 9).astype(np.float32)
    targets_np = np.array([0, 3, 8, 3, 1, 5])
    logits = tf.constant(logits_np)
    loss = sequence_loss_by_example([logits], [tf.constant(targets_np)], [tf.ones([6])])
    got_loss, got_grad = graph.run([loss, tf.gradients(tf.reduce_sum(loss), logits)[0]])
    shifted = logits_np - logits_np.max(1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
    # each a sum over 9 classes
    assert_float32_close(got_loss, -np.log(softmax[np.arange(6), targets_np]), terms=9)
    onehot = np.eye(9)[targets_np]
    assert_float32_close(got_grad, softmax - onehot, terms=9)


def test_loss_keeps_the_fused_kernel_when_op_determinism_is_on(graph):
    # The recipes turn op determinism on (as the tests do, in conftest). TF 2's
    # sparse softmax function then builds log_softmax + gather instead (slower,
    # +300 MB at the word recipe's size); the book's TF1 graph had the fused kernel.
    from tensorflow.python.framework import config
    assert config.is_op_determinism_enabled()
    LSTM_Model(4, 1, 2, 0.01, 3, 11)
    op_types = {op.type for op in tf1.get_default_graph().get_operations()}
    assert 'SparseSoftmaxCrossEntropyWithLogits' in op_types
    assert 'LogSoftmax' not in op_types


def test_sequence_loss_refuses_lists_of_different_lengths(graph):
    with pytest.raises(ValueError, match='same length'):
        sequence_loss_by_example([tf.zeros([1, 2])], [], [tf.ones([1])])


def _names(variables):
    return sorted(v.name[:-2] for v in variables)


def test_word_model_variable_names_and_shapes(graph):
    model = LSTM_Model(8, 1, 2, 0.01, 3, 11, embedding_size=5)
    shapes = {v.name[:-2]: v.shape.as_list() for v in tf1.trainable_variables()}
    assert shapes == {'lstm_vars/W': [8, 11], 'lstm_vars/b': [11],
                      'lstm_vars/embedding_mat': [11, 5],
                      'rnn_decoder/basic_lstm_cell/kernel': [5 + 8, 32],
                      'rnn_decoder/basic_lstm_cell/bias': [32]}
    assert model.x_data.shape.as_list() == [2, 3]
    assert model.logit_output.shape.as_list() == [6, 11]


def test_book_scope_and_sampling_model_share_weights(graph):
    with tf1.variable_scope('lstm_model') as scope:
        LSTM_Model(8, 1, 2, 0.01, 3, 11)
        scope.reuse_variables()
        sampler = LSTM_Model(8, 1, 1, None, 1, 11, infer_sample=True)
    assert _names(tf1.trainable_variables()) == [
        'lstm_model/lstm_vars/W', 'lstm_model/lstm_vars/b',
        'lstm_model/lstm_vars/embedding_mat',
        'lstm_model/rnn_decoder/basic_lstm_cell/bias',
        'lstm_model/rnn_decoder/basic_lstm_cell/kernel']
    assert sampler.x_data.shape.as_list() == [1, 1]
    assert not hasattr(sampler, 'train_op')


def test_three_layers_tied_as_printed(graph):
    LSTM_Model(128, 3, 2, 0.01, 3, 40)
    assert _names(tf1.trainable_variables()) == [
        'lstm_vars/W', 'lstm_vars/b', 'lstm_vars/embedding_mat',
        'rnn_decoder/multi_rnn_cell/cell_0/basic_lstm_cell/bias',
        'rnn_decoder/multi_rnn_cell/cell_0/basic_lstm_cell/kernel']
    # the printed code on TF >= 1.2: 4 x 128 x (128 + 128 + 1) + 2 x 128 x 40 + 40
    assert sum(np.prod(v.shape.as_list()) for v in tf1.trainable_variables()) == 141864


def test_three_separate_layers(graph):
    LSTM_Model(128, 3, 2, 0.01, 3, 40, separate_layers=True)
    names = _names(tf1.trainable_variables())
    for layer in range(3):
        assert 'rnn_decoder/multi_rnn_cell/cell_{}/basic_lstm_cell/kernel'.format(layer) in names
    assert sum(np.prod(v.shape.as_list()) for v in tf1.trainable_variables()) == 405032


def _tiny_pair(num_layers=1, vocab_size=6, batch_size=4, seq_len=5):
    with tf1.variable_scope('lstm_model') as scope:
        model = LSTM_Model(16, num_layers, batch_size, 0.05, seq_len, vocab_size)
        scope.reuse_variables()
        sampler = LSTM_Model(16, num_layers, 1, None, 1, vocab_size, infer_sample=True)
    return model, sampler


def test_seeded_tiny_training_lowers_the_loss(graph):
    model, _ = _tiny_pair(num_layers=2)
    graph.run(tf1.global_variables_initializer())
    # a repeating pattern 1 2 3 4 5 1 2 3 ...: easy to learn
    stream = np.arange(4 * 5 + 1) % 5 + 1
    x = stream[:-1].reshape(4, 5)
    y = stream[1:].reshape(4, 5)
    losses = [graph.run([model.cost, model.train_op],
                        {model.x_data: x, model.y_output: y})[0] for _ in range(40)]
    assert losses[-1] < 0.5 * losses[0]


VOCAB = ['unknown', 'thou', 'art', 'more', 'fair', 'sun']


def test_sample_has_the_expected_form(graph):
    _, sampler = _tiny_pair()
    graph.run(tf1.global_variables_initializer())
    ix2vocab = dict(enumerate(VOCAB))
    vocab2ix = {w: i for i, w in ix2vocab.items()}
    text = sampler.sample(graph, ix2vocab, vocab2ix, num=4, prime_text='thou art')
    words = text.split(' ')
    assert words[:2] == ['thou', 'art']
    assert 2 <= len(words) <= 6
    assert all(w in VOCAB[1:] for w in words)
    # greedy: the same text again
    assert sampler.sample(graph, ix2vocab, vocab2ix, num=4, prime_text='thou art') == text


def test_sample_by_characters_joins_without_spaces(graph):
    _, sampler = _tiny_pair(vocab_size=4)
    graph.run(tf1.global_variables_initializer())
    ix2vocab = {0: 'unknown', 1: 'a', 2: 'b', 3: ' '}
    vocab2ix = {c: i for i, c in ix2vocab.items()}
    text = sampler.sample(graph, ix2vocab, vocab2ix, num=6, prime_text='ab a',
                          char_level=True)
    assert text.startswith('ab a') and len(text) <= 10
    assert set(text) <= {'a', 'b', ' '}


def test_out_of_vocabulary_prime_word_is_a_clear_error(graph):
    _, sampler = _tiny_pair()
    graph.run(tf1.global_variables_initializer())
    ix2vocab = dict(enumerate(VOCAB))
    vocab2ix = {w: i for i, w in ix2vocab.items()}
    with pytest.raises(ValueError, match=r"outside the vocabulary: 'romeo'"):
        sampler.sample(graph, ix2vocab, vocab2ix, prime_text='thou romeo')
    with pytest.raises(ValueError, match='prime text is empty'):
        sampler.sample(graph, ix2vocab, vocab2ix, prime_text='  ')


@pytest.mark.float32
def test_inferred_loop_feeds_greedy_choices_back(graph):
    """Unrolled for 6 steps, the loop function gives the step-by-step sampler's text."""
    with tf1.variable_scope('lstm_model') as scope:
        LSTM_Model(16, 2, 4, 0.05, 5, 6)
        scope.reuse_variables()
        step = LSTM_Model(16, 2, 1, None, 1, 6, infer_sample=True)
        unrolled = LSTM_Model(16, 2, 1, None, 6, 6, infer_sample=True)
    graph.run(tf1.global_variables_initializer())

    # one graph call: only x_data[0, 0] is read, the rest comes from the loop
    start = np.array([[3, 0, 0, 0, 0, 0]])
    logits = graph.run(unrolled.logit_output, {unrolled.x_data: start})
    graph_tokens = list(np.argmax(logits, axis=1))

    # the same, one token at a time through Python
    state = graph.run(step.initial_state)
    token, python_tokens, python_logits = 3, [], []
    for _ in range(6):
        out, state = graph.run([step.logit_output, step.final_state],
                               {step.x_data: [[token]], step.initial_state: state})
        token = int(np.argmax(out[0]))
        python_tokens.append(token)
        python_logits.append(out[0])
    assert graph_tokens == python_tokens
    # 16 + 16 terms a gate, 2 layers, 6 steps; then 16 terms a logit
    assert_float32_close(logits, np.array(python_logits), terms=16 + 16, steps=2 * 6 + 1)
    # no gradient flows back through the greedy choice
    prev = tf1.placeholder(tf.float32, [1, 16])
    with tf1.variable_scope('lstm_model', reuse=True):
        fed_back = unrolled.inferred_loop(prev, 1)
    assert fed_back.shape.as_list() == [1, 16]
    assert tf.gradients(fed_back, prev) == [None]


def test_sample_says_unknown_for_the_index_with_no_word(graph):
    # the book's word vocabulary: 'unknown' moved to 0, leaving index 2 unused
    _, sampler = _tiny_pair(vocab_size=4)
    ix2vocab = {0: 'unknown', 1: 'thou', 3: 'art'}
    vocab2ix = {w: i for i, w in ix2vocab.items()}
    graph.run(tf1.global_variables_initializer())
    b = [v for v in tf1.global_variables() if v.name == 'lstm_model/lstm_vars/b:0'][0]
    graph.run(b.assign([0.0, 0.0, 1000.0, 0.0]))  # always pick index 2
    text = sampler.sample(graph, ix2vocab, vocab2ix, num=2, prime_text='thou art')
    assert text == 'thou art unknown unknown'


def test_eager_mode_is_a_clear_error(monkeypatch):
    # as TensorFlow 2 starts: eager on (the tests run with it off)
    monkeypatch.setattr(tf, 'executing_eagerly', lambda: True)
    with pytest.raises(RuntimeError, match=r'disable_eager_execution\(\) first'):
        LSTM_Model(8, 1, 2, 0.01, 3, 11)


def test_the_sampling_model_has_no_learning_rate_and_the_training_model_needs_one(graph):
    with pytest.raises(ValueError, match='build it with learning_rate=None'):
        LSTM_Model(8, 1, 1, 0.01, 1, 11, infer_sample=True)
    with pytest.raises(ValueError, match='needs a learning_rate'):
        LSTM_Model(8, 1, 2, None, 3, 11)


def _keras_input_walk(tensors):
    """The tensors tf-keras's keras.Input check visits from tensors: it walks
    back through op inputs and stops at tensors marked as checked."""
    seen, todo = set(), list(tensors)
    while todo:
        tensor = todo.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if getattr(tensor, '_keras_history_checked', None) is None:
            todo.extend(tensor.op.inputs)
    return len(seen)


def test_the_generators_keras_input_checks_stop_at_the_step_before():
    # Each cell call walks back from its input; with a loop function the
    # walk used to run back to the first step (the build grew with the
    # square of the steps). Start where the next call's walk would: the
    # inputs of the last step's state.
    walked = {}
    for steps in (5, 40):
        with seeded_graph().as_default():
            model = LSTM_Model(4, 3, 1, None, steps, 7, infer_sample=True)
            last_c = tf.nest.flatten(model.final_state)[-2]
            walked[steps] = _keras_input_walk(last_c.op.inputs)
    assert walked[40] == walked[5] < 60
