"""Implementing RNN for spam prediction (TF Machine Learning Cookbook, 2nd ed., ch. 9, recipe 02).

A single BasicRNNCell of 10 units reads the first 25 words of each text
message of the UCI SMS Spam Collection and says spam or ham. It prints the
vocabulary size, the 80-20 split and, after each epoch, the test loss and
accuracy; at the end it draws the softmax loss and the accuracy, training
dashed, test solid.

    python recipes/02_implementing_rnn.py                  # the book's run
    python recipes/02_implementing_rnn.py --single-softmax # the loss on the logits
    python recipes/02_implementing_rnn.py --tiny --out temp/smoke02
    python tools/classify_messages.py temp/smoke02 --messages 'WIN a prize now'

The data: --data PATH (your copy), else the cache in temp/, else the book's
download, else the copy shipped in this package (CC BY 4.0, Almeida, Gomez
Hidalgo and Yamakami, 2011: cookbook_lstm/data/README.md).

Where this differs from the printed code, and why: docs/errata.md (recipe 02).
"""
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import spam_data
from cookbook_lstm.command_line import exit_status_of
from cookbook_lstm.run import pyplot
from cookbook_lstm.settings import TEMP_DIR
from cookbook_lstm.training_run import TrainingRun
from cookbook_lstm.vocabulary_processor import VocabularyProcessor

RECIPE = '02_implementing_rnn'
OPTIONS = ('data', 'offline', 'out', 'overwrite', 'resume', 'verbose', 'tiny')


# Set RNN parameters: the book's values. Each is a flag of --help
# (rnn_size: --rnn-size); the run folder's config.json holds them as run
@dataclass(frozen=True)
class Config:
    epochs: int = 20                 # passes over the training messages
    batch_size: int = 250            # messages per training step
    max_sequence_length: int = 25    # words kept of each message, cut or padded
    rnn_size: int = 10               # RNN units
    embedding_size: int = 50         # word embedding width
    min_word_frequency: int = 10     # keep words seen more than this many times
    learning_rate: float = 0.0005    # RMSProp step size
    dropout_keep_prob: float = 0.5   # keep probability of the RNN's outputs while training
    # Its corrections (docs/errata.md)
    single_softmax: bool = False     # the loss takes the logits, not their softmax
    whole_train_metrics: bool = False  # training figures on all training messages, no dropout
    # Beyond the book: the run kit
    max_steps: int = 0               # stop after this many training steps (0: no limit)
    seed: int = None                 # None: drawn at random, and recorded


# The tiny configuration (--tiny): the same code at a size that trains in
# seconds (10 words a message, 4 units, 2 epochs): a first look, and the tests
TINY = Config(epochs=2, max_sequence_length=10, rnn_size=4, embedding_size=8)


