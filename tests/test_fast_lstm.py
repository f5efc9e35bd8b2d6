"""The fast paths of fast_lstm: the book's variables and numbers, other graphs."""
import numpy as np
import pytest
import tensorflow as tf

from cookbook_lstm import fast_lstm
from conftest import assert_float32_close, seeded_graph
from cookbook_lstm.legacy_seq2seq import rnn_decoder
from cookbook_lstm.model_parts import softmax_loss
from lstm_model import LSTM_Model

tf1 = tf.compat.v1


# (--cell-impl, --softmax-blocks, --xla-softmax)
FAST_PATHS = [('fused', 1, False), ('projected', 1, False), ('basic', 3, False),
              ('projected', 4, False), ('projected', 1, True), ('basic', 3, True)]


@pytest.mark.float32
@pytest.mark.parametrize('layers, separate', [(1, False), (3, False), (3, True)],
                         ids=['one layer', 'three tied', 'three separate'])
def test_fast_paths_give_the_same_outputs_and_gradients_for_the_same_weights(
        layers, separate):
    """--cell-impl fused and projected, --softmax-blocks (35 rows in 3 and 4
    uneven blocks) and --xla-softmax: same variables, loss, state, gradients as
    the book's graph."""
    rng = np.random.RandomState(4)
    x = rng.randint(0, 13, (5, 7))
    y = rng.randint(0, 13, (5, 7))
    weights, results = None, {}
    for impl, blocks, xla in [('basic', 1, False)] + FAST_PATHS:
        g = seeded_graph()
        with g.as_default(), tf1.Session(graph=g) as sess:
            with tf1.variable_scope('lstm_model'):
                model = LSTM_Model(6, layers, 5, 0.01, 7, 13, embedding_size=6,
                                   separate_layers=separate,
                                   decoder=fast_lstm.DECODERS[impl],
                                   loss_layer=fast_lstm.blocked_softmax_loss(blocks, xla))
            variables = tf1.trainable_variables()
            grads = [tf.convert_to_tensor(d) for d in tf.gradients(model.cost, variables)]
            sess.run(tf1.global_variables_initializer())
            if weights is None:  # the basic model's weights, given to all
                weights = {v.name: rng.uniform(-0.5, 0.5, v.shape.as_list()).astype(np.float32)
                           for v in variables}
            assert sorted(weights) == sorted(v.name for v in variables)
            for v in variables:
                v.load(weights[v.name], sess)
            feed = {model.x_data: x, model.y_output: y}
            results[impl, blocks, xla] = sess.run(
                [model.cost, tf.nest.flatten(model.final_state), grads, model.logit_output],
                feed)
            results[impl, blocks, xla, 'names'] = sorted((v.name, tuple(v.shape.as_list()))
                                                         for v in tf1.global_variables())
    cost_b, state_b, grads_b, logits_b = results['basic', 1, False]
    assert np.abs(grads_b[-1]).max() > 0  # the gradients compared are not all zero
    for path in FAST_PATHS:
        assert results[path + ('names',)] == results['basic', 1, False, 'names']
        cost, state, grads, logits = results[path]
        # forward: sums of at most 13 terms (6 inputs + 6 units; 13 classes)
        # through `layers` layers x 7 steps, then the softmax layer
        forward = layers * 7 + 1
        assert_float32_close(logits, logits_b, terms=13, steps=forward)
        for a, b in zip(state, state_b):
            assert_float32_close(a, b, terms=13, steps=forward)
        # the cost: one more stage, the mean of 35 rows; a gradient: back through
        # the same stages, and a sum over the 35 rows
        assert_float32_close(cost, cost_b, terms=35, steps=forward + 1)
        for a, b in zip(grads, grads_b):
            assert_float32_close(a, b, terms=35, steps=2 * forward)


