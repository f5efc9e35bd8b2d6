"""Stacking multiple LSTM layers (TensorFlow Machine Learning Cookbook, 2nd ed., ch. 9, recipe 04).

A character-level language model of three stacked LSTM layers, trained on
the works of Shakespeare. Every 50 iterations it prints how it continues
'thou art more', 'to be or not to' and 'wherefore art thou'; at the end it
draws its loss.

The printed code passes one cell object three times, which on TensorFlow
>= 1.2 makes the three layers share one set of weights. That is the default
here too; --separate-layers gives each layer its own.

    python recipes/04_stacking_multiple_lstm.py              # the book's run
    python recipes/04_stacking_multiple_lstm.py --max-steps 20 --out temp/smoke

Where this differs from the printed code, and why: docs/errata.md.
"""
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
import shakespeare_data
import training

RECIPE = '04_stacking_multiple_lstm'

# Set RNN parameters (the book's values; the flags of --help change them)
num_layers = 3           # LSTM layers stacked
rnn_size = 128           # LSTM units per layer, also the embedding width
epochs = 10              # passes over the text
batch_size = 100         # sequences per training step
learning_rate = 0.0005   # Adam step size
training_seq_len = 50    # characters per sequence (steps unrolled)
save_every = 500         # iterations between checkpoints
eval_every = 50          # iterations between printed samples
prime_texts = ['thou art more', 'to be or not to', 'wherefore art thou']


