"""An LSTM text classifier, one way or both ways, in the recipes' TF1 graph style.

The model of beyond_the_book/bidirectional_lstm.py: the Keras examples'
embedding 16 -> LSTM 64 -> Dense 64 relu -> Dense 1 sigmoid, with the LSTM
read forwards only, both ways (tf.compat.v1.nn.bidirectional_dynamic_rnn) or
both ways twice. Like
lstm_model, this module only builds graphs: everything it needs arrives
through the constructor.
"""
from cookbook_lstm import tf1_setup

tf = tf1_setup.import_tensorflow()
tf1 = tf.compat.v1

# --variant: how the LSTM reads the passage
VARIANTS = ('lstm', 'bilstm', 'bilstm2')


def _dense(inputs, units, name):
    """inputs [batch x n] times W [n x units] plus b, in variable scope name.

    Glorot-uniform weights and zero bias, as Keras' Dense starts.
    """
    with tf1.variable_scope(name):
        W = tf1.get_variable('W', [inputs.shape[-1], units], tf.float32,
                             tf1.glorot_uniform_initializer())
        b = tf1.get_variable('b', [units], tf.float32, tf1.zeros_initializer())
    return tf.matmul(inputs, W) + b


class LSTM_Classifier():
    """Two classes from a sequence of word indices.

    Args:
      variant: 'lstm' (one LSTM layer, read forwards), 'bilstm' (one layer
        read both ways) or 'bilstm2' (two such layers, the second reading
        the first's outputs).
      vocab_size, embedding_size: the embedding [vocab_size x embedding_size];
        index 0 pads.
      rnn_size: units of each LSTM cell (BasicLSTMCell, one per direction).
      dense_size: units of the relu layer.
      max_len: steps of x_data [batch, max_len].
      learning_rate: Adam's; None for a model that only predicts.

    The sequence's feature is each direction's last state h: the forward
    cell's after the last word (of `lengths`, the true lengths; the rest is
    padding), the backward cell's after reading back to the first word.
    Attributes: x_data, lengths, y_target (0 or 1), logits, probability,
    prediction, accuracy, cost, train_op (with a learning_rate), and
    layer_outputs: each layer's outputs [batch, max_len, rnn_size], as
    (forward,) or (forward, backward).
    """

    def __init__(self, variant, vocab_size, embedding_size, rnn_size, dense_size, max_len,
                 learning_rate=None):
        if variant not in VARIANTS:
            raise ValueError('variant must be one of {}, not {!r}.'.format(
                ', '.join(VARIANTS), variant))
        if tf.executing_eagerly():
            raise RuntimeError(
                'LSTM_Classifier builds a TF1 graph, and eager execution is on: call '
                'tf.compat.v1.disable_eager_execution() first.')
        self.variant = variant
        self.x_data = tf1.placeholder(tf.int32, [None, max_len], name='x_data')
        self.lengths = tf1.placeholder(tf.int32, [None], name='lengths')
        self.y_target = tf1.placeholder(tf.float32, [None], name='y_target')

        # Keras' Embedding starts uniform in [-0.05, 0.05]
        embedding_mat = tf1.get_variable(
            'embedding_mat', [vocab_size, embedding_size], tf.float32,
            tf1.random_uniform_initializer(-0.05, 0.05))
        inputs = tf.nn.embedding_lookup(embedding_mat, self.x_data)  # [batch, len, emb]

        self.layer_outputs = []
        if variant == 'lstm':
            cell = tf1.nn.rnn_cell.BasicLSTMCell(rnn_size)
            outputs, state = tf1.nn.dynamic_rnn(cell, inputs, sequence_length=self.lengths,
                                                dtype=tf.float32, scope='rnn')
            self.layer_outputs.append((outputs,))
            features = state.h                                          # [batch, rnn]
        else:
            for layer in range(1 if variant == 'bilstm' else 2):
                cell_fw = tf1.nn.rnn_cell.BasicLSTMCell(rnn_size)
                cell_bw = tf1.nn.rnn_cell.BasicLSTMCell(rnn_size)
                (out_fw, out_bw), (state_fw, state_bw) = tf1.nn.bidirectional_dynamic_rnn(
                    cell_fw, cell_bw, inputs, sequence_length=self.lengths,
                    dtype=tf.float32,
                    scope='bidirectional_rnn' + ('_{}'.format(layer) if layer else ''))
                self.layer_outputs.append((out_fw, out_bw))
                inputs = tf.concat([out_fw, out_bw], axis=2)            # [batch, len, 2 rnn]
            features = tf.concat([state_fw.h, state_bw.h], axis=1)      # [batch, 2 rnn]

        hidden = tf.nn.relu(_dense(features, dense_size, 'dense'))
        self.logits = tf.squeeze(_dense(hidden, 1, 'output'), [1])     # [batch]
        self.probability = tf.sigmoid(self.logits)
        self.prediction = tf.cast(self.logits > 0, tf.float32)
        self.accuracy = tf.reduce_mean(
            tf.cast(tf.equal(self.prediction, self.y_target), tf.float32))
        self.cost = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=self.y_target, logits=self.logits))
        if learning_rate is not None:
            self.train_op = tf1.train.AdamOptimizer(learning_rate).minimize(self.cost)
