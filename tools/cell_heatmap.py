"""What the cells learned: a heatmap of a trained run's cell states under a text.

    python tools/cell_heatmap.py --checkpoint temp/04_stacking_multiple_lstm/run-...

Rebuilds the run's sampling model from its folder (as the sampler does),
reads the text one character at a time, and draws the last layer's cell
state c of a few units under it, one coloured cell per character, in the
style of Karpathy, Johnson and Fei-Fei (2015). Which units: the rule in
cell_states.py (the units that follow the place of a character in its word,
and those that follow the spaces). Writes cell_states.png into the run
folder, or --out PATH, and prints each unit chosen with its correlation:
over the text, and without the drift of the state along it (a unit is
called strong only where both are; cell_states.py says the rule).
"""
import argparse
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone
from cookbook_lstm import cell_states
from cookbook_lstm import checkpoints
from cookbook_lstm import command_line
from cookbook_lstm import errors
from cookbook_lstm import resuming
from cookbook_lstm import run_folder
from cookbook_lstm import safe_files
from cookbook_lstm import settings
from cookbook_lstm import shakespeare_data
from cookbook_lstm.tf1_setup import import_tensorflow

FIGURE_FILE = 'cell_states.png'
PASSAGE = ('To be, or not to be, that is the question: whether tis nobler in the mind to '
           'suffer the slings and arrows of outrageous fortune, or to take arms against '
           'a sea of troubles and by opposing end them.')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--checkpoint', metavar='DIR', required=True,
                        help='a run folder of recipe 04 (a character model), or a checkpoint '
                             'in one, such as DIR/model-500')
    parser.add_argument('--text', default=PASSAGE,
                        help='the text to read, cleaned as the training text was '
                             '(default: from Hamlet)')
    parser.add_argument('--units', type=settings.Whole(1).parse, default=3,
                        help='at most N units for each feature, the place in a word and the '
                             'spaces (default %(default)s); fewer where fewer units\' tanh(c) '
                             'moves by {} or more over the text, where the first feature took '
                             'them, and none for a feature the text does not vary (one word has '
                             'no spaces)'.format(cell_states.MIN_SPREAD))
    parser.add_argument('--out', metavar='PATH', default=None,
                        help='a new PNG file to write (default: cell_states.png in the run '
                             'folder)')
    command_line.add_folder_reader_options(parser)
    args = parser.parse_args(argv)
    if args.out is not None:  # checked before the work, not after it
        out = Path(args.out)
        if os.path.lexists(out):
            raise errors.RunError('--out {}: something is there already; give the name '
                                  'of a new file.'.format(out))
        if not out.parent.is_dir():
            raise errors.RunError('--out {}: the folder {} does not exist; create it or '
                                  'give a path in a folder that does.'.format(
                                          out, out.parent))
    run_dir, checkpoint, config, vocab2ix, ix2vocab, note = resuming.load_run(
        args.checkpoint, allow_pickle=args.read_vocab_pkl)
    if config['level'] != 'char':
        raise errors.RunError('{} is a run of recipe {}, over words; the heatmap reads '
                              'characters: give a run of recipe 04.'.format(
                                      run_dir, config['recipe']))
    if config['cell'] not in ('basic_lstm', 'lstm'):
        raise errors.RunError('{} trained --cell {}, which has no cell state c; give '
                              'an LSTM run.'.format(run_dir, config['cell']))
    try:
        text = shakespeare_data.clean_text(args.text)
    except errors.CorpusError:
        raise errors.RunError('--text {!r} is empty once punctuation and whitespace are '
                              'removed: give a line of text to read (the default is a '
                              'passage of Hamlet).'.format(args.text)) from None
    tokens, unknown = shakespeare_data.prime_tokens(text, vocab2ix, True)
    if unknown:
        raise errors.RunError('--text has characters outside the run\'s vocabulary: '
                              '{}.'.format(', '.join(repr(t) for t in unknown)))

    tf = import_tensorflow(args.verbose)
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    from lstm_model import LSTM_Model
    tf1.reset_default_graph()
    tf1.set_random_seed(0)  # its initializers never run (restored), but must be seeded
    with tf1.variable_scope('lstm_model'):
        model = LSTM_Model(training_seq_len=1, **resuming.sampling_model_args(config))
    # (one step a call, so the memory check of sampling_model_args holds)
    sess = tf1.Session()
    checkpoints.restore(sess, tf1.train.Saver(tf1.global_variables()), checkpoint, config)

    states = cell_states.states_over(sess, model, [vocab2ix[t] for t in tokens])
    try:
        picked = cell_states.pick_units(states, text, args.units)
    except errors.CorpusError as err:
        raise errors.RunError('--text {}'.format(err)) from None
    for unit, feature, r in picked:
        print(cell_states.tie(states, text, unit, feature, r))
    for feature in cell_states.FEATURES:
        shown = sum(f == feature for _, f, _ in picked)
        if shown < args.units:
            print('{} of the {} units asked for {}: the others move by less than {} over the '
                  'text, or were taken by the other feature, or the text does not vary '
                  'it.'.format(shown, args.units, feature, cell_states.MIN_SPREAD))
    import matplotlib
    matplotlib.use('Agg')
    figure = cell_states.draw_heatmap(
        states, text, picked, title='{}, {}: tanh(c) of the last layer'.format(
            run_dir.name, Path(checkpoint).name))
    image = io.BytesIO()
    figure.savefig(image, format='png', dpi=110)
    if args.out:
        path = Path(args.out)
        safe_files.write_atomically(path, image.getvalue())
    else:
        path = run_dir / FIGURE_FILE
        run_folder.write_file(run_dir, FIGURE_FILE, image.getvalue())
    print('Heatmap saved to: {}'.format(path))
    return 0


if __name__ == '__main__':
    sys.exit(command_line.exit_status_of(main))