def main(argv=None):
    # The flags' defaults are the hyperparameter block above
    args = training.parse_args(__doc__, globals(), argv, word_level=False)
    training.enable_ctrl_c()
    # TensorFlow and the model, once the flags are read: --help answers at once
    tf = training.import_tensorflow(args.verbose)
    tf1 = tf.compat.v1
    from lstm_model import LSTM_Model
    # --resume: the run's folder and settings; otherwise a new run folder
    run_dir, resumed = training.prepare_run(args, RECIPE)
    args.seed = training.seed_everything(args.seed)
    print('Run folder: {}'.format(run_dir))

    # Load the Shakespeare data
    print('Loading Shakespeare Data')
    s_text, source = shakespeare_data.load_shakespeare(
        training.TEMP_DIR, args.corpus, args.offline)
    print('Text source: {}'.format(shakespeare_data.describe_source(source)))

    # Clean text
    print('Cleaning Text')
    s_text = shakespeare_data.clean_text(s_text)

    # Split up by characters
    char_list = list(s_text)

    # Build Shakespeare vocabulary
    print('Building Shakespeare Vocab by Characters')
    ix2vocab, vocab2ix = shakespeare_data.build_char_vocab(char_list)
    vocab_size = len(ix2vocab)
    print('Vocabulary Length = {}'.format(vocab_size))
    if resumed:
        resumed.check_data(source, vocab2ix)
    training.check_prime_texts(prime_texts, vocab2ix, char_level=True)

    # Convert text to character indices
    s_text_ix = shakespeare_data.text_to_indices(char_list, vocab2ix)
    del char_list, s_text  # millions of entries, not needed again (40 MB at the peak)

    # Define the LSTM model and, sharing its weights, the sampling model
    training.check_model_fits(args.rnn_size, args.rnn_size, args.num_layers,
                              args.separate_layers, vocab_size, args.batch_size, args.seq_len)
    tf1.disable_eager_execution()
    tf1.reset_default_graph()
    tf1.set_random_seed(args.seed)
    with tf1.variable_scope('lstm_model') as scope:
        lstm_model = LSTM_Model(args.rnn_size, args.num_layers, args.batch_size,
                                args.learning_rate, args.seq_len, vocab_size,
                                separate_layers=args.separate_layers,
                                cell_impl=args.cell_impl,
                                softmax_blocks=args.softmax_blocks)
        scope.reuse_variables()
        test_lstm_model = LSTM_Model(args.rnn_size, args.num_layers, args.batch_size,
                                     args.learning_rate, args.seq_len, vocab_size,
                                     infer_sample=True,
                                     separate_layers=args.separate_layers)
    num_parameters = training.count_parameters(tf1.trainable_variables())
    print('Trainable parameters = {:,}'.format(num_parameters))

    # Create model saver
    saver = tf1.train.Saver(tf1.global_variables(), max_to_keep=5)

    # Create batches for each epoch (inputs and their targets)
    batches = shakespeare_data.make_batches(
        s_text_ix, args.batch_size, args.seq_len, exact=args.exact_batches)
    num_batches = len(batches)

    config = training.run_config(
        args, recipe=RECIPE, level='char', embedding_size=args.rnn_size,
        vocab_size=vocab_size, num_batches=num_batches, prime_texts=prime_texts,
        trainable_parameters=num_parameters, corpus=source)
    training.print_config(config)

    # Initialize all variables (--resume: restore them, and where the run stood)
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    run = training.TrainingRun(run_dir, config, sess, saver, vocab2ix, ix2vocab, num_batches)
    if resumed:
        run.resume(resumed, lstm_model.initial_state)
    # The run folder: its lock, settings and vocabulary (the book's vocab.pkl too)
    run.begin(overwrite=args.overwrite)

    # Train model (Ctrl-C stops after the current iteration and saves it)
    run.start()
    max_steps = args.max_steps or float('inf')
    train_loss = run.train_loss  # a resumed run's earlier losses included
    iteration_count = run.iteration + 1
    order = run.order  # the batches' order in this epoch
    for epoch in range(run.epoch, args.epochs):
        if iteration_count > max_steps or run.stopping:
            break
        first_batch = run.batch  # 0, unless resuming inside this epoch
        if first_batch == 0:
            # Shuffle the batches (their targets travel with them). Shuffling
            # their order in place draws the same permutation as the book's
            # random.shuffle(batches), and can be saved for --resume.
            random.shuffle(order)
            print('Starting Epoch #{} of {}.'.format(epoch + 1, args.epochs))
            # Reset initial LSTM state every epoch
            state = sess.run(lstm_model.initial_state)
        else:
            state = run.resumed_state(sess.run(lstm_model.initial_state))
        for ix in range(first_batch, num_batches):
            if iteration_count > max_steps or run.stopping:
                break
            batch, target = batches[order[ix]]
            training_dict = {lstm_model.x_data: batch, lstm_model.y_output: target}
            # We need to update initial state for each RNN cell:
            for i, (c, h) in enumerate(lstm_model.initial_state):
                training_dict[c] = state[i].c
                training_dict[h] = state[i].h

            temp_loss, state, _ = sess.run(
                [lstm_model.cost, lstm_model.final_state, lstm_model.train_op],
                feed_dict=training_dict)
            train_loss.append(temp_loss)
            run.log_step(iteration_count, epoch, ix, temp_loss, state)
            if run.diverged:
                break

            # Print status every 10 iterations ('out of' is one more than the
            # number of batches, as printed in the book)
            if iteration_count % 10 == 0:
                summary_nums = (iteration_count, epoch + 1, ix + 1, num_batches + 1, temp_loss)
                print('Iteration: {}, Epoch: {}, Batch: {} out of {}, Loss: {:.2f}'.format(
                    *summary_nums))

            # Save the model (the vocabulary was saved as the run began)
            if iteration_count % args.save_every == 0:
                run.save(iteration_count)  # with what --resume needs, and the record

            if iteration_count % args.eval_every == 0:
                for sample in prime_texts:
                    text = test_lstm_model.sample(sess, ix2vocab, vocab2ix, num=10,
                                                  prime_text=sample, char_level=True)
                    print(text)
                    run.log_sample(iteration_count, sample, text)
            iteration_count += 1

    # Save the last weights too (unless just saved) and the run's record
    exit_status = run.finish(__file__)

    # Plot loss over time
    training.plot_loss(train_loss, run_dir, show=exit_status == 0)
    return exit_status


if __name__ == '__main__':
    sys.exit(training.exit_status_of(main))
