"""Stacking multiple LSTM layers (TensorFlow Machine Learning Cookbook, 2nd ed., ch. 9, recipe 04).

A character-level language model of three stacked LSTM layers, trained on
the works of Shakespeare. Every 50 iterations it prints how it continues
'thou art more', 'to be or not to' and 'wherefore art thou'; at the end it
draws its loss.

The printed code passes one cell object three times, which on TensorFlow
>= 1.2 makes the three layers share one set of weights. That is the default
here too; --separate-layers gives each layer its own.

    python recipes/04_stacking_multiple_lstm.py              # the book's run
    python recipes/04_stacking_multiple_lstm.py --tiny --max-steps 20 --out temp/smoke

Where this differs from the printed code, and why: docs/errata.md.
"""
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import shakespeare_data
from cookbook_lstm import text_source
from cookbook_lstm.command_line import exit_status_of
from cookbook_lstm.memory import check_model_fits
from cookbook_lstm.settings import TEMP_DIR, BeyondTheBook
from cookbook_lstm.run import pyplot
from cookbook_lstm.training_run import TrainingRun

RECIPE = '04_stacking_multiple_lstm'


# Set RNN parameters: the book's values. Each is a flag of --help
# (rnn_size: --rnn-size); the run folder's config.json holds them as run. The
# settings beyond the book, shared with the other recipe: settings.BeyondTheBook
@dataclass(frozen=True)
class Config(BeyondTheBook):
    num_layers: int = 3              # LSTM layers stacked
    rnn_size: int = 128              # LSTM units per layer, also the embedding width
    epochs: int = 10                 # passes over the text
    batch_size: int = 100            # sequences per training step
    learning_rate: float = 0.0005    # Adam step size
    training_seq_len: int = 50       # characters per sequence (steps unrolled)
    save_every: int = 500            # iterations between checkpoints
    eval_every: int = 50             # iterations between printed samples
    prime_texts: tuple = ('thou art more', 'to be or not to', 'wherefore art thou')
    # Its corrections (docs/errata.md)
    separate_layers: bool = False    # each layer its own weights, not one tied set
    exact_batches: bool = False      # whole batches, each target the next character


# The tiny configuration (--tiny): the same code at a size that trains in
# seconds, 50 iterations unless --max-steps says otherwise: a first look, and
# the tests
TINY = Config(rnn_size=16, epochs=2, batch_size=4, training_seq_len=8,
              save_every=10, eval_every=10, max_steps=50)


