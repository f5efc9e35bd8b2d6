"""The LSTM model of the book's chapter 9 (recipes 03 and 04), in TF1 graph style.

This module only builds graphs. It reads no files, flags or globals and prints
nothing: everything it needs arrives through the constructor or the call.

`tf.contrib` is gone from TensorFlow 2, so `rnn_decoder` and
`sequence_loss_by_example` are written here with the semantics and variable
names of TF1's `tf.contrib.legacy_seq2seq`, so that a checkpoint of the book's
model made with TF1 loads into this graph.
"""
import numpy as np

from cookbook_lstm import tf1_setup

# TensorFlow with Keras 2, which the legacy cells need (see tf1_setup)
tf = tf1_setup.import_tensorflow()

tf1 = tf.compat.v1


def rnn_decoder(decoder_inputs, initial_state, cell, loop_function=None,
                scope=None):
    """RNN decoder, as TF1's `legacy_seq2seq.rnn_decoder`.

    Args:
      decoder_inputs: a list of 2D Tensors [batch_size x input_size].
      initial_state: the cell's state for the first step, e.g. an
        LSTMStateTuple of two [batch_size x cell.output_size] Tensors, or a
        tuple of them for a MultiRNNCell.
      cell: an RNN cell, called as cell(input, state) -> (output, state).
      loop_function: None, or a function called as loop_function(prev, i)
        from the second step on, where prev is the output of step i - 1,
        a 2D Tensor [batch_size x output_size]; what it returns,
        [batch_size x input_size], replaces decoder_inputs[i]. Then only
        decoder_inputs[0] is read.
      scope: variable scope of the created subgraph; "rnn_decoder" if None.

    Returns:
      (outputs, state): outputs is a list of 2D Tensors
      [batch_size x output_size], one per input; state is the cell's state
      after the last step.
    """
    with tf1.variable_scope(scope or 'rnn_decoder'):
        state = initial_state
        outputs = []
        prev = None
        for i, inp in enumerate(decoder_inputs):
            if loop_function is not None and prev is not None:
                with tf1.variable_scope('loop_function', reuse=True):
                    inp = loop_function(prev, i)
            if i > 0:
                tf1.get_variable_scope().reuse_variables()
            output, state = cell(inp, state)
            _mark_checked_by_keras((output, state))
            outputs.append(output)
            if loop_function is not None:
                prev = output
    return outputs, state


def _mark_checked_by_keras(tensors):
    """Spare tf-keras a walk back through the whole unroll at every step.

    The legacy cells are Keras 2 layers. Each call walks back from its input
    through the graph to see whether it comes from a keras.Input, stopping
    at tensors marked as checked; only the call's input gets marked, not the
    state passed beside it. With a loop function each input is made from
    the step before, so every walk ran back along the state to the first
    step: building the 300-step generator took 22 s, growing with the
    square of the steps. These tensors come from no keras.Input; marking
    them as tf-keras's own mark_checked does ends each walk at the last step.
    """
    for tensor in tf.nest.flatten(tensors):
        tensor._keras_history_checked = True


def on_gpu(tensor):
    """True where TensorFlow will place tensor's op on a GPU: the device its scope
    asked for, or, with none asked for, a GPU when one is visible."""
    device = tensor.op.device.upper()
    if device:
        return 'GPU' in device
    return bool(tf.config.list_logical_devices('GPU'))


