"""The graphs as they are built for a GPU hold no op that TensorFlow refuses there
under op determinism (which every run turns on). No GPU is needed: the graphs are
built inside tf.device('/device:GPU:0'), which only records where each op asks to
run; nothing is run. docs/where-it-runs.md lists every op type of the graphs with its
verdict (tested).
"""
import pytest
import tensorflow as tf
from tensorflow.python.framework import config

from cookbook_lstm import fast_lstm, sampling
from cookbook_lstm.lstm_classifier import LSTM_Classifier
from lstm_model import LSTM_Model

tf1 = tf.compat.v1

# The GPU kernels that raise UnimplementedError under op determinism (TensorFlow's
# sources: each kernel's OP_REQUIRES(!OpDeterminismRequired()) and its *_d9m_test.py),
# among the ops a graph like these could hold
REFUSED_ON_GPU = {
    'SparseSoftmaxCrossEntropyWithLogits',  # sparse_xent_op.cc; sparse_xent_op_d9m_test.py
    'SoftmaxCrossEntropyWithLogits',        # xent_op.cc; xent_op_d9m_test.py
    'Bincount', 'DenseBincount',            # bincount_op.cc; bincount_op_test.py
    'SparseTensorDenseMatMul',              # sparse_tensor_dense_matmul_op_gpu.cu.cc
    # scatter ops on TF1 reference variables (resource variables have a
    # deterministic one): scatter_ops_test.py, testDeterminismExceptionThrowing
    'ScatterUpdate', 'ScatterAdd', 'ScatterSub', 'ScatterMul', 'ScatterDiv',
    'ScatterMin', 'ScatterMax',
}


def op_types(build):
    graph = tf.Graph()
    with graph.as_default(), tf.device('/device:GPU:0'):
        tf1.set_random_seed(0)
        build()
        tf1.train.Saver()
    return {op.type for op in graph.get_operations()}


def language_models(impl, cell, layers, separate, xla=False):
    def build():
        with tf1.variable_scope('lstm_model') as scope:
            LSTM_Model(16, layers, 4, 0.001, 8, 50, separate_layers=separate, cell=cell,
                       dropout=0.8 if cell != 'basic_lstm' else 1.0,
                       decoder=fast_lstm.DECODERS[impl],
                       loss_layer=fast_lstm.blocked_softmax_loss(2, xla))
            scope.reuse_variables()
            LSTM_Model(16, layers, 1, None, 1, 50, infer_sample=True, separate_layers=separate,
                       cell=cell)
            for strategy in ('weighted', 'topk'):
                LSTM_Model(16, layers, 1, None, 8, 50, infer_sample=True,
                           separate_layers=separate, cell=cell,
                           choose=sampling.chooser(strategy, 0.8, 5, 50))
    return build


GRAPHS = {'{} {} {}{}'.format(impl, cell, layers, ' separate' * separate):
          language_models(impl, cell, layers, separate)
          for impl, cell, layers, separate in [
              ('basic', 'basic_lstm', 1, False), ('basic', 'basic_lstm', 3, False),
              ('basic', 'basic_lstm', 3, True), ('fused', 'basic_lstm', 3, False),
              ('projected', 'basic_lstm', 3, True), ('basic', 'gru', 2, False),
              ('basic', 'basic_rnn', 2, False), ('basic', 'lstm', 2, True)]}
GRAPHS['projected basic_lstm 1 xla-softmax'] = language_models('projected', 'basic_lstm', 1,
                                                                 False, xla=True)
GRAPHS.update({'classifier ' + v: (lambda v=v: LSTM_Classifier(v, 100, 8, 8, 8, 10, 0.001))
               for v in ('lstm', 'bilstm', 'bilstm2')})




def siamese():
    """Recipe 06's training graph: the book's model file, its loss, accuracies, Adam."""
    import sys
    from conftest import PROJECT_DIR
    sys.path.insert(0, str(PROJECT_DIR / 'recipes'))
    import siamese_similarity_model as model
    a1, a2 = tf1.placeholder(tf.int32, [None, 20]), tf1.placeholder(tf.int32, [None, 20])
    y, keep = tf1.placeholder(tf.int32, [None]), tf1.placeholder(tf.float32)
    identity = tf1.diag(tf.ones([38]))
    scores = model.snn(tf.nn.embedding_lookup(identity, a1), tf.nn.embedding_lookup(identity, a2),
                       keep, 38, 8, 20)
    model.accuracy(scores, y)
    model.corrected_accuracy(scores, y, 0.25)
    tf1.train.AdamOptimizer(0.01).minimize(model.loss(scores, y, 0.25))


GRAPHS['siamese'] = siamese


def spam_rnn(single_softmax):
    """Recipe 02's training graph, as the recipe builds it (either loss)."""
    def build():
        from cookbook_lstm.model_parts import seeded_dropout
        x, y = tf1.placeholder(tf.int32, [None, 25]), tf1.placeholder(tf.int32, [None])
        keep = tf1.placeholder(tf.float32)
        embedding = tf1.Variable(tf1.random_uniform([933, 50], -1.0, 1.0))
        output, _ = tf1.nn.dynamic_rnn(tf1.nn.rnn_cell.BasicRNNCell(10),
                                       tf.nn.embedding_lookup(embedding, x), dtype=tf.float32)
        output = tf.transpose(seeded_dropout(output, keep), [1, 0, 2])
        logits = tf.matmul(tf.gather(output, 24), tf1.Variable(tf1.truncated_normal([10, 2])))
        if not single_softmax:
            logits = tf.nn.softmax(logits)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            logits=logits, labels=y))
        tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.cast(y, tf.int64)),
                               tf.float32))
        tf1.train.RMSPropOptimizer(0.0005).minimize(loss)
    return build


GRAPHS['spam rnn'] = spam_rnn(False)
GRAPHS['spam rnn single-softmax'] = spam_rnn(True)


def documented_op_types():
    """The op types docs/where-it-runs.md gives a verdict for (each in backticks)."""
    import re
    from conftest import PROJECT_DIR
    return set(re.findall(r'`([A-Z][A-Za-z0-9]+)`',
                          (PROJECT_DIR / 'docs' / 'where-it-runs.md').read_text()))


@pytest.mark.parametrize('name', sorted(GRAPHS))
def test_a_graph_built_for_a_gpu_holds_no_op_refused_there(name):
    assert config.is_op_determinism_enabled()  # as in every run (conftest turns it on)
    types = op_types(GRAPHS[name])
    assert types & REFUSED_ON_GPU == set()
    # each op type has its verdict in the docs: a new one is checked, not assumed
    assert types - documented_op_types() == set()
    if name == 'siamese':  # its dropout: stateless, a mask drawn from the seed and the batch
        assert 'StatelessRandomUniformV2' in types and 'RandomUniform' not in types
    elif name.startswith('spam rnn'):  # the loss through TensorFlow's own deterministic path
        assert 'LogSoftmax' in types and 'StatelessRandomUniformV2' in types
    elif not name.startswith('classifier'):
        assert 'LogSoftmax' in types  # TensorFlow's deterministic loss took its place


def test_on_a_cpu_the_loss_is_the_fused_kernel():
    graph = tf.Graph()
    with graph.as_default(), tf.device('/device:CPU:0'):
        tf1.set_random_seed(0)
        LSTM_Model(16, 1, 4, 0.001, 8, 50)
    assert 'SparseSoftmaxCrossEntropyWithLogits' in {op.type for op in graph.get_operations()}
