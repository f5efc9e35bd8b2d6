"""The LSTM model of the book's chapter 9 (recipes 03 and 04), in TF1 graph style.

This module only builds graphs. It reads no files, flags or globals and prints
nothing: everything it needs arrives through the constructor or the call.

`tf.contrib` is gone from TensorFlow 2, so `rnn_decoder` and
`sequence_loss_by_example` are written here with the semantics and variable
names of TF1's `tf.contrib.legacy_seq2seq`, so that a checkpoint of the book's
model made with TF1 loads into this graph.
"""
import numpy as np

import tf1_setup

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


def _built_layers(decoder_inputs, initial_state, cell, scope):
    """The cell's variables, made as rnn_decoder makes them, layer by layer.

    The cell's first call, as in rnn_decoder's first step, creates them with
    the same names, shapes and initial values; its result is not used, so a
    session never computes it. Returns (multi, [(kernel, bias, (c, h)), ...]):
    whether cell is a MultiRNNCell, and each layer's kernel [input + units,
    4 units], bias [4 units] and initial state.
    """
    with tf1.variable_scope(scope or 'rnn_decoder'):
        cell(decoder_inputs[0], initial_state)
    multi = isinstance(cell, tf1.nn.rnn_cell.MultiRNNCell)
    layers = list(cell._cells) if multi else [cell]
    states = initial_state if multi else (initial_state,)
    weights = []
    for layer, state in zip(layers, states):
        kernel = [w for w in layer.weights if w.name.endswith('kernel:0')][0]
        bias = [w for w in layer.weights if w.name.endswith('bias:0')][0]
        weights.append((kernel, bias, state))
    return multi, weights


