"""Classify your own text messages with a saved run of recipe 02 (the RNN spam classifier).

For each message, the probability that it is spam and the verdict, spam or
ham, as the recipe's model gives them. The model is rebuilt from the run
folder (config.json and its newest complete checkpoint) and reads at keep
probability 1.0, as the recipe's test does:

    python tools/classify_messages.py temp/02_implementing_rnn/run-...
    python tools/classify_messages.py DIR --messages 'WIN a prize now' 'see you at 6'
    python tools/classify_messages.py DIR --messages-file mine.txt

Without messages it takes the five new texts the author's later notebook
classified. A file holds one message a line (blank lines skipped, UTF-8).

Each message is read as the recipe read its training messages: cleaned
(punctuation, digits and underscores dropped, lower case: clean_text), split
into words by the vocabulary processor's tokenizer, each word its index in the
run's vocabulary (0, '<UNK>', for a word the run did not keep), cut or padded
to the run's max_sequence_length words. Each line names the words the
vocabulary did not know among those read (each once, in their order) and the
words after max_sequence_length, which the model never reads.

The spam probability is the softmax of the model's two logits, class 0 (spam;
ham is 1). A run of the printed code (single_softmax false) ends in that very
softmax, its output; a run with --single-softmax outputs the logits, and the
softmax is taken here. Which it is, is said first, on stderr.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import checkpoints
from cookbook_lstm import command_line
from cookbook_lstm import errors
from cookbook_lstm import resuming
from cookbook_lstm.safe_files import read_lines
from cookbook_lstm.spam_data import clean_text
from cookbook_lstm.tf1_setup import import_tensorflow
from cookbook_lstm.vocabulary_processor import (CategoricalVocabulary, UNKNOWN_TOKEN,
                                                VocabularyProcessor, tokenizer)

RECIPE = '02_implementing_rnn'
MESSAGE_FILE_LIMIT = 16 * 2 ** 20  # a file of messages: 16 MiB
MAX_MESSAGES = 100000  # a command's messages
BATCH = 1000  # messages the model reads at once
SHOWN_WORDS = 12  # unknown or cut words named on a line, at most
SHOWN_CHARACTERS = 60  # of a message, on its line

# The new texts the author's later notebook classified after training
BOOK_MESSAGES = [
    'Hi, please respond asap to claim your change to win now',
    'Hey what are you doing for dinner tonight?',
    'New offer, show this text for 50% off of our inagural sale!',
    'Can you take the dog to the vet tomorrow?',
    'Congratulations! You have been randomly selected to receive account credit!',
]
CATEGORIES = ['spam', 'ham']  # the recipe's targets: ham is 1, spam 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run', metavar='RUN_DIR',
                        help='a run folder of recipe 02 (its newest complete checkpoint is '
                             'used), or a checkpoint in one, such as DIR/model-36')
    parser.add_argument('--messages', metavar='MESSAGE', nargs='+',
                        help="text messages to classify (default: the notebook's five)")
    parser.add_argument('--messages-file', metavar='FILE',
                        help='a file of text messages to classify, one a line')
    parser.add_argument('--verbose', action='store_true',
                        help="show TensorFlow's own start-up notices and warnings")
    args = parser.parse_args(argv)
    if args.messages is not None and args.messages_file is not None:
        parser.error('give --messages or --messages-file, not both')
    return args


def read_messages(path):
    """The messages of a file, one a line, blank lines skipped; RunError if unusable."""
    return read_lines(path, MESSAGE_FILE_LIMIT, 'messages')


def shown(message):
    """A message as its line shows it: quoted, cut to SHOWN_CHARACTERS."""
    message = ' '.join(message.split())
    if len(message) > SHOWN_CHARACTERS:
        message = message[:SHOWN_CHARACTERS - 3] + '...'
    return repr(message)


def check_messages(messages):
    """The messages, cleaned as the recipe cleans; RunError for an empty one."""
    if len(messages) > MAX_MESSAGES:
        raise errors.RunError('{:,} messages: at most {:,} a command; split them.'.format(
            len(messages), MAX_MESSAGES))
    cleaned = []
    for number, message in enumerate(messages, 1):
        if not message.strip():
            raise errors.RunError('message {} is empty: give each message some words.'.format(
                number))
        text = clean_text(message)
        if not text:
            raise errors.RunError(
                'message {} ({}) has no words once cleaned as the recipe cleans (it drops '
                'punctuation and digits): give each message some words.'.format(
                    number, shown(message)))
        cleaned.append(text)
    return cleaned


def word_list(words):
    """Words named on a line: at most SHOWN_WORDS, each cut to 30 characters."""
    named = ' '.join(w if len(w) <= 30 else w[:27] + '...' for w in words[:SHOWN_WORDS])
    return named + (' (and {} more)'.format(len(words) - SHOWN_WORDS)
                    if len(words) > SHOWN_WORDS else '')


def describe(message, probability, reading, length):
    """A message's line: its verdict, spam probability, unknown and cut words."""
    verdict = CATEGORIES[0] if probability[0] >= probability[1] else CATEGORIES[1]
    line = '{:4} {:.3f}  {}'.format(verdict, probability[0], shown(message))
    notes = []
    if reading.unknown:
        notes.append('unknown: {}'.format(word_list(reading.unknown)))
    if reading.cut:
        notes.append('cut after {} words: {}'.format(length, word_list(reading.cut)))
    return line + ('  ({})'.format('; '.join(notes)) if notes else '')


