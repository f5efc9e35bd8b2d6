"""Match addresses with a saved run of recipe 06 (the Siamese similarity measure).

For each query, the reference the model scores as most alike, as the recipe
does at its end for the book's four queries among its five references. The
model is rebuilt from the run folder (config.json and its newest complete
checkpoint) and compares at keep probability 1.0, as the book's matching:

    python tools/match_addresses.py temp/06_siamese_similarity/run-...
    python tools/match_addresses.py DIR --queries '12 elm st' '9 bakr rd' \\
        --references '12 elm st' '9 baker rd' '40 canal ave'
    python tools/match_addresses.py DIR --queries-file mine.txt --references-file book.txt

Without queries or references it takes the book's. A file holds one address a
line (blank lines skipped, UTF-8). Addresses are read in lower case; the model
knows the letters a-z, the digits and the space only, and reads the first
max_address_len characters (the run's, 20 in the book): anything longer is cut,
and a note says so. Prints each query, its match and the score (the cosine
similarity, from -1 to 1), then the book's two lines.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import checkpoints
from cookbook_lstm import command_line
from cookbook_lstm import errors
from cookbook_lstm import resuming
from cookbook_lstm import settings
from cookbook_lstm.safe_files import read_lines
from cookbook_lstm.tf1_setup import import_tensorflow

RECIPE = '06_siamese_similarity'
ADDRESS_FILE_LIMIT = 16 * 2 ** 20  # a file of addresses: 16 MiB, about half a million
MAX_ADDRESSES = 100000  # queries or references: each query is scored against every reference


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run', metavar='RUN_DIR',
                        help='a run folder of recipe 06 (its newest complete checkpoint is '
                             'used), or a checkpoint in one, such as DIR/model-300')
    parser.add_argument('--queries', metavar='ADDRESS', nargs='+',
                        help="addresses to match (default: the book's four)")
    parser.add_argument('--queries-file', metavar='FILE',
                        help='a file of addresses to match, one a line')
    parser.add_argument('--references', metavar='ADDRESS', nargs='+',
                        help="addresses to match them with (default: the book's five)")
    parser.add_argument('--references-file', metavar='FILE',
                        help='a file of addresses to match them with, one a line')
    parser.add_argument('--verbose', action='store_true',
                        help="show TensorFlow's own start-up notices and warnings")
    args = parser.parse_args(argv)
    for kind in ('queries', 'references'):
        if getattr(args, kind) is not None and getattr(args, kind + '_file') is not None:
            parser.error('give --{0} or --{0}-file, not both'.format(kind))
    return args


BOOK_LINES_UP_TO = 100  # queries: up to this many, the book's two lines follow
SHOWN_CHARACTERS = 60  # an address as printed, at most


def shown(address):
    """An address as printed: quoted, cut to SHOWN_CHARACTERS."""
    if len(address) > SHOWN_CHARACTERS:
        address = address[:SHOWN_CHARACTERS - 3] + '...'
    return repr(address)


def read_addresses(path, what):
    """The addresses of a file (what: 'queries', 'references'), one a line, blank
    lines skipped; RunError if unusable."""
    return read_lines(path, ADDRESS_FILE_LIMIT, what)


def check_addresses(addresses, what, vocab2ix):
    """The addresses in lower case; RunError naming any the model cannot read."""
    if len(addresses) > MAX_ADDRESSES:
        raise errors.RunError('{:,} {}: at most {:,} a command; split them.'.format(
            len(addresses), what, MAX_ADDRESSES))
    checked = []
    for address in addresses:
        lowered = address.strip().lower()
        if not lowered:
            raise errors.RunError('an empty address among the {}: give each some '
                                  'characters.'.format(what))
        unknown = sorted({c for c in lowered if c not in vocab2ix})
        if unknown:
            raise errors.RunError(
                '{!r} (of the {}) has characters the model never saw: {}. It knows a-z, '
                '0-9 and the space only; write the address with those (drop the '
                'punctuation).'.format(address[:100], what,
                                       ' '.join(repr(c) for c in unknown[:10])))
        checked.append(lowered)
    return checked


def main(argv=None):
    args = parse_args(argv)
    run_dir, checkpoint, config, vocab2ix, _, note = resuming.load_run(args.run)
    if config['recipe'] != RECIPE:
        raise errors.RunError('{} is a run of recipe {}, not of {}: match with a run of '
                              'recipes/{}.py.'.format(run_dir, config['recipe'], RECIPE, RECIPE))
    if note:
        print('Note: {}.'.format(note), file=sys.stderr)
    recipe = settings.recipe_module(RECIPE)
    queries = args.queries or (read_addresses(args.queries_file, 'queries')
                               if args.queries_file else recipe.test_queries)
    references = args.references or (read_addresses(args.references_file, 'references')
                                     if args.references_file else recipe.test_references)
    queries = check_addresses(queries, 'queries', vocab2ix)
    references = check_addresses(references, 'references', vocab2ix)
    length = config['max_address_len']
    cut = [a for a in queries + references if len(a) > length]
    if cut:
        print('Note: the model reads the first {} characters of an address; {} longer, '
              'and cut ({} is read as {!r}).'.format(
                  length, 'one address is' if len(cut) == 1 else
                  '{:,} addresses are'.format(len(cut)), shown(cut[0]), cut[0][:length]),
              file=sys.stderr)

    score = Matcher(checkpoint, config, vocab2ix, args.verbose)
    print('Matching with {}'.format(checkpoint), file=sys.stderr)
    matches = []
    for query in queries:
        scores = score([(query, reference) for reference in references])
        best = max(range(len(references)), key=lambda i: scores[i])  # the first of a tie
        matches.append(references[best])
        print('{} -> {} (score {:.3f})'.format(shown(query), shown(references[best]),
                                               scores[best]))
    if len(queries) <= BOOK_LINES_UP_TO:
        print('Query Addresses: {}'.format([shown(q)[1:-1] for q in queries]))
        print('Model Found Matches: {}'.format([shown(m)[1:-1] for m in matches]))
    return 0


class Matcher:
    """The book's graph of a recipe 06 run at keep probability 1.0, its weights
    restored: called with [(address, address), ...], the pairs' cosine scores.
    Addresses are checked first (check_addresses)."""

    def __init__(self, checkpoint, config, vocab2ix, verbose=False):
        tf = import_tensorflow(verbose)
        tf1 = tf.compat.v1
        tf1.disable_eager_execution()
        sys.path.insert(0, str(settings.PROJECT_DIR / 'recipes'))
        import siamese_similarity_model as model
        self.recipe = settings.recipe_module(RECIPE)
        self.vocab2ix, self.length = vocab2ix, config['max_address_len']
        graph = tf1.Graph()
        with graph.as_default():
            tf1.set_random_seed(0)  # the initializers' (the weights are restored)
            self.address1 = tf1.placeholder(tf.int32, [None, self.length], name='address1_ph')
            self.address2 = tf1.placeholder(tf.int32, [None, self.length], name='address2_ph')
            identity_mat = tf1.diag(tf.ones(shape=[config['vocab_size']]))
            self.scores = model.snn(tf.nn.embedding_lookup(identity_mat, self.address1),
                                    tf.nn.embedding_lookup(identity_mat, self.address2), 1.0,
                                    config['vocab_size'], config['num_features'], self.length)
            self.sess = tf1.Session(graph=graph)
            checkpoints.restore(self.sess, tf1.train.Saver(tf1.global_variables()),
                                checkpoint, config)

    def __call__(self, pairs):
        import numpy as np

        def ids(addresses):
            return np.array([self.recipe.address2onehot(a, self.vocab2ix, self.length)
                             for a in addresses]).reshape(-1, self.length)
        return self.sess.run(self.scores, {self.address1: ids([a for a, _ in pairs]),
                                           self.address2: ids([b for _, b in pairs])})


if __name__ == '__main__':
    sys.exit(command_line.exit_status_of(main, stopped='Stopped by Ctrl-C.'))
