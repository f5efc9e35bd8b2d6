"""Siamese address similarity (the book's model file of recipe 06), in TF1 graph style.

The book prints recipe 06 as two files, a driver and this model file, which
the driver imports as `model`; it lives beside the driver as the book has it.
Like lstm_model.py it only builds graphs: everything arrives through the
arguments.

    scores = snn(address1, address2, dropout_keep_prob, vocab_size, num_features,
                 input_length)          # [batch_size]: the cosine of the two outputs
    loss(scores, y_target, margin)      # the book's loss, written for targets 1 and 0
    accuracy(scores, y_target)          # the book's: sign(score) == target
    get_predictions(scores)             # sign(score)

Where it differs from the printed code (docs/errata.md, recipe 06): TF1's
names through tf.compat.v1; the dropout masks drawn from the seed and the
batch (model_parts.seeded_dropout), so that a resumed run drops what the run
that never stopped would have; and `corrected_accuracy`, beside the book's,
for the targets the loss was written for.
"""
from cookbook_lstm.model_parts import SeededDropoutWrapper, seeded_dropout, tf, tf1


def snn(address1, address2, dropout_keep_prob,
        vocab_size, num_features, input_length):
    """The Siamese network: one bidirectional LSTM tower, its weights shared by
    both addresses, and the cosine similarity of their outputs.

    Args:
      address1, address2: 3D Tensors [batch_size x input_length x vocab_size],
        the addresses' characters one-hot.
      dropout_keep_prob: a scalar float Tensor (or float), the probability of
        keeping each unit while training; 1.0 to compare addresses.
      vocab_size: the width of the one-hot characters (unused, as in the book).
      num_features: LSTM units each way.
      input_length: characters an address (steps unrolled).

    Returns:
      a 1D Tensor [batch_size]: the dot product of the two unit-length
      outputs, their cosine similarity, from -1 to 1.
    """

    # Define the siamese double RNN with a fully connected layer at the end
    def siamese_nn(input_vector, num_hidden):
        cell_unit = tf1.nn.rnn_cell.BasicLSTMCell

        # Forward direction cell
        lstm_forward_cell = cell_unit(num_hidden, forget_bias=1.0)
        lstm_forward_cell = SeededDropoutWrapper(lstm_forward_cell,
                                                 output_keep_prob=dropout_keep_prob)

        # Backward direction cell
        lstm_backward_cell = cell_unit(num_hidden, forget_bias=1.0)
        lstm_backward_cell = SeededDropoutWrapper(lstm_backward_cell,
                                                  output_keep_prob=dropout_keep_prob)

        # Split title into a character sequence: input_length Tensors
        # [batch_size x vocab_size]
        input_embed_split = tf.split(axis=1, num_or_size_splits=input_length,
                                     value=input_vector)
        input_embed_split = [tf.squeeze(x, axis=[1]) for x in input_embed_split]

        # Create bidirectional layer: input_length outputs [batch_size x 2*num_hidden]
        outputs, _, _ = tf1.nn.static_bidirectional_rnn(lstm_forward_cell,
                                                        lstm_backward_cell,
                                                        input_embed_split,
                                                        dtype=tf.float32)
        # Average The output over the sequence
        temporal_mean = tf.add_n(outputs) / input_length

        # Fully connected layer (10 outputs, as the code has it; the book's text says 100)
        output_size = 10
        A = tf1.get_variable(name="A", shape=[2 * num_hidden, output_size],
                             dtype=tf.float32,
                             initializer=tf1.random_normal_initializer(stddev=0.1))
        b = tf1.get_variable(name="b", shape=[output_size], dtype=tf.float32,
                             initializer=tf1.random_normal_initializer(stddev=0.1))

        final_output = tf.matmul(temporal_mean, A) + b
        final_output = seeded_dropout(final_output, dropout_keep_prob)

        return final_output

    output1 = siamese_nn(address1, num_features)
    # Declare that we will use the same variables on the second string
    with tf1.variable_scope(tf1.get_variable_scope(), reuse=True):
        output2 = siamese_nn(address2, num_features)

    # Unit normalize the outputs
    output1 = tf.nn.l2_normalize(output1, 1)
    output2 = tf.nn.l2_normalize(output2, 1)
    # Return cosine distance
    #   in this case, the dot product of the norms is the same.
    dot_prod = tf.reduce_sum(tf.multiply(output1, output2), 1)

    return dot_prod


