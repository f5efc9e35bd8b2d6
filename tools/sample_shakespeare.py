"""Generate text from a saved run of either recipe.

The model is rebuilt from what the run folder holds (config.json, vocab.json
and the newest complete checkpoint), so nothing else needs to be given:

    python tools/sample_shakespeare.py --checkpoint temp/03_implementing_lstm/run-...
    python tools/sample_shakespeare.py --checkpoint DIR --prime 'Thou art' --num 30 \\
        --strategy weighted --temperature 0.8 --seed 1

Strategies: greedy is the book's sampler (the most probable token each time,
stopping at index 0, 'unknown'); weighted draws each token from the softmax,
as the book's "There's more" section proposes; topk draws among the --top-k
most probable only, whatever the temperature. --temperature divides the
logits before a draw: below 1 the text is more predictable, above 1 more
random.

The tokens are generated inside the graph, 100 a session call, each call
going on from the last one's state, and printed as they come: the book's
loop function feeds each step's choice back as the next input. Memory stays
flat at any --num, and Ctrl-C stops at once. --python-loop uses the book's
own sampler instead, one call per token (greedy only).
"""
import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import checkpoints
from cookbook_lstm import command_line
from cookbook_lstm import errors
from cookbook_lstm import resuming
from cookbook_lstm import settings
from cookbook_lstm import shakespeare_data
from cookbook_lstm.record import read_record
from cookbook_lstm.tf1_setup import import_tensorflow

BOOK_PRIME_TEXTS = ['thou art more', 'to be or not to', 'wherefore art thou']
STRATEGIES = ('greedy', 'weighted', 'topk')  # as sampling.STRATEGIES (tested)
CHUNK = 100  # tokens generated per session call: memory stays flat at any --num
RETRIES = 3  # times a checkpoint removed while being read is replaced by the newest


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--checkpoint', metavar='DIR', required=True,
                        help='a run folder (its latest checkpoint is used) or a '
                             'checkpoint in one, such as DIR/model-500')
    parser.add_argument('--prime', metavar='TEXT', action='append',
                        help='text to continue; repeat for more (default: the '
                             "book's three)")
    parser.add_argument('--num', type=settings.Whole(1).parse, default=10,
                        help='tokens to generate after each prime text (default %(default)s)')
    parser.add_argument('--strategy', choices=STRATEGIES, default='greedy',
                        help='how each token is chosen (default %(default)s)')
    parser.add_argument('--temperature', type=settings.POSITIVE.parse, default=None,
                        help='with --strategy weighted or topk: divides the logits before a '
                             'draw (default 1.0)')
    parser.add_argument('--top-k', type=settings.Whole(1).parse, default=None,
                        help='with --strategy topk: draw among this many (default 10)')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed the draws, so the same seed prints the same text')
    parser.add_argument('--strict', action='store_true',
                        help='refuse prime words outside the vocabulary instead of '
                             "reading them as 'unknown'")
    parser.add_argument('--python-loop', action='store_true',
                        help="use the book's per-token sampler (greedy only)")
    command_line.add_folder_reader_options(parser)
    parser.add_argument('--cell-impl', choices=('basic', 'fused'), default='basic',
                        help="the generator's cell: basic, the book's cell step by step; "
                             "fused: one fused LSTM op per layer and step, the same "
                             'text, built and run faster (default %(default)s)')
    args = parser.parse_args(argv)
    # a setting the chosen strategy does not read is refused, not ignored
    if args.temperature is not None and args.strategy == 'greedy':
        parser.error('--temperature changes the draws of --strategy weighted and topk; greedy '
                     'takes the most probable token whatever it is: add --strategy weighted, '
                     'or drop --temperature')
    if args.top_k is not None and args.strategy != 'topk':
        parser.error('--top-k is read by --strategy topk only: add --strategy topk, or drop '
                     '--top-k')
    args.temperature = 1.0 if args.temperature is None else args.temperature
    args.top_k = 10 if args.top_k is None else args.top_k
    if args.python_loop and args.strategy != 'greedy':
        parser.error("--python-loop is the book's greedy sampler: use it with "
                     '--strategy greedy')
    return args