def main(argv=None):
    args = parse_args(argv)
    run_dir, checkpoint, config, vocab2ix, _, note = resuming.load_run(args.run)
    if config['recipe'] != RECIPE:
        raise errors.RunError('{} is a run of recipe {}, not of {}: classify with a run of '
                              'recipes/{}.py.'.format(run_dir, config['recipe'], RECIPE,
                                                      RECIPE))
    if note:
        print('Note: {}.'.format(note), file=sys.stderr)
    messages = args.messages or (read_messages(args.messages_file) if args.messages_file
                                 else BOOK_MESSAGES)
    cleaned = check_messages(messages)

    classify = Classifier(checkpoint, config, vocab2ix, args.verbose)
    print('Classifying with {}. {}'.format(checkpoint, classify.output_is), file=sys.stderr)
    print('The spam probability is class 0 of the softmax of the logits; each line: '
          'verdict, spam probability, message.', file=sys.stderr)
    for start in range(0, len(cleaned), BATCH):
        readings = classify.read(cleaned[start:start + BATCH])
        probabilities = classify.probabilities(readings)
        for message, probability, reading in zip(messages[start:start + BATCH],
                                                 probabilities, readings):
            print(describe(message, probability, reading, classify.length))
    return 0


class Reading:
    """How the model reads a cleaned message: its ids (cut or padded), the words
    the vocabulary did not know among those read, and the words cut."""

    def __init__(self, ids, unknown, cut):
        self.ids, self.unknown, self.cut = ids, unknown, cut


class Classifier:
    """Recipe 02's graph for a run, at keep probability 1.0, its weights restored.

    read(cleaned messages) gives each message's Reading (VocabularyProcessor's
    transform with the run's vocabulary); logits(readings) the logits, [n, 2]
    (spam, ham); probabilities(readings) their softmax; outputs(readings) the model's own
    output, the recipe's logits_out: that softmax for a run of the printed
    code, the logits for a run with single_softmax.
    """

    def __init__(self, checkpoint, config, vocab2ix, verbose=False):
        self.length = config['max_sequence_length']
        self.single_softmax = config['single_softmax']
        self.output_is = (
            "The run's model outputs its two logits (single_softmax true); their softmax is "
            "taken here." if self.single_softmax else
            "The run's model ends in the printed code's extra softmax (single_softmax "
            "false): its output is the softmax of its logits, printed as it is.")
        self.processor = VocabularyProcessor(self.length,
                                             vocabulary=self.vocabulary(vocab2ix, checkpoint))
        tf = import_tensorflow(verbose)
        tf1 = tf.compat.v1
        tf1.disable_eager_execution()
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(0)  # the initializers' (the weights are restored)
            # The recipe's graph, in its order, so that the variables have its names
            # (Variable, rnn/basic_rnn_cell/kernel and bias, Variable_1, Variable_2)
            self.x_data = tf1.placeholder(tf.int32, [None, self.length])
            embedding_mat = tf1.Variable(tf1.random_uniform(
                [config['vocab_size'], config['embedding_size']], -1.0, 1.0))
            embedding_output = tf.nn.embedding_lookup(embedding_mat, self.x_data)
            cell = tf1.nn.rnn_cell.BasicRNNCell(num_units=config['rnn_size'])
            output, _ = tf1.nn.dynamic_rnn(cell, embedding_output, dtype=tf.float32)
            # (the recipe's dropout, at keep probability 1.0, keeps every output as it is)
            output = tf.transpose(output, [1, 0, 2])
            last = tf.gather(output, int(output.get_shape()[0]) - 1)
            weight = tf1.Variable(tf1.truncated_normal([config['rnn_size'], 2], stddev=0.1))
            bias = tf1.Variable(tf.constant(0.1, shape=[2]))
            self._logits = tf.matmul(last, weight) + bias
            self._probabilities = tf.nn.softmax(self._logits)
            # The printed code's softmax: the model's output is then the probabilities
            self._output = self._logits if self.single_softmax else self._probabilities
            self.sess = tf1.Session(graph=graph)
            checkpoints.restore(self.sess, tf1.train.Saver(tf1.global_variables()),
                                checkpoint, config)

    @staticmethod
    def vocabulary(vocab2ix, checkpoint):
        """The run's vocabulary as the processor's: tokens given their ids in order."""
        if sorted(vocab2ix.values()) != list(range(len(vocab2ix))) \
                or vocab2ix.get(UNKNOWN_TOKEN) != 0:
            raise errors.RunError('{}: the run\'s vocabulary does not number its words 0, 1, '
                                  '2... from {!r}, as the recipe writes it. The folder is '
                                  'damaged; use a run folder the recipe wrote.'.format(
                                      Path(checkpoint).parent, UNKNOWN_TOKEN))
        vocabulary = CategoricalVocabulary()
        for token in sorted(vocab2ix, key=vocab2ix.get)[1:]:
            vocabulary.get(token)  # the next id, as the recipe's fit gave them
        vocabulary.freeze()
        return vocabulary

    def read(self, cleaned):
        import numpy as np
        ids = np.array(list(self.processor.transform(cleaned))).reshape(-1, self.length)
        readings = []
        for row, words in zip(ids, tokenizer(cleaned)):
            unknown = []
            for word in words[:self.length]:
                if self.processor.vocabulary_.get(word) == 0 and word not in unknown:
                    unknown.append(word)
            readings.append(Reading(row, unknown, words[self.length:]))
        return readings

    def _run(self, tensor, readings):
        import numpy as np
        return self.sess.run(tensor, {self.x_data: np.array([r.ids for r in readings])})

    def logits(self, readings):
        return self._run(self._logits, readings)

    def probabilities(self, readings):
        return self._run(self._probabilities, readings)

    def outputs(self, readings):
        return self._run(self._output, readings)


if __name__ == '__main__':
    sys.exit(command_line.exit_status_of(main, stopped='Stopped by Ctrl-C.'))
