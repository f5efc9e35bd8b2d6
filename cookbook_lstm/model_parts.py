"""The parts of lstm_model.LSTM_Model's graph a caller may change, the book's
first: the RNN cell (TF1's tf.compat.v1.nn.rnn_cell classes and wrappers),
the output layer's loss, and the choice of the next token.

fast_lstm holds faster decoders and loss layers with the same numbers,
sampling the other ways to choose. Like the model, this module only builds
graphs.
"""
from cookbook_lstm import tf1_setup
from cookbook_lstm.legacy_seq2seq import sequence_loss_by_example

# TensorFlow with Keras 2, which the legacy cells need (see tf1_setup)
tf = tf1_setup.import_tensorflow()
tf1 = tf.compat.v1


# --cell: TF1's RNN cells, each making its variables under TF1's own name
# (basic_lstm_cell/kernel, lstm_cell/w_f_diag, gru_cell/gates/kernel, ...)
CELLS = ('basic_lstm', 'lstm', 'gru', 'basic_rnn')


def make_cell(cell, rnn_size, peepholes=False):
    """One RNN cell of rnn_size units from tf.compat.v1.nn.rnn_cell.

    cell: 'basic_lstm' (BasicLSTMCell, the book's), 'lstm' (LSTMCell, with
    peephole connections if peepholes), 'gru' (GRUCell) or 'basic_rnn'
    (BasicRNNCell). The LSTMs' state is an LSTMStateTuple (c, h) of
    [batch_size x rnn_size] Tensors; the others' one such Tensor.
    """
    if cell not in CELLS:
        raise ValueError('cell must be one of {}, not {!r}.'.format(', '.join(CELLS), cell))
    if peepholes and cell != 'lstm':
        raise ValueError('Peepholes are an option of the lstm cell (LSTMCell), not of '
                         '{}.'.format(cell))
    rnn_cell = tf1.nn.rnn_cell
    try:
        if cell == 'basic_lstm':
            return rnn_cell.BasicLSTMCell(rnn_size)
        if cell == 'lstm':
            return rnn_cell.LSTMCell(rnn_size, use_peepholes=peepholes)
        if cell == 'gru':
            return rnn_cell.GRUCell(rnn_size)
        return rnn_cell.BasicRNNCell(rnn_size)
    except (ImportError, ValueError) as err:
        raise RuntimeError(
            'TensorFlow could not build a legacy RNN cell ({}). It needs the '
            'tf-keras package and TF_USE_LEGACY_KERAS=1 set before TensorFlow '
            'is first imported: install this project with `pip install -e .` '
            'and import cookbook_lstm.tf1_setup (or lstm_model) before anything else imports '
            'TensorFlow.'.format(err)) from err


def wrapped_cell(cell, output_keep_prob=None, residual=False):
    """cell with TF1's wrappers: dropout on its outputs, then its input added.

    output_keep_prob: None for no DropoutWrapper, else the probability
    (a float or a scalar Tensor) of keeping each output unit. residual: a
    ResidualWrapper, which adds the cell's input to its output, so the input
    must be as wide as the cell. Neither makes variables of its own: the
    names stay the cell's.
    """
    if output_keep_prob is not None:
        cell = tf1.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=output_keep_prob)
    if residual:
        cell = tf1.nn.rnn_cell.ResidualWrapper(cell)
    return cell


def stacked_cell(cell, rnn_size, num_layers, separate_layers=False, peepholes=False,
                 output_keep_prob=None, residual=False):
    """The model's cell: one layer (num_layers 1), or layers in a MultiRNNCell.

    Each layer is make_cell(cell, rnn_size, peepholes) in wrapped_cell's
    wrappers. separate_layers: each layer its own cell; otherwise, as the
    printed code, one cell object for every layer, which since TF 1.2 shares
    one set of weights between them (docs/errata.md).
    """
    def layer():
        return wrapped_cell(make_cell(cell, rnn_size, peepholes), output_keep_prob, residual)
    if num_layers == 1:
        return layer()
    if separate_layers:
        return tf1.nn.rnn_cell.MultiRNNCell([layer() for _ in range(num_layers)])
    one_cell = layer()
    return tf1.nn.rnn_cell.MultiRNNCell([one_cell for _ in range(num_layers)])