def restore_newest(sess, saver, checkpoint, config, folder_given):
    """checkpoints.restore, and the checkpoint restored.

    A run writing in the folder keeps only its newest checkpoints, so the one
    found can be removed while it is being read. Where the user gave the
    folder, the newest complete one is found and read instead, up to
    RETRIES times; a checkpoint named on the command line is not replaced.
    """
    for retry in range(RETRIES + 1):
        try:
            checkpoints.restore(sess, saver, checkpoint, config)
            return checkpoint
        except errors.RunError:
            # a checkpoint named, the last try, or one still complete (damaged,
            # of another model): the error stands
            if not folder_given or retry == RETRIES or \
                    checkpoints.is_complete(checkpoint, need_progress=False):
                raise
        removed = Path(checkpoint).name
        _, checkpoint, _ = checkpoints.find_checkpoint(Path(checkpoint).parent)
        print('Note: {} was removed while it was being read (the run writing in the folder '
              'keeps only its newest checkpoints): using {}.'.format(
                  removed, Path(checkpoint).name), file=sys.stderr)


def beside_the_runs_samples(run_dir, checkpoint):
    """Where the checkpoint stands beside the samples the run printed last, in
    words: the two texts differ when they are of other iterations."""
    iteration = checkpoints.iteration_of(checkpoint)
    try:
        samples = read_record(run_dir).get('samples') or []
    except errors.RunError:  # no record, or one this version cannot read: say nothing
        return ''
    if iteration is None or not samples:
        return ''
    printed = max(s['iteration'] for s in samples)
    if printed == iteration:
        return ', the checkpoint of iteration {}, where the run last printed its ' \
            'samples'.format(iteration)
    return (', the checkpoint of iteration {}; the run last printed its samples at '
            'iteration {}, so greedy text may differ from them'.format(iteration, printed))


