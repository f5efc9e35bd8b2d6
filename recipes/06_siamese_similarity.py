"""Training a Siamese similarity measure (TF Machine Learning Cookbook, 2nd ed., ch. 9, recipe 06).

Two addresses go through one bidirectional LSTM (the same weights for both);
the cosine of the two outputs says how alike they are. The recipe makes its
own data, addresses with one typo each, half of the pairs mismatched, so it
needs no download. Every 10 batches it prints the batch's loss and accuracy;
at the end the matches it finds for four queries among five references, and
a figure of the loss and accuracy.

    python recipes/06_siamese_similarity.py              # the book's run
    python recipes/06_siamese_similarity.py --corrected  # targets the loss was written for
    python recipes/06_siamese_similarity.py --tiny --out temp/smoke
    python tools/match_addresses.py temp/smoke --queries '12 elm st'   # match your own

Where this differs from the printed code, and why: docs/errata.md (recipe 06).
"""
import random
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm.command_line import exit_status_of
from cookbook_lstm.memory import check_pairs_fit
from cookbook_lstm.run import pyplot
from cookbook_lstm.training_run import TrainingRun

RECIPE = '06_siamese_similarity'
OPTIONS = ('out', 'overwrite', 'resume', 'verbose', 'tiny')  # no text to choose: it makes its own


# Model parameters: the book's values. Each is a flag of --help
# (batch_size: --batch-size); the run folder's config.json holds them as run
@dataclass(frozen=True)
class Config:
    batch_size: int = 200            # address pairs a batch, half similar
    n_batches: int = 300             # batches trained
    max_address_len: int = 20        # characters an address, cut or padded (steps unrolled)
    margin: float = 0.25             # dissimilar pairs scoring below this cost nothing
    num_features: int = 50           # LSTM units each way
    dropout_keep_prob: float = 0.8   # keep probability while training (1.0 when matching)
    learning_rate: float = 0.01      # Adam step size
    # Its correction (docs/errata.md)
    corrected: bool = False          # targets 1 and 0, as the loss is written; an accuracy to match
    # Beyond the book: the run kit
    save_every: int = 50             # batches between checkpoints (the book saves none)
    max_steps: int = 0               # stop after this many batches (0: no limit)
    seed: int = None                 # None: drawn at random, and recorded


# The tiny configuration (--tiny): the same code at a size that trains in
# seconds (the graph unrolls 8 characters, not 20): a first look, and the tests
TINY = Config(batch_size=8, n_batches=20, max_address_len=8, num_features=4,
              save_every=10)


# Function to randomly create one typo in a string w/ a probability
def create_typo(s):
    """s with one character, chosen at random, replaced by a random lowercase
    letter or digit (which may be the character it replaces, as in the book)."""
    rand_ind = random.choice(range(len(s)))
    s_list = list(s)
    s_list[rand_ind] = random.choice(string.ascii_lowercase + '0123456789')
    s = ''.join(s_list)
    return s


# Generate data
street_names = ['abbey', 'baker', 'canal', 'donner', 'elm', 'fifth',
                'grandvia', 'hollywood', 'interstate', 'jay', 'kings']
street_types = ['rd', 'st', 'ln', 'pass', 'ave', 'hwy', 'cir', 'dr', 'jct']

# Define test addresses
test_queries = ['111 abbey ln', '271 doner cicle',
                '314 king avenue', 'tensorflow is fun']
test_references = ['123 abbey ln', '217 donner cir', '314 kings ave',
                   '404 hollywood st', 'tensorflow is so fun']