def main(argv=None):
    # The settings (--resume: the run's own) and the run that trains with them
    config, run = TrainingRun.open(RECIPE, Config, TINY, __doc__, argv)
    # TensorFlow's TF1 API and the model, once the flags are read (--help answers at once)
    from cookbook_lstm import fast_lstm
    from lstm_model import LSTM_Model, tf1

    # Load the Shakespeare data
    print('Loading Shakespeare Data')
    s_text, source = text_source.load_shakespeare(
        TEMP_DIR, run.corpus, run.offline, char_level=True)
    print('Text source: {}'.format(text_source.describe_source(source)))

    # Clean text
    print('Cleaning Text')
    s_text = shakespeare_data.clean_text(s_text)

    # Split up by characters. The book's char_list = list(s_text) takes 8 bytes a
    # character more (memory): the text itself gives its characters one by one
    char_list = s_text

    # Build Shakespeare vocabulary
    print('Building Shakespeare Vocab by Characters')
    ix2vocab, vocab2ix = shakespeare_data.build_char_vocab(char_list)
    vocab_size = len(ix2vocab)
    print('Vocabulary Length = {}'.format(vocab_size))
    run.check_data(source, vocab2ix, ix2vocab, char_level=True)

    # Convert text to character indices
    s_text_ix = shakespeare_data.text_to_indices(char_list, vocab2ix)
    del char_list, s_text  # millions of characters, not needed again

    # Hold out the end of the text, never trained on (--valid-fraction; the book trains on all)
    s_text_ix, valid_batches = shakespeare_data.hold_out(
        s_text_ix, config.valid_fraction, config.batch_size, config.training_seq_len)

    # Define LSTM model, and the sampling model that shares its weights. Their
    # shape, once: the layers, the embedding as wide as the cell, the vocabulary
    model_shape = dict(rnn_size=config.rnn_size, num_layers=config.num_layers,
                       vocab_size=vocab_size, embedding_size=config.rnn_size,
                       separate_layers=config.separate_layers, cell=config.cell,
                       peepholes=config.peepholes, residual=config.residual)
    check_model_fits(model_shape, config.batch_size, config.training_seq_len)
    tf1.reset_default_graph()
    tf1.set_random_seed(config.seed)
    with tf1.variable_scope('lstm_model') as scope:
        lstm_model = LSTM_Model(batch_size=config.batch_size,
                                learning_rate=config.learning_rate,
                                lr_decay=config.lr_decay,
                                training_seq_len=config.training_seq_len,
                                dropout=config.dropout,
                                decoder=fast_lstm.DECODERS[config.cell_impl],
                                loss_layer=fast_lstm.blocked_softmax_loss(
                                    config.softmax_blocks, config.xla_softmax),
                                **model_shape)
        scope.reuse_variables()
        test_lstm_model = LSTM_Model(batch_size=1, learning_rate=None, training_seq_len=1,
                                     infer_sample=True, **model_shape)

    # Create model saver (run.save saves with it, and keeps its max_to_keep newest)
    saver = tf1.train.Saver(tf1.global_variables(), max_to_keep=5)

    # Create batches for each epoch (inputs and their targets)
    batches = shakespeare_data.make_batches(
        s_text_ix, config.batch_size, config.training_seq_len, exact=config.exact_batches)
    num_batches = len(batches)

    # Initialize all variables (--resume: restore them, and where the run stood)
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    run.begin(sess, saver, lstm_model, num_batches, test_lstm_model, valid_batches)

    # Train model. run.epochs() shuffles the batches each epoch, goes on from
    # where a resumed run stood, and ends early at --max-steps or on Ctrl-C.
    train_loss = run.train_loss  # a resumed run's earlier losses included
    for epoch, shuffled_batches in run.epochs(batches):
        print('Starting Epoch #{} of {}.'.format(epoch + 1, config.epochs))
        # Reset initial LSTM state every epoch
        state = run.epoch_state(sess.run(lstm_model.initial_state))
        for iteration_count, ix, (batch, target) in shuffled_batches:
            # The epoch sets the learning rate: the book's, unless --lr-decay lowers it
            training_dict = {lstm_model.x_data: batch, lstm_model.y_output: target,
                             lstm_model.epoch: epoch}
            # We need to update initial state for each RNN cell: the book feeds
            # each layer's c and h; one nested key does the same for any cell
            # (an LSTM's (c, h), a GRU's or basic RNN's one state)
            training_dict[lstm_model.initial_state] = state

            temp_loss, state, _ = sess.run(
                [lstm_model.cost, lstm_model.final_state, lstm_model.train_op],
                feed_dict=training_dict)
            train_loss.append(temp_loss)
            run.log_step(temp_loss, state)  # the record; a loss not finite stops the run

            # Print status every 10 iterations ('out of' is one more than the
            # number of batches, as printed in the book)
            if iteration_count % 10 == 0:
                summary_nums = (iteration_count, epoch + 1, ix + 1, num_batches + 1, temp_loss)
                print('Iteration: {}, Epoch: {}, Batch: {} out of {}, Loss: {:.2f}'.format(
                    *summary_nums))

            # Save the model (the vocabulary was saved as the run began)
            if iteration_count % config.save_every == 0:
                run.save(iteration_count)

            if iteration_count % config.eval_every == 0:
                for sample in config.prime_texts:
                    text = test_lstm_model.sample(sess, ix2vocab, vocab2ix, num=10,
                                                  prime_text=sample, char_level=True)
                    print(text)
                    run.log_sample(iteration_count, sample, text)

        # Held-out loss and perplexity after each whole epoch (--valid-fraction)
        if valid_batches and run.epoch_complete(epoch):
            run.log_held_out(epoch, run.held_out_loss(lstm_model, valid_batches))  # prints them

    # Save the last weights too (unless just saved), and the run's record
    exit_status = run.finish()

    # Plot loss over time (saved in the run folder too)
    plt = pyplot()
    plt.plot(train_loss, 'k-', label='Training loss')
    if run.held_out:  # --valid-fraction: at the iteration ending each epoch
        plt.plot([h['iteration'] - 1 for h in run.held_out], [h['loss'] for h in run.held_out],
                 'ro-', label='Held-out loss, end of epoch')
        plt.legend(loc='upper right')
    plt.title('Sequence to Sequence Loss')
    plt.xlabel('Generation')
    plt.ylabel('Loss')
    run.save_figure(plt.gcf(), show=exit_status == 0)  # loss.png in the run folder
    return exit_status


if __name__ == '__main__':
    sys.exit(exit_status_of(main))