def main(argv=None):
    # The settings (--resume: the run's own) and the run that trains with them
    config, run = TrainingRun.open(RECIPE, Config, TINY, __doc__, argv, options=OPTIONS)
    # TensorFlow's TF1 API, once the flags are read (--help answers at once)
    from cookbook_lstm.model_parts import dropout_step, seeded_dropout, tf, tf1
    max_sequence_length = config.max_sequence_length

    # Download or open data (--data PATH; the cache; the download; the shipped copy)
    data_bytes, source = spam_data.load_spam_data(TEMP_DIR, run.corpus, run.offline)
    print('Data source: {}'.format(spam_data.describe_source(source)))
    text_data_target, text_data_train = spam_data.text_data(data_bytes)

    # Clean texts
    text_data_train = [spam_data.clean_text(x) for x in text_data_train]

    # Change texts into numeric vectors
    vocab_processor = VocabularyProcessor(max_sequence_length,
                                          min_frequency=config.min_word_frequency)
    text_processed = np.array(list(vocab_processor.fit_transform(text_data_train)))
    vocab2ix = {vocab_processor.vocabulary_.reverse(ix): ix
                for ix in range(len(vocab_processor.vocabulary_))}
    run.check_data(source, vocab2ix, {ix: w for w, ix in vocab2ix.items()}, char_level=False)

    # Shuffle and split data (seeded: --seed, or the seed drawn and recorded)
    text_data_target = np.array([1 if x == 'ham' else 0 for x in text_data_target])
    shuffled_ix = np.random.permutation(np.arange(len(text_data_target)))
    x_shuffled = text_processed[shuffled_ix]
    y_shuffled = text_data_target[shuffled_ix]

    # Split train/test set
    ix_cutoff = int(len(y_shuffled) * 0.80)
    x_train, x_test = x_shuffled[:ix_cutoff], x_shuffled[ix_cutoff:]
    y_train, y_test = y_shuffled[:ix_cutoff], y_shuffled[ix_cutoff:]
    vocab_size = len(vocab_processor.vocabulary_)
    print("Vocabulary Size: {:d}".format(vocab_size))
    print("80-20 Train Test split: {:d} -- {:d}".format(len(y_train), len(y_test)))
    spam_data.check_split(vocab_size, len(y_train), len(y_test), config.min_word_frequency)
    # Not the book's: what answering 'ham' (1) to every message scores
    print("A constant 'ham' scores {:.2} on the test set (spam is class 0)".format(
        float(np.mean(y_test == 1))))

    tf1.reset_default_graph()
    tf1.set_random_seed(config.seed)

    # Create placeholders
    x_data = tf1.placeholder(tf.int32, [None, max_sequence_length])
    y_output = tf1.placeholder(tf.int32, [None])
    dropout_keep_prob = tf1.placeholder(tf.float32)

    # Create embedding
    embedding_mat = tf1.Variable(tf1.random_uniform([vocab_size, config.embedding_size],
                                                    -1.0, 1.0))
    embedding_output = tf.nn.embedding_lookup(embedding_mat, x_data)

    # Define the RNN cell
    cell = tf1.nn.rnn_cell.BasicRNNCell(num_units=config.rnn_size)

    output, state = tf1.nn.dynamic_rnn(cell, embedding_output, dtype=tf.float32)
    # The masks drawn from the seed and the step, fed with each batch, so that a
    # resumed run drops what this one would (errata)
    output = seeded_dropout(output, dropout_keep_prob)
    dropout_step_ph = dropout_step()

    # Get output of RNN sequence: the last step's [batch_size x rnn_size]
    output = tf.transpose(output, [1, 0, 2])
    last = tf.gather(output, int(output.get_shape()[0]) - 1)

    weight = tf1.Variable(tf1.truncated_normal([config.rnn_size, 2], stddev=0.1))
    bias = tf1.Variable(tf.constant(0.1, shape=[2]))
    logits_out = tf.matmul(last, weight) + bias
    if not config.single_softmax:
        # As printed: a softmax here, and another inside the loss (errata; --single-softmax)
        logits_out = tf.nn.softmax(logits_out)

    # Loss function
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits_out, labels=y_output)
    loss = tf.reduce_mean(losses)

    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits_out, 1),
                                               tf.cast(y_output, tf.int64)), tf.float32))

    optimizer = tf1.train.RMSPropOptimizer(config.learning_rate)
    train_step = optimizer.minimize(loss)

    # Batches an epoch: the book's int(len / batch_size) + 1, but no empty batch
    # when the batch size divides the messages (errata)
    num_batches = -(-len(x_train) // config.batch_size)

    # Initialize (--resume: restore the weights, the optimizer's slots, the
    # messages' order and where the run stood; a save after each epoch's test)
    sess = tf1.Session()
    saver = tf1.train.Saver(tf1.global_variables(), max_to_keep=5)
    sess.run(tf1.global_variables_initializer())
    run.begin(sess, saver, None, num_batches, None, shape={
        'vocab_size': vocab_size, 'max_sequence_length': max_sequence_length,
        'rnn_size': config.rnn_size, 'embedding_size': config.embedding_size},
        order_length=len(x_train))

    # The book's four lists, a resumed run's earlier epochs included
    train_loss = [h['train_loss'] for h in run.held_out]
    test_loss = [h['loss'] for h in run.held_out]
    train_accuracy = [h['train_accuracy'] for h in run.held_out]
    test_accuracy = [h['accuracy'] for h in run.held_out]
    x_train_unshuffled, y_train_unshuffled = x_train, y_train
    # Start training. run.epochs() goes on from where a resumed run stood, and
    # ends early at --max-steps or on Ctrl-C
    for epoch, epoch_batches in run.epochs(range(num_batches), shuffle=False):

        # Shuffle training data (the book's np.random.permutation, on the order
        # the last epoch left; a resumed run: the order it stood in)
        shuffled_ix = run.shuffle_examples()
        x_train = x_train_unshuffled[shuffled_ix]
        y_train = y_train_unshuffled[shuffled_ix]
        for iteration, i, _ in epoch_batches:
            # Select train data
            min_ix = i * config.batch_size
            max_ix = np.min([len(x_train), ((i + 1) * config.batch_size)])
            x_train_batch = x_train[min_ix:max_ix]
            y_train_batch = y_train[min_ix:max_ix]

            # Run train step (its loss and accuracy, before the step, for the record)
            train_dict = {x_data: x_train_batch, y_output: y_train_batch,
                          dropout_keep_prob: config.dropout_keep_prob,
                          dropout_step_ph: iteration}
            _, temp_loss, temp_acc = sess.run([train_step, loss, accuracy],
                                              feed_dict=train_dict)
            run.log_step(temp_loss, None, accuracy=temp_acc)
        if not run.epoch_complete(epoch):
            break  # stopped inside the epoch: no figures for part of one

        # Run loss and accuracy for training: the book's last batch, with dropout
        # (new masks); --whole-train-metrics: every training message, without
        if config.whole_train_metrics:
            train_dict = {x_data: x_train, y_output: y_train, dropout_keep_prob: 1.0}
        else:
            train_dict[dropout_step_ph] = -iteration
        temp_train_loss, temp_train_acc = sess.run([loss, accuracy], feed_dict=train_dict)
        train_loss.append(temp_train_loss)
        train_accuracy.append(temp_train_acc)

        # Run Eval Step
        test_dict = {x_data: x_test, y_output: y_test, dropout_keep_prob: 1.0}
        temp_test_loss, temp_test_acc = sess.run([loss, accuracy], feed_dict=test_dict)
        test_loss.append(temp_test_loss)
        test_accuracy.append(temp_test_acc)
        print('Epoch: {}, Test Loss: {:.2}, Test Acc: {:.2}'.format(
            epoch + 1, temp_test_loss, temp_test_acc))
        run.log_evaluation(epoch, temp_test_loss, temp_test_acc, temp_train_loss,
                           temp_train_acc)
        # Save the model, after the epoch's test (the book saves none)
        run.save(run.iteration)

    # Save the last weights too (unless just saved), and the run's record
    exit_status = run.finish()

    # Plot loss over time (loss.png in the run folder too)
    plt = pyplot()
    epoch_seq = np.arange(1, len(test_loss) + 1)
    plt.plot(epoch_seq, train_loss, 'k--', label='Train Set')
    plt.plot(epoch_seq, test_loss, 'r-', label='Test Set')
    plt.title('Softmax Loss')
    plt.xlabel('Epochs')
    plt.ylabel('Softmax Loss')
    plt.legend(loc='upper left')
    run.save_figure(plt.gcf(), what='Loss', show=exit_status == 0)

    # Plot accuracy over time (accuracy.png)
    plt.plot(epoch_seq, train_accuracy, 'k--', label='Train Set')
    plt.plot(epoch_seq, test_accuracy, 'r-', label='Test Set')
    plt.title('Test Accuracy')
    plt.xlabel('Epochs')
    plt.ylabel('Accuracy')
    plt.legend(loc='upper left')
    run.save_figure(plt.gcf(), name='accuracy.png', what='Accuracy', show=exit_status == 0)
    return exit_status


if __name__ == '__main__':
    sys.exit(exit_status_of(main))