# Get a batch of size n, half of which is similar addresses, half are not
def get_batch(n, dissimilar=-1):
    """n pairs [[address, address with a typo], target]: the first n // 2 an
    address and its typo (target 1), the others an address and the typo of
    another (target `dissimilar`: the book's -1; 0 with --corrected).

    The book's targets, [1] * (n - n // 2) + [-1] * (n // 2), miscount the
    halves by one for an odd n: the recipe takes even batch sizes only.
    """
    # Generate a list of reference addresses with similar addresses that have
    # a typo.
    numbers = [random.randint(1, 9999) for i in range(n)]
    streets = [random.choice(street_names) for i in range(n)]
    street_suffs = [random.choice(street_types) for i in range(n)]
    full_streets = [str(w) + ' ' + x + ' ' + y for w, x, y in zip(numbers, streets, street_suffs)]
    typo_streets = [create_typo(x) for x in full_streets]
    reference = [list(x) for x in zip(full_streets, typo_streets)]

    # Shuffle last half of them for training on dissimilar addresses
    half_ix = int(n / 2)
    bottom_half = reference[half_ix:]
    true_address = [x[0] for x in bottom_half]
    typo_address = [x[1] for x in bottom_half]
    typo_address = list(np.roll(typo_address, 1))
    bottom_half = [[x, y] for x, y in zip(true_address, typo_address)]
    reference[half_ix:] = bottom_half

    # Get target similarities (1's for similar, -1's for non-similar)
    target = [1] * (n - half_ix) + [dissimilar] * half_ix
    reference = [[x, y] for x, y in zip(reference, target)]
    return reference


# Define vocabulary dictionary (remember to save '0' for padding)
vocab_chars = string.ascii_lowercase + '0123456789 '
vocab2ix_dict = {char: (ix + 1) for ix, char in enumerate(vocab_chars)}
vocab_length = len(vocab_chars) + 1


# Define vocab one-hot encoding
def address2onehot(address, vocab2ix_dict=vocab2ix_dict, max_address_len=20):
    """The address's character ids, cut or padded with 0 to max_address_len.
    (The book names it one-hot; the graph makes the one-hot vectors.)"""
    # translate address string into indices
    address_ix = [vocab2ix_dict[x] for x in list(address)]

    # Pad or crop to max_address_len
    address_ix = (address_ix + [0] * max_address_len)[0:max_address_len]
    return address_ix