def softmax_loss(output, W, b, targets):
    """The book's output layer and loss, as LSTM_Model's default loss_layer.

    Args:
      output: a 2D Tensor [batch_size * seq_len x rnn_size], the cell's
        outputs, rows batch-major.
      W, b: the softmax weights [rnn_size x vocab_size] and bias [vocab_size].
      targets: a 1D int Tensor [batch_size * seq_len], rows as output's.

    Returns:
      a 1D Tensor [batch_size * seq_len]: the loss of each row, from one
      product of all rows by W (the logits [batch_size * seq_len x vocab_size])
      and one sequence_loss_by_example over them, all weights 1.
    """
    logits = tf.matmul(output, W) + b
    return sequence_loss_by_example([logits], [targets],
                                    [tf.ones_like(targets, tf.float32)])


def greedy(logits):
    """The book's choice of the next token: the most probable, [batch] from [batch, vocab]."""
    return tf.argmax(logits, 1)


# ---------------------------------------------------------------- dropout a resumed run repeats
#
# TF1's dropout (tf.nn.dropout, DropoutWrapper) draws its masks from random
# ops whose sequence starts again in each new session, so a resumed run
# would drop other units than the run that never stopped. Here each mask is
# drawn by a stateless op from the graph's seed, the op's place in the graph
# and the training step, which the training loop feeds: the same masks in a
# resumed run, the same distribution as TF1's (recipe 06; docs/errata.md).

_DROPOUT_STEP = 'dropout_step'  # the graph's collection holding the step placeholder
_DROPOUT_OPS = 'seeded_dropout'  # ... and the masks drawn so far (each its own salt)


def dropout_step(graph=None):
    """The scalar int64 placeholder the training loop feeds its step to (0 if not
    fed: the same masks at every step), one for the graph."""
    graph = graph or tf1.get_default_graph()
    found = graph.get_collection(_DROPOUT_STEP)
    if found:
        return found[0]
    with graph.as_default(), tf1.name_scope(None):
        step = tf1.placeholder_with_default(tf.constant(0, tf.int64), [], name='dropout_step')
    graph.add_to_collection(_DROPOUT_STEP, step)
    return step


def seeded_dropout(x, keep_prob):
    """tf.nn.dropout(x, keep_prob) as TF1 computed it (each unit kept with
    probability keep_prob and scaled by 1 / keep_prob), its mask drawn from
    (the graph's seed, this op's place in the graph, dropout_step()).

    x: a Tensor; keep_prob: a float or a scalar float Tensor (1.0: x as it is).
    """
    graph = tf1.get_default_graph()
    salt = len(graph.get_collection(_DROPOUT_OPS))
    seed = tf.stack([tf.constant((graph.seed or 0) * 2 ** 20 + salt, tf.int64),
                     dropout_step(graph)])
    output = tf.nn.experimental.stateless_dropout(x, rate=1. - keep_prob, seed=seed)
    graph.add_to_collection(_DROPOUT_OPS, output)
    return output


class SeededDropoutWrapper(tf1.nn.rnn_cell.DropoutWrapper):
    """DropoutWrapper(cell, output_keep_prob=...) with its masks from seeded_dropout:
    a new mask at each step unrolled, as TF1's. The variables stay the cell's."""

    def __init__(self, cell, output_keep_prob):
        super().__init__(cell, output_keep_prob=output_keep_prob)

    def _call_wrapped_cell(self, inputs, state, cell_call_fn, **kwargs):
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        return seeded_dropout(output, self._output_keep_prob), new_state