def main(argv=None):
    args = parse_args(argv)
    run_dir, checkpoint, config, vocab2ix, ix2vocab, note = resuming.load_run(
        args.checkpoint, allow_pickle=args.read_vocab_pkl)
    if config['recipe'] not in settings.LANGUAGE_MODELS:
        raise errors.RunError(
            '{} is a run of {}, which writes no text: give a run folder of recipe 03 or '
            '04{}.'.format(run_dir, config['recipe'], {
                '02_implementing_rnn': ' (a run of recipe 02 classifies messages: '
                                       'tools/classify_messages.py)',
                '06_siamese_similarity': ' (a run of recipe 06 matches addresses: '
                                         'tools/match_addresses.py)'}.get(config['recipe'], '')))
    if note:
        print('Note: {}.'.format(note), file=sys.stderr)
    char_level = config['level'] == 'char'
    separator = '' if char_level else ' '
    can_take = len(shakespeare_data.drawable(ix2vocab, config['vocab_size']))
    if args.strategy == 'topk' and args.top_k > can_take:
        raise errors.RunError(
            '--top-k {}: a draw can take {} tokens of this vocabulary (never \'unknown\', nor '
            'an index that names no token), so give at most {}.'.format(
                args.top_k, can_take, can_take))

    # Clean the prime texts as the training text was cleaned
    primes = []
    for text in args.prime or BOOK_PRIME_TEXTS:
        tokens, unknown = shakespeare_data.prime_tokens(text, vocab2ix, char_level)
        if unknown:
            message = 'prime text {!r}: {} not in the vocabulary: {}'.format(
                text, 'characters' if char_level else 'words',
                ', '.join(repr(t) for t in unknown))
            if args.strict or args.python_loop:
                raise errors.RunError(message + (
                    " (--strict)." if args.strict else
                    " (the book's sampler, --python-loop, reads only known ones)."))
            print('Warning: {}; read as \'unknown\', and printed so.'.format(message),
                  file=sys.stderr)
        # the prime as the model reads it: an unknown word is 'unknown' to it
        primes.append((shakespeare_data.clean_text(text) if not unknown else
                       separator.join(tokens), tokens))

    # Rebuild the sampling model from the run's settings
    tf = import_tensorflow(args.verbose)
    tf1 = tf.compat.v1
    from cookbook_lstm import fast_lstm
    from cookbook_lstm import sampling
    from lstm_model import LSTM_Model
    tf1.disable_eager_execution()
    tf1.reset_default_graph()
    # a drawn seed when none is given: the draws stay random, and a graph
    # with random ops builds even where op determinism is on
    tf1.set_random_seed(args.seed if args.seed is not None else random.randrange(2 ** 31))
    shape = resuming.sampling_model_args(config, unrolled=min(args.num, CHUNK))
    if args.cell_impl == 'fused' and (config['cell'] != 'basic_lstm' or config['residual']):
        raise errors.RunError(
            '--cell-impl fused runs the book\'s BasicLSTMCell alone; this run has {}{}: '
            'drop --cell-impl.'.format(config['cell'],
                                       ' with --residual' if config['residual'] else ''))
    with tf1.variable_scope('lstm_model') as scope:
        step_model = LSTM_Model(training_seq_len=1, **shape)
        scope.reuse_variables()
        if not args.python_loop:  # the unrolled graph costs seconds to build
            generator = LSTM_Model(
                training_seq_len=min(args.num, CHUNK), **shape,
                decoder=fast_lstm.DECODERS[args.cell_impl],
                choose=sampling.chooser(args.strategy, args.temperature, args.top_k,
                                        config['vocab_size'], ix2vocab))
    sess = tf1.Session()
    checkpoint = restore_newest(sess, tf1.train.Saver(tf1.global_variables()), checkpoint,
                                config, folder_given=Path(args.checkpoint).is_dir())
    print('Sampling {} from {} ({}, {} level){}'.format(
        args.strategy, checkpoint, config['recipe'], config['level'],
        beside_the_runs_samples(run_dir, checkpoint)), file=sys.stderr)

    started = time.perf_counter()
    generated = 0
    for cleaned, tokens in primes:
        prime_ix = [vocab2ix[t] for t in tokens]
        if args.python_loop:
            # The book's sampler: one session call per token
            text = step_model.sample(sess, ix2vocab, vocab2ix, num=args.num,
                                     prime_text=separator.join(tokens), char_level=char_level)
            new = text[len(separator.join(tokens)):]
            print(cleaned + new)
            made = len(new) if char_level else len(new.split())
            generated += made
            if made < args.num:
                print("(greedy stopped after {} of {} tokens: the most probable next one was "
                      "index 0, 'unknown', where the book's sampler stops.)".format(
                          made, args.num), file=sys.stderr)
            continue
        # CHUNK tokens a session call, each chunk going on from the last one's
        # state, printed as it comes
        print(cleaned, end='', flush=True)
        state, last, left = sampling.prime_state(step_model, sess, prime_ix), prime_ix[-1], args.num
        while left > 0:
            chosen, state = sampling.generate(generator, sess, state, last)
            chosen = list(chosen[:left])
            stop = args.strategy == 'greedy' and 0 in chosen
            if stop:
                chosen = chosen[:chosen.index(0)]  # the book's sampler stops at index 0
            # ix2vocab.get: the book's word vocabulary has one index with no word
            print(''.join(separator + ix2vocab.get(ix, 'unknown') for ix in chosen),
                  end='', flush=True)
            generated += len(chosen)
            left -= len(chosen)
            if stop or not chosen:
                break
            last = chosen[-1]
        print()
        if stop:
            print("(greedy stopped after {} of {} tokens: the most probable next one was index "
                  "0, 'unknown', where the book's sampler stops; --strategy weighted goes "
                  'on.)'.format(args.num - left, args.num), file=sys.stderr)
    seconds = time.perf_counter() - started
    print('{} tokens in {:.3f} s ({:.0f} tokens/s, {})'.format(
        generated, seconds, generated / seconds if seconds else 0,
        'one session call per token' if args.python_loop else
        'one session call per {} tokens'.format(CHUNK)), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(command_line.exit_status_of(main, stopped='Stopped by Ctrl-C.'))
