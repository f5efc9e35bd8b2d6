"""Faster graphs of the book's LSTM model: the same variables, the same numbers.

Each function here takes the place of one piece of lstm_model.LSTM_Model and
plugs in through its constructor, so the book's class stays as printed:

    LSTM_Model(..., decoder=fast_lstm.DECODERS['fused'],
               loss_layer=fast_lstm.blocked_softmax_loss(5, xla=False))

- a decoder, called as legacy_seq2seq.rnn_decoder is and returning what it
  returns: fused_rnn_decoder (TensorFlow's fused LSTM kernel, one op per
  layer) or projected_rnn_decoder (each layer's input product done once for
  all steps);
- a loss layer, called as model_parts.softmax_loss is: blocked_softmax_loss
  (the softmax product and the loss a block of rows at a time, and with xla
  the layer and its gradient compiled by XLA).

Each makes its variables by the cell's own first call, as rnn_decoder does,
so names, shapes and initial values are the book's and a checkpoint moves
freely between the graphs. Like lstm_model, this module only builds graphs.
"""
import contextlib

from cookbook_lstm import tf1_setup
from cookbook_lstm.legacy_seq2seq import rnn_decoder, sequence_loss_by_example
from cookbook_lstm.model_parts import softmax_loss

tf = tf1_setup.import_tensorflow()
tf1 = tf.compat.v1


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


def fused_rnn_decoder(decoder_inputs, initial_state, cell, loop_function=None,
                      scope=None):
    """rnn_decoder run by TensorFlow's fused LSTM kernels.

    Computes what rnn_decoder computes for a BasicLSTMCell, or a MultiRNNCell
    of them, with one BlockLSTM op per layer over all time steps instead of
    one small graph per step. The cell's variables are made by the cell's own
    first call, as in rnn_decoder, so their names, shapes and initial values
    are the same and a checkpoint moves freely between the two. BlockLSTM
    (version 1) keeps TF1's gate order i, j, f, o and adds forget_bias to f,
    as BasicLSTMCell does; no peepholes, no cell clipping.

    With a loop function (the sampling model), which needs one step at a
    time, rnn_decoder runs the cell as fused_step_cell: one LSTMBlockCell op
    per layer and step.

    Args:
      decoder_inputs: a list of 2D Tensors [batch_size x input_size].
      initial_state: an LSTMStateTuple of [batch_size x units] Tensors, or a
        tuple of them for a MultiRNNCell.
      cell: a BasicLSTMCell, or a MultiRNNCell of them (tied or not).
      loop_function: as rnn_decoder's.
      scope: variable scope of the created subgraph; "rnn_decoder" if None.

    Returns:
      (outputs, state) as rnn_decoder: outputs a list of 2D Tensors
      [batch_size x units] (the last layer's), one per input; state shaped
      like initial_state.
    """
    if loop_function is not None:
        step = fused_step_cell(decoder_inputs, initial_state, cell, scope)
        return rnn_decoder(decoder_inputs, initial_state, step, loop_function, scope)
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
    return tf.unstack(x), (tuple(final) if multi else final[0])


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


def projected_rnn_decoder(decoder_inputs, initial_state, cell, loop_function=None,
                          scope=None):
    """rnn_decoder with each layer's input product done once for all steps.

    A BasicLSTMCell multiplies [input, h] by its kernel at every step. The
    input's half of that product does not depend on the recurrence, so here
    it is one large product over all time steps per layer, and each step
    multiplies only h by the kernel's lower rows. The same arithmetic in
    another order (float32 rounding aside), computed layer by layer; the
    variables are made by the cell's own first call, as in rnn_decoder.

    Args and returns as rnn_decoder: outputs is a list of 2D Tensors
    [batch_size x units] (the last layer's), one per input. With a loop
    function each step's input depends on the step before, so there is
    nothing to project ahead: that is rnn_decoder itself.
    """
    if loop_function is not None:
        return rnn_decoder(decoder_inputs, initial_state, cell, loop_function, scope)
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


# --cell-impl: the decoder each name plugs into LSTM_Model
DECODERS = {'basic': rnn_decoder, 'fused': fused_rnn_decoder,
            'projected': projected_rnn_decoder}


def blocked_softmax_loss(blocks, xla=False):
    """A loss layer like model_parts.softmax_loss, a block of rows at a time, or
    compiled by XLA.

    The book multiplies all batch * seq outputs by W at once and takes one
    loss over the [batch * seq, vocab] logits. This splits the rows into
    `blocks` blocks (whole rows each, as even as can be) and does the product
    and the loss block by block, so those logits never exist at once: the
    same numbers, float32 rounding aside, with less memory (recipe 03: 5000 x
    8009 logits) and a faster step.

    xla (--xla-softmax): the layer's ops and their gradients marked for XLA
    (tf.xla.experimental.jit_scope; tf.gradients marks the gradients in the
    same scope). TensorFlow runs the softmax cross-entropy, the bias gradient
    and the products' gradients as separate kernels, each a pass over the
    logits (160 MB in recipe 03); XLA compiles them into one cluster that
    makes fewer. (TensorFlow's clustering leaves the forward product and its
    bias to its own kernels.) XLA's exp, log and order of summing are its
    own, so the numbers are the book's to float32 rounding.

    blocks=1 without xla gives softmax_loss itself. Returns loss_layer(output,
    W, b, targets) -> the loss of each row, a 1D Tensor [batch * seq], as
    softmax_loss.
    """
    if not (isinstance(blocks, int) and blocks >= 1):
        raise ValueError('blocks must be a whole number of at least 1, not {!r}.'.format(
            blocks))
    if blocks == 1 and not xla:
        return softmax_loss

    def logits(block, W, b):
        if xla:
            # BiasAdd, not the book's `+ b` (AddV2): the same sums, and with XLA
            # a step 2-9% faster here in three interleaved runs
            return tf.nn.bias_add(tf.matmul(block, W), b)
        return tf.matmul(block, W) + b

    def loss_layer(output, W, b, targets):
        rows = output.shape[0]
        if blocks > rows:
            raise ValueError('{} softmax blocks for {} rows (batch_size x '
                             'training_seq_len): give at most {}.'.format(blocks, rows, rows))
        sizes = [rows // blocks + (k < rows % blocks) for k in range(blocks)]
        pieces = zip(tf.split(output, sizes), tf.split(targets, sizes)) if blocks > 1 \
            else [(output, targets)]
        with (tf.xla.experimental.jit_scope(compile_ops=True,
                                            separate_compiled_gradients=False)
              if xla else contextlib.nullcontext()):
            # each block's rows are examples of their own: their losses line up
            # end to end as the one block's would
            return tf.concat([sequence_loss_by_example(
                [logits(block, W, b)], [target], [tf.ones_like(target, tf.float32)])
                for block, target in pieces], 0)
    return loss_layer