def get_predictions(scores):
    """sign(scores): 1 similar, -1 dissimilar, 0 for a score of exactly 0."""
    predictions = tf.sign(scores, name="predictions")
    return predictions


def loss(scores, y_target, margin):
    """The book's loss: the batch mean of, for each pair,

        y * 0.25 * (1 - s)**2 + (1 - y) * s**2,  and 0 where y == 0 and s < margin

    s its score, y its target (int, cast to float). Written for targets 1
    (similar) and 0 (dissimilar): the book's driver feeds 1 and -1, which
    makes a dissimilar pair's loss 2 s**2 - 0.25 (1 - s)**2, the margin
    never applying (docs/errata.md; --corrected feeds 1 and 0).
    """
    # Calculate the positive losses
    pos_loss_term = 0.25 * tf.square(tf.subtract(1., scores))

    # If y-target is -1 to 1, then do the following
    # pos_mult = tf.add(tf.multiply(0.5, y_target), 0.5)
    # Else if y-target is 0 to 1, then do the following
    pos_mult = tf.cast(y_target, tf.float32)

    # Make sure positive losses are on similar strings
    positive_loss = tf.multiply(pos_mult, pos_loss_term)

    # Calculate negative losses, then make sure on dissimilar strings

    # If y-target is -1 to 1, then do the following:
    # neg_mult = tf.add(tf.mul(-0.5, y_target), 0.5)
    # Else if y-target is 0 to 1, then do the following
    neg_mult = tf.subtract(1., tf.cast(y_target, tf.float32))

    negative_loss = neg_mult * tf.square(scores)

    # Combine similar and dissimilar losses
    loss = tf.add(positive_loss, negative_loss)

    # Create the margin term.  This is when the targets are 0.,
    #  and the scores are less than m, return 0.

    # Check if target is zero (dissimilar strings)
    target_zero = tf.equal(tf.cast(y_target, tf.float32), 0.)
    # Check if cosine outputs is smaller than margin
    less_than_margin = tf.less(scores, margin)
    # Check if both are true
    both_logical = tf.logical_and(target_zero, less_than_margin)
    both_logical = tf.cast(both_logical, tf.float32)
    # If both are true, then multiply by (1-1)=0.
    multiplicative_factor = tf.cast(1. - both_logical, tf.float32)
    total_loss = tf.multiply(loss, multiplicative_factor)

    # Average loss over batch
    avg_loss = tf.reduce_mean(total_loss)
    return avg_loss


def accuracy(scores, y_target):
    """The book's accuracy: the fraction of pairs whose sign(score), as an int,
    equals the int target (1 or -1 as the book's driver feeds them; a score
    of exactly 0 is counted wrong)."""
    predictions = get_predictions(scores)
    # Cast into integers (outputs can only be -1 or +1)
    y_target_int = tf.cast(y_target, tf.int32)
    # Change targets from (0,1) --> (-1, 1)
    #    via (2 * x - 1)
    # y_target_int = tf.sub(tf.mul(y_target_int, 2), 1)
    predictions_int = tf.cast(tf.sign(predictions), tf.int32)
    correct_predictions = tf.equal(predictions_int, y_target_int)
    accuracy = tf.reduce_mean(tf.cast(correct_predictions, tf.float32))
    return accuracy


def corrected_accuracy(scores, y_target, threshold):
    """The fraction of pairs called rightly, for targets 1 (similar) and 0
    (dissimilar): a pair is called similar when its score is above threshold.
    Every pair is called one or the other (--corrected; docs/errata.md)."""
    predicted_similar = tf.greater(scores, threshold)
    correct_predictions = tf.equal(predicted_similar, tf.equal(y_target, 1))
    return tf.reduce_mean(tf.cast(correct_predictions, tf.float32))
