"""Which classroom configuration shows the most learning in about a minute?

    python benchmarks/classroom_settings.py                 # every candidate, one at a time
    python benchmarks/classroom_settings.py 04_stacking_multiple_lstm
    python benchmarks/classroom_settings.py 04_stacking_multiple_lstm:5   # the fifth only

Runs each notebook (Run All, a fresh kernel, as notebooks/execute.py does)
once per candidate configuration below, one after the other, and prints a
Markdown table per notebook: the seconds the whole notebook took, the loss
it ended at (the mean of its last 50 iterations), and for the language
models the first and the last evaluation's samples, greedy and drawn, with
the words of the text the last held that the first did not; for the
classifier, the held-out accuracy of each variant. Run it on an idle machine:
the seconds are the point. docs/teaching.md holds the table it printed.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'notebooks'))
from execute import execute, machine  # noqa: E402

# The candidates: the notebook's classroom dict, each a setting a teacher could
# choose (size, learning rate, sequence length, steps)
CANDIDATES = {
    '03_implementing_lstm': [
        'dict(rnn_size=64, embedding_size=64, batch_size=32, training_seq_len=20, epochs=1, '
        'eval_every=300)',
        'dict(rnn_size=64, embedding_size=64, batch_size=32, training_seq_len=20, epochs=1, '
        'eval_every=300, learning_rate=0.003)',
        'dict(rnn_size=64, embedding_size=64, batch_size=32, training_seq_len=20, epochs=1, '
        'eval_every=300, learning_rate=0.01)',
        'dict(rnn_size=128, embedding_size=128, batch_size=32, training_seq_len=20, epochs=1, '
        'eval_every=200, learning_rate=0.003, max_steps=800)',
        'dict(rnn_size=64, embedding_size=64, batch_size=32, training_seq_len=20, epochs=1, '
        'eval_every=250, learning_rate=0.01, max_steps=1000)',
    ],
    '04_stacking_multiple_lstm': [
        'dict(rnn_size=64, batch_size=32, learning_rate=0.002, epochs=1, max_steps=1500, '
        'eval_every=500)',
        'dict(rnn_size=64, batch_size=32, learning_rate=0.005, epochs=1, max_steps=1500, '
        'eval_every=500)',
        'dict(rnn_size=128, batch_size=32, learning_rate=0.003, epochs=1, max_steps=900, '
        'eval_every=300)',
        'dict(rnn_size=64, batch_size=32, training_seq_len=100, learning_rate=0.005, '
        'epochs=1, max_steps=800, eval_every=200)',
        'dict(rnn_size=64, batch_size=32, learning_rate=0.005, epochs=1, max_steps=2000, '
        'eval_every=500)',
    ],
    'bidirectional_lstm': [
        'dict(epochs=3, passage_words=50)',
        'dict(epochs=5, passage_words=50)',
        'dict(epochs=3, passage_words=100)',
        'dict(epochs=4, passage_words=100, learning_rate=0.002)',
    ],
}

# Printed by a cell run after the notebook's last: what it reached
LANGUAGE_MODEL = '''import json
first, last = evaluations[0], evaluations[-1]
print('REACHED ' + json.dumps({
    'iterations': iteration_count, 'loss': float(np.mean(train_loss[-50:])),
    'first': first, 'last': last,
    'first_samples': [(g, d) for i, _, g, d in samples if i == first],
    'last_samples': [(g, d) for i, _, g, d in samples if i == last],
    'new_words': new}))'''
CLASSIFIER = '''import json
print('REACHED ' + json.dumps({v: [round(a, 3) for a in rows[-1]] for v, rows in history.items()}))'''


def reached(notebook):
    text = ''.join(o.get('text', '') for c in notebook.cells if c.cell_type == 'code'
                   for o in c.outputs)
    return json.loads(text.split('REACHED ', 1)[1].splitlines()[0])


def main(argv=None):
    import argparse
    import re
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('names', nargs='*', metavar='NAME[:K]',
                        help='notebooks to measure, or NAME:K for its K-th candidate only '
                             '(default: every candidate of {})'.format(', '.join(CANDIDATES)))
    args = parser.parse_args(argv)
    chosen = []  # every name checked before anything runs
    for given in args.names or list(CANDIDATES):
        match = re.fullmatch(r'([\w.-]+?)(?::([0-9]+))?', given, re.ASCII)
        name, only = (match.group(1), match.group(2)) if match else (given, None)
        if not match or name not in CANDIDATES or only is not None and not (
                1 <= int(only) <= len(CANDIDATES[name])):
            parser.error('no notebook or candidate {}: give one of {}, or NAME:K with K from 1 '
                         'to its number of candidates'.format(given, ', '.join(CANDIDATES)))
        chosen.append((name, CANDIDATES[name] if only is None
                       else [CANDIDATES[name][int(only) - 1]]))
    print('Machine: {}'.format(machine()))
    for name, candidates in chosen:
        print('\n## {}\n'.format(name))
        classifier = name == 'bidirectional_lstm'
        if classifier:
            print('| classroom | seconds | held-out accuracy (training accuracy) |')
            print('|---|---|---|')
        else:
            print('| classroom | seconds | iterations | loss, last 50 | first evaluation: '
                  'greedy / drawn | last evaluation: greedy / drawn | words of the text '
                  'new at the last |')
            print('|---|---|---|---|---|---|---|')
        for candidate in candidates:
            notebook, seconds = execute(name, 'classroom = ' + candidate,
                                        CLASSIFIER if classifier else LANGUAGE_MODEL)
            got = reached(notebook)
            setting = candidate[len('dict('):-1]
            if classifier:
                print('| {} | {:.0f} | {} |'.format(setting, seconds, ', '.join(
                    '{} {:.3f} ({:.3f})'.format(v, test, train)
                    for v, (train, test) in got.items())))
            else:
                def shown(pairs):
                    return '<br>'.join('{} / {}'.format(g, d) for g, d in pairs)
                print('| {} | {:.0f} | {} | {:.2f} | {}: {} | {}: {} | {}: {} |'.format(
                    setting, seconds, got['iterations'], got['loss'], got['first'],
                    shown(got['first_samples']), got['last'], shown(got['last_samples']),
                    len(got['new_words']), ', '.join(got['new_words'][:12])))
            sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
