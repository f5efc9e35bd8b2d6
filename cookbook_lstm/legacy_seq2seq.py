"""What the book imports from tf.contrib.legacy_seq2seq, written for TensorFlow 2.

`tf.contrib` is gone from TensorFlow 2, so `rnn_decoder` and
`sequence_loss_by_example` are written here with the semantics and variable
names of TF1's `tf.contrib.legacy_seq2seq`, so that a checkpoint of the
book's model made with TF1 loads into lstm_model.LSTM_Model's graph. Like
the model, this module only builds graphs.
"""
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
