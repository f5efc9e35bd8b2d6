"""Does the book's advice work? Its suggested improvements, and the cells, measured.

Recipe 03's "How it works" says the model could do better with a longer
sequence, a decaying learning rate or more epochs. This trains each of those
against the book's settings, and the 3-layer model of recipe 04 with other
cells and with dropout, all on the same text with the same held-out part
(--valid-fraction 0.05: the last 5% of the plays, never trained on) and the
same seed, then prints one table: held-out perplexity after each epoch,
training time, and the samples at the end.

    python benchmarks/book_suggestions.py              # all rows, two runs at a time
    python benchmarks/book_suggestions.py --table      # the table of the runs made

The runs are shortened to fit an afternoon on 2 cores: recipe 03 at 5
epochs (the "more epochs" row is the book's 10), recipe 04 at 3 (--epochs
changes both). Each run is a normal run folder under temp/suggestions/; a
row whose folder holds a finished run is not trained again, and a folder
holding anything else is left alone and reported.
"""
import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / 'temp' / 'suggestions'
COMMON = ['--offline', '--seed', '1', '--valid-fraction', '0.05']

# (name, recipe, what it tries, flags beside COMMON; --double-epochs: twice the
# recipe's --epochs of the other rows)
ROWS = [
    ('03-book', '03_implementing_lstm', "the book's settings", []),
    ('03-seq100', '03_implementing_lstm', 'a longer sequence: 100 words, not 50',
     ['--training-seq-len', '100']),
    ('03-decay', '03_implementing_lstm', 'a decaying learning rate: x0.7 each epoch',
     ['--lr-decay', '0.7']),
    ('03-epochs', '03_implementing_lstm', 'more epochs: twice as many', ['--double-epochs']),
    ('04-book', '04_stacking_multiple_lstm', "the book's 3 tied BasicLSTMCell layers", []),
    ('04-lstm', '04_stacking_multiple_lstm', 'LSTMCell with peepholes',
     ['--cell', 'lstm', '--peepholes']),
    ('04-gru', '04_stacking_multiple_lstm', 'GRUCell', ['--cell', 'gru']),
    ('04-dropout', '04_stacking_multiple_lstm', 'BasicLSTMCell, --dropout 0.8',
     ['--dropout', '0.8']),
]
# Recipe 03's rows run its fastest graph (the same numbers, float32 rounding
# aside; docs/benchmark.md); recipe 04's the book's, since the other cells
# have no fused graph and their times are compared
FAST = {'03_implementing_lstm': ['--cell-impl', 'projected', '--softmax-blocks', '5'],
        '04_stacking_multiple_lstm': []}


def command(row, epochs):
    name, recipe, _, flags = row
    n = epochs[recipe]
    if '--double-epochs' in flags:
        flags, n = [f for f in flags if f != '--double-epochs'], 2 * n
    return [sys.executable, str(PROJECT / 'recipes' / (recipe + '.py'))] + COMMON + \
        FAST[recipe] + flags + ['--epochs', str(n), '--out', str(OUT / name)]


def status(name):
    record = OUT / name / 'record.json'
    if not record.exists():
        return 'missing' if not (OUT / name).exists() else 'not finished'
    return json.loads(record.read_text())['status']


def train(row, epochs):
    name = row[0]
    if status(name) == 'finished':
        return '{}: finished before, kept'.format(name)
    if (OUT / name).exists():
        return '{}: {} holds an unfinished run; resume it with --resume, or move it away'.format(
            name, OUT / name)
    started = time.monotonic()
    log = OUT / (name + '.log')
    OUT.mkdir(parents=True, exist_ok=True)
    with open(log, 'w') as out:
        done = subprocess.run(command(row, epochs), stdout=out, stderr=subprocess.STDOUT)
    return '{}: exit {} after {:.0f} min (log: {})'.format(
        name, done.returncode, (time.monotonic() - started) / 60, log)


def table():
    lines = ['| row | what it tries | held-out perplexity after each epoch | training time | '
             'samples at the end |', '|---|---|---|---|---|']
    for name, recipe, what, _ in ROWS:
        if status(name) != 'finished':
            lines.append('| {} | {} | ({}) | | |'.format(name, what, status(name)))
            continue
        record = json.loads((OUT / name / 'record.json').read_text())
        held = [h['perplexity'] for h in record['held_out']]
        seconds = record['iterations']['rows'][-1][4]
        last = max(s['iteration'] for s in record['samples'])
        samples = ' / '.join(s['text'] for s in record['samples'] if s['iteration'] == last)
        lines.append('| {} | {} | {} | {:.0f} min ({} iterations) | {} |'.format(
            name, what, ', '.join('{:.1f}'.format(p) for p in held), seconds / 60,
            record['iterations']['rows'][-1][0], samples.replace('|', '\\|')))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--table', action='store_true', help='print the table, train nothing')
    parser.add_argument('--only', nargs='+', metavar='ROW', choices=[r[0] for r in ROWS],
                        help='train these rows only')
    parser.add_argument('--jobs', type=int, default=2, help='runs at a time (default 2)')
    parser.add_argument('--epochs03', type=int, default=5, help="recipe 03's rows (default 5)")
    parser.add_argument('--epochs04', type=int, default=3, help="recipe 04's rows (default 3)")
    args = parser.parse_args(argv)
    if not args.table:
        epochs = {'03_implementing_lstm': args.epochs03,
                  '04_stacking_multiple_lstm': args.epochs04}
        rows = [r for r in ROWS if not args.only or r[0] in args.only]
        rows.sort(key=lambda r: r[0] != '03-epochs')  # the longest first
        with ThreadPoolExecutor(args.jobs) as pool:
            for line in pool.map(lambda r: train(r, epochs), rows):
                print(line, flush=True)
    print(table())
    return 0


if __name__ == '__main__':
    sys.exit(main())