def _sparse_softmax_cross_entropy(labels, logits):
    """Cross-entropy of logits [batch, classes] against int labels [batch].

    On a CPU, TF1's fused kernel, as TF1's tf.nn.sparse_softmax_cross_entropy_with_logits
    ran it: one pass computes the loss and keeps its gradient. TensorFlow 2's
    function swaps the kernel for log_softmax and gather whenever op
    determinism is on (the recipes turn it on), a workaround for GPUs; on a
    CPU that takes another [batch, classes] buffer and more passes over it (in
    recipe 03, 5000 x 8009 floats: +300 MB and a third more time a step). The
    fused kernel is deterministic on a CPU. On a GPU its kernel refuses to run
    under op determinism (UnimplementedError: TensorFlow's sparse_xent_op.cc,
    and sparse_xent_op_d9m_test.py, which expects exactly that), so there the
    loss is TensorFlow's own function, which takes its deterministic path.
    """
    if on_gpu(logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss, _ = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(features=logits,
                                                            labels=labels)
    return loss


def sequence_loss_by_example(logits, targets, weights,
                             average_across_timesteps=True,
                             softmax_loss_function=None, name=None):
    """Weighted cross-entropy loss per example, as TF1's legacy_seq2seq.

    Args:
      logits: a list of 2D Tensors [batch_size x num_classes], one per step.
      targets: a list of 1D int Tensors [batch_size], as many as logits.
      weights: a list of 1D float Tensors [batch_size], as many as logits.
      average_across_timesteps: if True, divide the summed loss by the summed
        weights (plus 1e-12, so that all-zero weights give 0, not NaN).
      softmax_loss_function: None for sparse softmax cross-entropy, or a
        function called as f(labels=target, logits=logit) -> [batch_size].
      name: name scope of the operation.

    Returns:
      a 1D Tensor [batch_size]: the log-perplexity of each example.

    Raises:
      ValueError: when logits, targets and weights differ in length.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(
            'logits, targets and weights must be lists of the same length; '
            'got {}, {} and {}.'.format(len(logits), len(targets), len(weights)))
    with tf1.name_scope(name, 'sequence_loss_by_example',
                        logits + targets + weights):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                target = tf.reshape(target, [-1])
                crossent = _sparse_softmax_cross_entropy(target, logit)
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = tf.add_n(log_perp_list)
        if average_across_timesteps:
            total_size = tf.add_n(weights) + 1e-12
            log_perps /= total_size
    return log_perps


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


class LSTM_Model():
    """The book's LSTM language model over word or character indices.

    Build the training model, then in its variable scope with reuse on the
    sampling model, at its own size, as the book does; both share weights:

        with tf1.variable_scope('lstm_model') as scope:
            lstm_model = LSTM_Model(rnn_size, num_layers, batch_size, learning_rate,
                                    training_seq_len, vocab_size)
            scope.reuse_variables()
            test_lstm_model = LSTM_Model(rnn_size, num_layers, 1, None, 1, vocab_size,
                                         infer_sample=True)

    Args:
      rnn_size: units of each LSTM cell.
      num_layers: 1 for one BasicLSTMCell (recipe 03); more stacks them in a
        MultiRNNCell (recipe 04).
      batch_size, training_seq_len: the shape [batch_size, training_seq_len]
        of the index placeholders x_data and y_output. The sampling model:
        batch_size 1, and training_seq_len the steps it unrolls (1 in the
        book, so that its loop function never runs; N generates N tokens in
        one session call, see sampling.generate).
      learning_rate: Adam's learning rate; None for the sampling model,
        which has no optimizer.
      vocab_size: number of classes of the embedding and the softmax.
      infer_sample: build the sampling model: its loop function feeds each
        step's choice back as the next input (only x_data[:, 0] is read when
        it unrolls more than one step) and `generated` [batch_size,
        training_seq_len] holds the choices; no loss, no optimizer.
      embedding_size: width of the embedding; rnn_size if None (recipe 04).
      separate_layers: with num_layers > 1, give each layer its own cell.
        The book passes one cell object num_layers times, which on
        TensorFlow >= 1.2 ties all layers to one set of weights; False keeps
        that (see docs/errata.md).
      cell, peepholes: the RNN cell of each layer (make_cell): 'basic_lstm'
        (BasicLSTMCell, the book's), 'lstm' (LSTMCell, peepholes optional),
        'gru' or 'basic_rnn'.
      dropout: the probability of keeping each output unit of each layer
        while training (DropoutWrapper); 1 (the book's) for no dropout. The
        sampling model never drops. keep_prob, the training model's tensor
        of it, can be fed 1.0 to run it without dropout.
      residual: wrap each layer in a ResidualWrapper (its input added to its
        output); needs embedding_size equal to rnn_size.
      decoder: runs the cell over the inputs, called as rnn_decoder (the
        book's) is; fast_lstm.DECODERS holds faster ones with the same
        variables and numbers.
      loss_layer: the output layer's loss of each row, called as
        softmax_loss (the book's) is; fast_lstm.blocked_softmax_loss(N) is a
        leaner one. The training model's only.
      choose: the sampling model's choice of the next token from logits
        [batch, vocab]: greedy (the book's) or one of sampling.chooser.
    """

    def __init__(self, rnn_size, num_layers, batch_size, learning_rate,
                 training_seq_len, vocab_size, infer_sample=False,
                 embedding_size=None, separate_layers=False, cell='basic_lstm',
                 peepholes=False, dropout=1.0, residual=False,
                 decoder=rnn_decoder, loss_layer=softmax_loss, choose=greedy):
        if infer_sample and learning_rate is not None:
            raise ValueError('The sampling model has no optimizer: build it with '
                             'learning_rate=None.')
        if not infer_sample and learning_rate is None:
            raise ValueError('The training model needs a learning_rate.')
        if not 0 < dropout <= 1:
            raise ValueError('dropout is the probability of keeping a unit: above 0 and '
                             'at most 1, not {}.'.format(dropout))
        if tf.executing_eagerly():
            raise RuntimeError(
                'LSTM_Model builds a TF1 graph, and eager execution is on: call '
                'tf.compat.v1.disable_eager_execution() first, or build the model '
                'inside `with tf.Graph().as_default():`.')
        self.rnn_size = rnn_size
        self.num_layers = num_layers
        self.separate_layers = separate_layers
        self.vocab_size = vocab_size
        self.infer_sample = infer_sample
        self.learning_rate = learning_rate
        self.embedding_size = rnn_size if embedding_size is None else embedding_size
        self.batch_size = batch_size
        self.training_seq_len = training_seq_len

        # Dropout only where the model trains; a tensor, so that a held-out
        # loss can run the same graph with every unit kept
        self.keep_prob = None
        if dropout < 1 and not infer_sample:
            self.keep_prob = tf1.placeholder_with_default(
                tf.constant(dropout, tf.float32), [], name='keep_prob')
        if residual and self.embedding_size != rnn_size:
            raise ValueError(
                'The residual wrapper adds each layer\'s input to its output, so the '
                'embedding ({}) must be as wide as the cell ({}).'.format(
                    self.embedding_size, rnn_size))
        self.lstm_cell = stacked_cell(cell, rnn_size, num_layers, separate_layers,
                                      peepholes, self.keep_prob, residual)
        self.initial_state = self.lstm_cell.zero_state(self.batch_size, tf.float32)

        self.x_data = tf1.placeholder(
            tf.int32, [self.batch_size, self.training_seq_len], name='x_data')
        self.y_output = tf1.placeholder(
            tf.int32, [self.batch_size, self.training_seq_len], name='y_output')

        with tf1.variable_scope('lstm_vars'):
            # Softmax output weights
            W = tf1.get_variable('W', [self.rnn_size, self.vocab_size], tf.float32,
                                 tf1.random_normal_initializer())
            b = tf1.get_variable('b', [self.vocab_size], tf.float32,
                                 tf1.constant_initializer(0.0))
            # Embedding
            embedding_mat = tf1.get_variable(
                'embedding_mat', [self.vocab_size, self.embedding_size],
                tf.float32, tf1.random_normal_initializer())
            # [batch, seq, embedding]
            embedding_output = tf.nn.embedding_lookup(embedding_mat, self.x_data)
            rnn_inputs = tf.split(embedding_output, self.training_seq_len, axis=1)
            # seq x [batch, embedding]
            rnn_inputs_trimmed = [tf.squeeze(x, [1]) for x in rnn_inputs]

        # The sampling model's steps read W and b once, not once a step: they
        # do not change while a text is generated
        W_now, b_now = (tf.convert_to_tensor(W), tf.convert_to_tensor(b)) if infer_sample \
            else (W, b)
        choices = []

        # If we are inferring (generating text), we add a 'loop' function
        # Define how to get the i+1 th input from the i th output
        def inferred_loop(prev, i):
            """The next input from the previous output, chosen with no gradient."""
            prev_transformed = tf.matmul(prev, W_now) + b_now  # [batch, vocab]
            prev_symbol = tf.stop_gradient(choose(prev_transformed))
            choices.append(prev_symbol)
            return tf.nn.embedding_lookup(embedding_mat, prev_symbol)
        self.inferred_loop = inferred_loop

        decoder_loop = inferred_loop if infer_sample else None
        outputs, last_state = decoder(rnn_inputs_trimmed, self.initial_state,
                                      self.lstm_cell, loop_function=decoder_loop)
        # seq x [batch, rnn] -> [batch, seq * rnn] -> [batch * seq, rnn], rows
        # ordered batch-major like the flattened targets
        output = tf.reshape(tf.concat(outputs, axis=1), [-1, self.rnn_size])
        # Logits and output
        self.logit_output = tf.matmul(output, W) + b           # [batch * seq, vocab]
        self.model_output = tf.nn.softmax(self.logit_output)
        self.final_state = last_state

        if infer_sample:
            # The choice after the last step; the loop made the others.
            choices.append(choose(tf.matmul(outputs[-1], W) + b))
            self.generated = tf.stack(choices, axis=1)      # [batch, seq]
            # The book builds a loss and a second Adam here too; under the
            # reused scope that fails on TF >= 1.1 and is never run.
            return
        targets = tf.reshape(self.y_output, [-1])              # [batch * seq]
        loss = loss_layer(output, W, b, targets)               # [batch * seq]
        self.cost = tf.reduce_sum(loss) / (self.batch_size * self.training_seq_len)
        trainable = tf1.trainable_variables()
        gradients, _ = tf.clip_by_global_norm(tf.gradients(self.cost, trainable), 4.5)
        # A tensor, so that a decay can set each epoch's rate (the default is
        # the rate given; the same float32 number as the book's constant)
        self.lr = tf1.placeholder_with_default(
            tf.constant(self.learning_rate, tf.float32), [], name='learning_rate')
        optimizer = tf1.train.AdamOptimizer(self.lr)
        self.train_op = optimizer.apply_gradients(zip(gradients, trainable))

    def sample(self, sess, ix2vocab, vocab2ix, num=10, prime_text='thou art',
               char_level=False):
        """Greedy text from a prime text, one session call per token.

        Feeds the prime tokens (words, or characters with char_level) through
        the cell, then appends the most probable next token num times,
        stopping early at index 0 ('unknown'). Needs the sampling model
        unrolled one step (infer_sample=True, batch_size=1, training_seq_len=1).

        Returns the prime text followed by the generated tokens, joined by
        spaces (words) or nothing (characters).

        Raises:
          ValueError: when the prime text is empty or has a token outside
            the vocabulary.
        """
        tokens = list(prime_text) if char_level else prime_text.split()
        if not tokens:
            raise ValueError('The prime text is empty: give at least one '
                             '{}.'.format('character' if char_level else 'word'))
        unknown = [t for t in tokens if t not in vocab2ix]
        if unknown:
            raise ValueError(
                'Prime text {!r} has {} outside the vocabulary: {}. Use '
                '{} that occur in the training text often enough to be '
                'kept.'.format(prime_text,
                               'characters' if char_level else 'words',
                               ', '.join(repr(t) for t in unknown),
                               'characters' if char_level else 'words'))
        if not self.infer_sample or self.training_seq_len != 1 or self.batch_size != 1:
            raise ValueError('sample() needs the sampling model: build it with '
                             'infer_sample=True, batch_size=1 and training_seq_len=1.')
        separator = '' if char_level else ' '

        # Feed all but the last prime token through the cell, one a call
        state = sess.run(self.initial_state)
        x = np.zeros((1, 1), dtype=np.int32)
        for token in tokens[:-1]:
            x[0, 0] = vocab2ix[token]
            state = sess.run(self.final_state,
                             feed_dict={self.x_data: x, self.initial_state: state})
        out_sentence = prime_text
        token = tokens[-1]
        for _ in range(num):
            x[0, 0] = vocab2ix[token]
            model_output, state = sess.run(
                [self.model_output, self.final_state],
                feed_dict={self.x_data: x, self.initial_state: state})
            next_ix = int(np.argmax(model_output[0]))
            if next_ix == 0:
                break
            # The book's word vocabulary has one index with no word (docs/errata.md,
            # item 9); the book raises KeyError there, this says 'unknown'.
            token = ix2vocab.get(next_ix, 'unknown')
            out_sentence = out_sentence + separator + token
        return out_sentence
