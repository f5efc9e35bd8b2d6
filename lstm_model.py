"""The LSTM model of the book's chapter 9 (recipes 03 and 04), in TF1 graph style.

This module only builds graphs. It reads no files, flags or globals and prints
nothing: everything it needs arrives through the constructor or the call.

What the book imports from `tf.contrib.legacy_seq2seq` (rnn_decoder,
sequence_loss_by_example), gone from TensorFlow 2, is written in
cookbook_lstm/legacy_seq2seq.py with TF1's semantics and variable names, so
that a checkpoint of the book's model made with TF1 loads into this graph.
The parts a caller may change (the cell, the loss layer, the choice of the
next token) are in cookbook_lstm/model_parts.py, the book's as defaults.
"""
import numpy as np

from cookbook_lstm.legacy_seq2seq import rnn_decoder, tf, tf1
from cookbook_lstm.model_parts import greedy, softmax_loss, stacked_cell
from cookbook_lstm.shakespeare_data import tokens


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
      lr_decay: the rate of epoch k (fed as `epoch`, from 0; 0 when not fed)
        is learning_rate * lr_decay ** k; 1 (the book's) keeps it constant.
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
                 decoder=rnn_decoder, loss_layer=softmax_loss, choose=greedy, lr_decay=1.0):
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
        # The rate of the epoch fed (--lr-decay), worked out in float64 and then
        # rounded once to float32, as Python's float of it would be; with the
        # book's lr_decay 1, the book's float32 constant at every epoch
        self.epoch = tf1.placeholder_with_default(0, [], name='epoch')
        self.lr = tf.cast(self.learning_rate * tf.pow(tf.constant(lr_decay, tf.float64),
                                                      tf.cast(self.epoch, tf.float64)),
                          tf.float32, name='learning_rate')
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
        prime_tokens = tokens(prime_text, char_level)
        if not prime_tokens:
            raise ValueError('The prime text is empty: give at least one '
                             '{}.'.format('character' if char_level else 'word'))
        unknown = [t for t in prime_tokens if t not in vocab2ix]
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
        for token in prime_tokens[:-1]:
            x[0, 0] = vocab2ix[token]
            state = sess.run(self.final_state,
                             feed_dict={self.x_data: x, self.initial_state: state})
        out_sentence = prime_text
        token = prime_tokens[-1]
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