def main(argv=None):
    # The settings (--resume: the run's own) and the run that trains with them
    config, run = TrainingRun.open(RECIPE, Config, TINY, __doc__, argv, options=OPTIONS)
    # TensorFlow's TF1 API and the book's model file, once the flags are read
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import siamese_similarity_model as model
    from cookbook_lstm.model_parts import dropout_step, tf1
    max_address_len = config.max_address_len
    check_pairs_fit(config.batch_size, max_address_len, config.num_features)
    dissimilar = 0 if config.corrected else -1
    run.check_data({'source': 'addresses generated by the recipe'}, vocab2ix_dict,
                   {ix: char for char, ix in vocab2ix_dict.items()}, char_level=True)

    tf1.reset_default_graph()
    tf1.set_random_seed(config.seed)

    # Define placeholders
    address1_ph = tf1.placeholder(tf1.int32, [None, max_address_len], name="address1_ph")
    address2_ph = tf1.placeholder(tf1.int32, [None, max_address_len], name="address2_ph")

    y_target_ph = tf1.placeholder(tf1.int32, [None], name="y_target_ph")
    dropout_keep_prob_ph = tf1.placeholder(tf1.float32, name="dropout_keep_prob")

    # Create embedding lookup
    identity_mat = tf1.diag(tf1.ones(shape=[vocab_length]))
    address1_embed = tf1.nn.embedding_lookup(identity_mat, address1_ph)
    address2_embed = tf1.nn.embedding_lookup(identity_mat, address2_ph)

    # Define Model
    text_snn = model.snn(address1_embed, address2_embed, dropout_keep_prob_ph,
                         vocab_length, config.num_features, max_address_len)
    # Each batch's dropout masks come from the seed and the batch number, fed
    # with the batch, so that a resumed run drops what this one would (errata)
    dropout_step_ph = dropout_step()

    # Define Accuracy (--corrected: of targets 1 and 0, a pair similar above the margin)
    if config.corrected:
        batch_accuracy = model.corrected_accuracy(text_snn, y_target_ph, config.margin)
    else:
        batch_accuracy = model.accuracy(text_snn, y_target_ph)
    # Define Loss
    batch_loss = model.loss(text_snn, y_target_ph, config.margin)
    # Define Predictions
    predictions = model.get_predictions(text_snn)  # noqa: F841 (the book's; unused there too)

    # Declare optimizer
    optimizer = tf1.train.AdamOptimizer(config.learning_rate)
    # Apply gradients
    train_op = optimizer.minimize(batch_loss)

    # Initialize Variables (--resume: restore them, and where the run stood)
    sess = tf1.Session()
    saver = tf1.train.Saver(tf1.global_variables(), max_to_keep=5)
    sess.run(tf1.global_variables_initializer())
    run.begin(sess, saver, None, config.n_batches, None, shape={
        'vocab_size': vocab_length, 'max_address_len': max_address_len,
        'num_features': config.num_features}, order_length=0)  # each batch new: no order

    # Train loop. run.batches() is the book's range(n_batches): it goes on from
    # where a resumed run stood, and ends early at --max-steps or on Ctrl-C
    train_loss_vec = run.train_loss  # a resumed run's earlier ones included
    train_acc_vec = run.train_accuracy
    for b in run.batches():
        # Get a batch of data
        batch_data = get_batch(config.batch_size, dissimilar)
        # Shuffle data
        np.random.shuffle(batch_data)
        # Parse addresses and targets
        input_addresses = [x[0] for x in batch_data]
        target_similarity = np.array([x[1] for x in batch_data])
        address1 = np.array([address2onehot(x[0], max_address_len=max_address_len)
                             for x in input_addresses])
        address2 = np.array([address2onehot(x[1], max_address_len=max_address_len)
                             for x in input_addresses])

        train_feed_dict = {address1_ph: address1,
                           address2_ph: address2,
                           y_target_ph: target_similarity,
                           dropout_keep_prob_ph: config.dropout_keep_prob,
                           dropout_step_ph: b}

        _, train_loss, train_acc = sess.run([train_op, batch_loss, batch_accuracy],
                                            feed_dict=train_feed_dict)
        # Save train loss and accuracy
        train_loss_vec.append(train_loss)
        train_acc_vec.append(train_acc)
        run.log_step(train_loss, None, accuracy=train_acc)  # the record
        # Print out statistics
        if b % 10 == 0:
            print('Training Metrics, Batch {0}: Loss={1:.3f}, Accuracy={2:.3f}.'.format(
                b, train_loss, train_acc))
        # Save the model (the book saves none): the batches trained so far
        if (b + 1) % config.save_every == 0:
            run.save(b + 1)

    # Calculate the nearest addresses for test inputs (unless Ctrl-C stopped the run)
    if not run.stopping:
        # First process the test_queries and test_references
        test_queries_ix = np.array([address2onehot(x, max_address_len=max_address_len)
                                    for x in test_queries])
        test_references_ix = np.array([address2onehot(x, max_address_len=max_address_len)
                                       for x in test_references])
        num_refs = test_references_ix.shape[0]
        best_fit_refs = []
        for query in test_queries_ix:
            test_query = np.repeat(np.array([query]), num_refs, axis=0)
            test_feed_dict = {address1_ph: test_query,  # (the book also feeds the last
                              address2_ph: test_references_ix,  # batch's targets: unused)
                              dropout_keep_prob_ph: 1.0}
            test_out = sess.run(text_snn, feed_dict=test_feed_dict)
            best_fit = test_references[np.argmax(test_out)]
            best_fit_refs.append(best_fit)
        for query, best_fit in zip(test_queries, best_fit_refs):
            run.log_sample(run.iteration, query, best_fit)  # the record's matches

        print('Query Addresses: {}'.format(test_queries))
        print('Model Found Matches: {}'.format(best_fit_refs))

    # Save the last weights too (unless just saved), and the run's record
    exit_status = run.finish()

    # Plot the loss and accuracy (saved in the run folder too)
    plt = pyplot()
    plt.plot(train_loss_vec, 'k-', lw=2, label='Batch Loss')
    plt.plot(train_acc_vec, 'r:', label='Batch Accuracy')
    plt.xlabel('Iterations')
    plt.ylabel('Accuracy and Loss')
    plt.title('Accuracy and Loss of Siamese RNN')
    plt.grid()
    plt.legend(loc='lower right')
    run.save_figure(plt.gcf(), what='Loss and accuracy', show=exit_status == 0)  # loss.png
    return exit_status


if __name__ == '__main__':
    sys.exit(exit_status_of(main))