def fused_rnn_decoder(decoder_inputs, initial_state, cell, scope=None):
    """rnn_decoder with no loop function, run by TensorFlow's fused LSTM kernel.

    Computes what rnn_decoder computes for a BasicLSTMCell, or a MultiRNNCell
    of them, with one BlockLSTM op per layer over all time steps instead of
    one small graph per step. The cell's variables are made by the cell's own
    first call, as in rnn_decoder, so their names, shapes and initial values
    are the same and a checkpoint moves freely between the two. BlockLSTM
    (version 1) keeps TF1's gate order i, j, f, o and adds forget_bias to f,
    as BasicLSTMCell does; no peepholes, no cell clipping.

    Args:
      decoder_inputs: a list of 2D Tensors [batch_size x input_size].
      initial_state: an LSTMStateTuple of [batch_size x units] Tensors, or a
        tuple of them for a MultiRNNCell.
      cell: a BasicLSTMCell, or a MultiRNNCell of them (tied or not).
      scope: variable scope of the created subgraph; "rnn_decoder" if None.

    Returns:
      (outputs, state): outputs a 3D Tensor [time x batch_size x units] (the
      last layer's), state shaped like initial_state.
    """
    multi, layers = _built_layers(decoder_inputs, initial_state, cell, scope)
    x = tf.stack(decoder_inputs)                            # [time, batch, input]
    final = []
    for kernel, bias, (c, h) in layers:
        no_peephole = tf.zeros([kernel.shape[1] // 4])
        _, cs, _, _, _, _, h_seq = tf.raw_ops.BlockLSTM(
            seq_len_max=tf.constant(len(decoder_inputs), tf.int64), x=x, cs_prev=c,
            h_prev=h, w=kernel, wci=no_peephole, wcf=no_peephole, wco=no_peephole,
            b=bias, forget_bias=1.0, cell_clip=-1.0, use_peephole=False)
        final.append(tf1.nn.rnn_cell.LSTMStateTuple(cs[-1], h_seq[-1]))
        x = h_seq                                           # [time, batch, units]
    return x, (tuple(final) if multi else final[0])


def fused_step_cell(decoder_inputs, initial_state, cell, scope=None):
    """The cell as a function of one step, each layer one fused LSTM op.

    Returns step(input, state) -> (output, state), computing what cell
    computes for a BasicLSTMCell, or a MultiRNNCell of them, with one
    LSTMBlockCell op per layer (TF1's gate order i, j, f, o and forget bias
    1.0, as BlockLSTM in fused_rnn_decoder) instead of about fourteen small
    ops. For rnn_decoder with a loop function, which runs step by step. The
    variables are the cell's own, made or reused by its first call.
    """
    multi, layers = _built_layers(decoder_inputs, initial_state, cell, scope)
    no_peephole = tf.zeros([layers[0][0].shape[1] // 4])
    # each layer's weights read once for all steps, not once a step
    weights = [(tf.convert_to_tensor(kernel), tf.convert_to_tensor(bias))
               for kernel, bias, _ in layers]

    def step(inputs, state):
        x, final = inputs, []
        for (kernel, bias), (c, h) in zip(weights, state if multi else (state,)):
            _, c, _, _, _, _, x = tf.raw_ops.LSTMBlockCell(
                x=x, cs_prev=c, h_prev=h, w=kernel, wci=no_peephole, wcf=no_peephole,
                wco=no_peephole, b=bias, forget_bias=1.0, cell_clip=-1.0,
                use_peephole=False)
            final.append(tf1.nn.rnn_cell.LSTMStateTuple(c, x))
        return x, (tuple(final) if multi else final[0])
    return step


def projected_rnn_decoder(decoder_inputs, initial_state, cell, scope=None):
    """rnn_decoder with no loop function, each layer's input product done once.

    A BasicLSTMCell multiplies [input, h] by its kernel at every step. The
    input's half of that product does not depend on the recurrence, so here
    it is one large product over all time steps per layer, and each step
    multiplies only h by the kernel's lower rows. The same arithmetic in
    another order (float32 rounding aside), computed layer by layer; the
    variables are made by the cell's own first call, as in rnn_decoder.

    Args and returns as rnn_decoder: outputs is a list of 2D Tensors
    [batch_size x units] (the last layer's), one per input.
    """
    multi, layers = _built_layers(decoder_inputs, initial_state, cell, scope)
    inputs = decoder_inputs
    final = []
    for kernel, bias, (c, h) in layers:
        input_size = inputs[0].shape[-1]
        # seq x [batch, input] -> [seq * batch, input] -> seq x [batch, 4 units]
        projected = tf.split(tf.matmul(tf.concat(inputs, 0), kernel[:input_size]) + bias,
                             len(inputs), axis=0)
        recurrent_kernel = kernel[input_size:]
        outputs = []
        for step_input in projected:
            gates = step_input + tf.matmul(h, recurrent_kernel)
            i, j, f, o = tf.split(gates, 4, axis=1)         # BasicLSTMCell's order
            c = c * tf.sigmoid(f + 1.0) + tf.sigmoid(i) * tf.tanh(j)  # forget bias 1
            h = tf.tanh(c) * tf.sigmoid(o)
            outputs.append(h)
        final.append(tf1.nn.rnn_cell.LSTMStateTuple(c, h))
        inputs = outputs
    return inputs, (tuple(final) if multi else final[0])


CELL_IMPLEMENTATIONS = ('basic', 'fused', 'projected')


def _sparse_softmax_cross_entropy(labels, logits):
    """Cross-entropy of logits [batch, classes] against int labels [batch].

    TF1's fused kernel, as TF1's tf.nn.sparse_softmax_cross_entropy_with_logits
    ran it: one pass computes the loss and keeps its gradient. TensorFlow 2's
    function swaps the kernel for log_softmax and gather whenever op
    determinism is on (the recipes turn it on), a workaround for GPUs; on a
    CPU that takes another [batch, classes] buffer and more passes over it (in
    recipe 03, 5000 x 8009 floats: +300 MB and a third more time a step). The
    fused kernel is deterministic on a CPU.
    """
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


def _basic_lstm_cell(rnn_size):
    try:
        return tf1.nn.rnn_cell.BasicLSTMCell(rnn_size)
    except (ImportError, ValueError) as err:
        raise RuntimeError(
            'TensorFlow could not build a legacy LSTM cell ({}). It needs the '
            'tf-keras package and TF_USE_LEGACY_KERAS=1 set before TensorFlow '
            'is first imported: install this project with `pip install -e .` '
            'and import tf1_setup (or lstm_model) before anything else imports '
            'TensorFlow.'.format(err)) from err


STRATEGIES = ('greedy', 'weighted', 'topk')


def _chooser(strategy, temperature, top_k, vocab_size):
    """A function from logits [batch, vocab] to chosen indices [batch]."""
    if strategy not in STRATEGIES:
        raise ValueError('strategy must be one of {}, not {!r}.'.format(
            ', '.join(STRATEGIES), strategy))
    if not temperature > 0:
        raise ValueError('temperature must be above 0, not {}.'.format(temperature))
    if strategy == 'topk' and not (top_k and 1 <= top_k < vocab_size):
        raise ValueError('top_k must be between 1 and the vocabulary size less one '
                         "('unknown' is never drawn), {}, not {}.".format(vocab_size - 1, top_k))

    # A draw never takes index 0, 'unknown': it stands for every rare word
    # (words) or for nothing in the text (characters). Greedy keeps the
    # book's rule instead: index 0 ends the text.
    not_unknown = np.zeros(vocab_size, dtype=np.float32)
    not_unknown[0] = -np.inf

    def choose(logits):
        if strategy == 'greedy':
            return tf.argmax(logits, 1)
        scaled = logits / temperature + not_unknown
        if strategy == 'topk':
            kth_largest = tf.math.top_k(scaled, top_k).values[:, -1:]   # [batch, 1]
            scaled = tf.where(scaled < kth_largest,
                              tf.fill(tf.shape(scaled), -np.inf), scaled)
        return tf.random.categorical(scaled, 1, dtype=tf.int64)[:, 0]
    return choose


class LSTM_Model():
    """The book's LSTM language model over word or character indices.

    Args:
      rnn_size: units of each LSTM cell.
      num_layers: 1 for one BasicLSTMCell (recipe 03); more stacks them in a
        MultiRNNCell (recipe 04).
      batch_size, training_seq_len: the shape [batch_size, training_seq_len]
        of the index placeholders x_data and y_output.
      learning_rate: Adam's learning rate.
      vocab_size: number of classes of the embedding and the softmax.
      infer_sample: build the sampling model instead: batch 1, sequence
        length infer_seq_len, no loss or optimizer. Build it in the training
        model's variable scope with reuse on, as the book does, so both
        share weights.
      embedding_size: width of the embedding; rnn_size if None (recipe 04).
      separate_layers: with num_layers > 1, give each layer its own cell.
        The book passes one cell object num_layers times, which on
        TensorFlow >= 1.2 ties all layers to one set of weights; False keeps
        that (see docs/errata.md).
      infer_seq_len: with infer_sample, how many steps to unroll. The book
        uses 1, so its loop function never runs; with more steps the
        inferred loop feeds each step's choice back as the next input, so
        only x_data[:, 0] is read, and `generated` [batch, infer_seq_len]
        holds the choices: text generated in one session call.
      strategy: how the sampling model chooses each next token: 'greedy'
        (the book: the most probable), 'weighted' (drawn from the softmax of
        logits / temperature) or 'topk' (the same, among the top_k most
        probable only). Draws never take index 0 ('unknown').
      temperature: divides the logits before a draw: below 1 sharper, above
        1 more random. Greedy ignores it.
      top_k: how many tokens 'topk' draws among.
      cell_impl: 'basic', the book's graph: the cell called once per step
        by rnn_decoder; 'fused': the training model runs each layer with
        TensorFlow's fused LSTM kernel (fused_rnn_decoder); 'projected': each
        layer's input product is done once for all steps
        (projected_rnn_decoder). All three have the same variables and give
        the same numbers. The sampling model runs step by step, as its loop
        function needs: 'fused' runs each layer's step as one fused LSTM op
        (fused_step_cell), the others the basic cell.
      softmax_blocks: 1, the book's graph: one product of all batch * seq
        outputs by W, and one loss over its logits. More: the training
        model splits those rows into this many blocks (whole rows each, as
        even as can be) and does the product and the loss block by block.
        The same numbers, float32 rounding aside; at the word recipe's size
        (5000 x 8009 logits) less memory at once and a faster step.
    """

    def __init__(self, rnn_size, num_layers, batch_size, learning_rate,
                 training_seq_len, vocab_size, infer_sample=False,
                 embedding_size=None, separate_layers=False, infer_seq_len=1,
                 strategy='greedy', temperature=1.0, top_k=None, cell_impl='basic',
                 softmax_blocks=1):
        if not (isinstance(softmax_blocks, int) and
                1 <= softmax_blocks <= batch_size * training_seq_len):
            raise ValueError('softmax_blocks must be a whole number from 1 to batch_size x '
                             'training_seq_len ({}), not {!r}.'.format(
                                 batch_size * training_seq_len, softmax_blocks))
        if cell_impl not in CELL_IMPLEMENTATIONS:
            raise ValueError('cell_impl must be one of {}, not {!r}.'.format(
                ', '.join(CELL_IMPLEMENTATIONS), cell_impl))
        if tf.executing_eagerly():
            raise RuntimeError(
                'LSTM_Model builds a TF1 graph, and eager execution is on: call '
                'tf.compat.v1.disable_eager_execution() first, or build the model '
                'inside `with tf.Graph().as_default():`.')
        self.rnn_size = rnn_size
        self.num_layers = num_layers
        self.vocab_size = vocab_size
        self.infer_sample = infer_sample
        self.learning_rate = learning_rate
        self.embedding_size = rnn_size if embedding_size is None else embedding_size

        if infer_sample:
            self.batch_size = 1
            self.training_seq_len = infer_seq_len
        else:
            self.batch_size = batch_size
            self.training_seq_len = training_seq_len

        if num_layers == 1:
            self.lstm_cell = _basic_lstm_cell(rnn_size)
        elif separate_layers:
            self.lstm_cell = tf1.nn.rnn_cell.MultiRNNCell(
                [_basic_lstm_cell(rnn_size) for _ in range(num_layers)])
        else:
            # The printed code: one cell object for every layer. Since
            # TF 1.2 this shares one set of weights between the layers.
            one_cell = _basic_lstm_cell(rnn_size)
            self.lstm_cell = tf1.nn.rnn_cell.MultiRNNCell(
                [one_cell for _ in range(num_layers)])
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

        choose = _chooser(strategy, temperature, top_k, self.vocab_size)
        choices = []

        # W and b read once for all steps, not once a step: they do not
        # change while a text is generated
        W_now, b_now = (tf.convert_to_tensor(W), tf.convert_to_tensor(b)) if infer_sample \
            else (W, b)

        def inferred_loop(prev, i):
            """The next input from the previous output, chosen with no gradient."""
            prev_transformed = tf.matmul(prev, W_now) + b_now  # [batch, vocab]
            prev_symbol = tf.stop_gradient(choose(prev_transformed))
            choices.append(prev_symbol)
            return tf.nn.embedding_lookup(embedding_mat, prev_symbol)
        self.inferred_loop = inferred_loop

        if cell_impl == 'projected' and not infer_sample:
            outputs, last_state = projected_rnn_decoder(
                rnn_inputs_trimmed, self.initial_state, self.lstm_cell)
            output = tf.reshape(tf.concat(outputs, axis=1), [-1, self.rnn_size])
        elif cell_impl == 'fused' and not infer_sample:
            outputs, last_state = fused_rnn_decoder(
                rnn_inputs_trimmed, self.initial_state, self.lstm_cell)
            # [seq, batch, rnn] -> [batch * seq, rnn], rows batch-major
            output = tf.reshape(tf.transpose(outputs, [1, 0, 2]), [-1, self.rnn_size])
        else:
            step_cell = self.lstm_cell
            if cell_impl == 'fused':  # the sampling model, fused step by step
                step_cell = fused_step_cell(rnn_inputs_trimmed, self.initial_state,
                                            self.lstm_cell)
            outputs, last_state = rnn_decoder(
                rnn_inputs_trimmed, self.initial_state, step_cell,
                loop_function=inferred_loop if infer_sample else None)
            # seq x [batch, rnn] -> [batch, seq * rnn] -> [batch * seq, rnn],
            # rows ordered batch-major like the flattened targets
            output = tf.reshape(tf.concat(outputs, axis=1), [-1, self.rnn_size])
        targets = tf.reshape(self.y_output, [-1])              # [batch * seq]
        if softmax_blocks == 1 or infer_sample:
            self.logit_output = tf.matmul(output, W) + b       # [batch * seq, vocab]
            block_logits, block_targets = [self.logit_output], [targets]
        else:
            # the same rows, a block at a time: the 2D logits of the
            # book's one product never exist at once
            rows = self.batch_size * self.training_seq_len
            sizes = [rows // softmax_blocks + (k < rows % softmax_blocks)
                     for k in range(softmax_blocks)]
            block_logits = [tf.matmul(block, W) + b for block in tf.split(output, sizes)]
            block_targets = tf.split(targets, sizes)
            self.logit_output = tf.concat(block_logits, 0)
        self.model_output = tf.nn.softmax(self.logit_output)
        self.final_state = last_state

        if infer_sample:
            # The choice after the last step; the loop made the others.
            choices.append(choose(tf.matmul(outputs[-1], W) + b))
            self.generated = tf.stack(choices, axis=1)      # [batch, infer_seq_len]
            # The book builds a loss and a second Adam here too; under the
            # reused scope that fails on TF >= 1.1 and is never run.
            return
        if softmax_blocks == 1:
            loss = sequence_loss_by_example(
                [self.logit_output], [targets],
                [tf.ones([self.batch_size * self.training_seq_len])])
        else:
            # each block's rows are examples of their own: their losses line
            # up end to end as the one block's would
            loss = tf.concat([sequence_loss_by_example(
                [logits], [target], [tf.ones_like(target, tf.float32)])
                for logits, target in zip(block_logits, block_targets)], 0)
        self.cost = tf.reduce_sum(loss) / (self.batch_size * self.training_seq_len)
        trainable = tf1.trainable_variables()
        gradients, _ = tf.clip_by_global_norm(tf.gradients(self.cost, trainable), 4.5)
        optimizer = tf1.train.AdamOptimizer(self.learning_rate)
        self.train_op = optimizer.apply_gradients(zip(gradients, trainable))

    def prime_state(self, sess, prime_ix):
        """The state after feeding all but the last of prime_ix, one index a call.

        Needs the sampling model (infer_sample=True, infer_seq_len=1).
        """
        state = sess.run(self.initial_state)
        x = np.zeros((1, 1), dtype=np.int32)
        for ix in prime_ix[:-1]:
            x[0, 0] = ix
            state = sess.run(self.final_state,
                             feed_dict={self.x_data: x, self.initial_state: state})
        return state

    def generate(self, sess, state, last_ix, with_state=False):
        """infer_seq_len indices chosen after last_ix from state, in one call.

        Needs the sampling model unrolled: infer_sample=True, infer_seq_len=N.
        Returns a 1D array of N indices, stopping nowhere (index 0 included);
        with_state, (indices, state) where state is where to go on from:
        generate(sess, state, indices[-1]) continues the text as one longer
        unroll would.
        """
        x = np.zeros((1, self.training_seq_len), dtype=np.int32)
        x[0, 0] = last_ix
        generated, final_state = sess.run(
            [self.generated, self.final_state],
            feed_dict={self.x_data: x, self.initial_state: state})
        return (generated[0], final_state) if with_state else generated[0]

    def sample(self, sess, ix2vocab, vocab2ix, num=10, prime_text='thou art',
               char_level=False):
        """Greedy text from a prime text, one session call per token.

        Feeds the prime tokens (words, or characters with char_level) through
        the cell, then appends the most probable next token num times,
        stopping early at index 0 ('unknown'). Needs the sampling model
        (infer_sample=True, infer_seq_len=1).

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
        if self.training_seq_len != 1 or self.batch_size != 1:
            raise ValueError('sample() needs the sampling model: build it with '
                             'infer_sample=True and infer_seq_len=1.')
        separator = '' if char_level else ' '

        state = self.prime_state(sess, [vocab2ix[t] for t in tokens])
        out_sentence = prime_text
        token = tokens[-1]
        x = np.zeros((1, 1), dtype=np.int32)
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