def _loss_products(model):
    """The forward products by W that the loss is made from: [rows, 4] x [4, 11]."""
    shown = model.logit_output.op.inputs[0].op  # the sampling output's own product
    return [op for op in tf1.get_default_graph().get_operations()
            if op.type == 'MatMul' and not op.name.startswith('gradients')
            and op.outputs[0].shape[-1] == 11 and op is not shown]


def test_softmax_blocks_split_the_rows_as_evenly_as_can_be(graph):
    model = LSTM_Model(4, 1, 5, 0.01, 7, 11, loss_layer=fast_lstm.blocked_softmax_loss(4))
    assert sorted(p.inputs[0].shape[0] for p in _loss_products(model)) == [8, 9, 9, 9]
    assert model.logit_output.shape.as_list() == [35, 11]


def test_one_softmax_block_is_the_books_loss(graph):
    assert fast_lstm.blocked_softmax_loss(1) is softmax_loss
    assert fast_lstm.blocked_softmax_loss(1, xla=False) is softmax_loss
    model = LSTM_Model(4, 1, 5, 0.01, 7, 11, loss_layer=fast_lstm.blocked_softmax_loss(1))
    assert [p.inputs[0].shape[0] for p in _loss_products(model)] == [35]


@pytest.mark.parametrize('blocks', [0, 2.0])
def test_softmax_blocks_not_a_whole_number_is_a_clear_error(blocks):
    with pytest.raises(ValueError, match='blocks must be a whole number of at least 1'):
        fast_lstm.blocked_softmax_loss(blocks)


def test_more_softmax_blocks_than_rows_is_a_clear_error(graph):
    with pytest.raises(ValueError, match=r'36 softmax blocks for 35 rows .* at most 35'):
        LSTM_Model(4, 1, 5, 0.01, 7, 11, loss_layer=fast_lstm.blocked_softmax_loss(36))


def test_the_cell_impl_flag_offers_exactly_the_decoders():
    from cookbook_lstm import settings
    assert settings.SETTINGS['cell_impl'].kind.names == tuple(fast_lstm.DECODERS)
    assert fast_lstm.DECODERS['basic'] is rnn_decoder


def test_xla_softmax_runs_the_loss_layer_and_its_gradient_as_compiled_clusters(graph):
    """--xla-softmax: the loss layer's ops and their gradients are marked for XLA,
    the rest is not, and a training step runs the marked ops as XLA clusters (the
    mark is only a hint; this checks TensorFlow took it)."""
    model = LSTM_Model(4, 1, 5, 0.01, 7, 11, loss_layer=fast_lstm.blocked_softmax_loss(1, xla=True))
    ops = tf1.get_default_graph().get_operations()

    def marked(op):
        try:
            return op.get_attr('_XlaCompile')
        except ValueError:
            return False
    xent = [op for op in ops if op.type == 'SparseSoftmaxCrossEntropyWithLogits']
    assert xent and all(marked(op) for op in xent)
    loss_products = _loss_products(model)
    assert loss_products and all(marked(op) for op in loss_products)
    # their bias is a BiasAdd (faster here than the book's `+ b` with XLA), marked too
    adds = [c for p in loss_products for c in p.outputs[0].consumers()]
    assert [op.type for op in adds] == ['BiasAdd'] and all(marked(op) for op in adds)
    assert any(marked(op) and op.name.startswith('gradients') and op.type == 'MatMul'
               for op in ops)  # the products' gradients
    assert not any(marked(op) for op in ops if 'basic_lstm_cell' in op.name
                   and not op.name.startswith('gradients'))  # the LSTM is not compiled
    metadata = tf1.RunMetadata()
    with tf1.Session() as sess:
        sess.run(tf1.global_variables_initializer())
        sess.run(model.train_op, {model.x_data: np.ones((5, 7)), model.y_output: np.ones((5, 7))},
                 options=tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
    ran = {node.node_name for dev in metadata.step_stats.dev_stats for node in dev.node_stats}
    assert any('cluster' in name for name in ran), sorted(ran)
    assert not any(name == op.name for op in xent for name in ran)  # not run as TF's kernel
