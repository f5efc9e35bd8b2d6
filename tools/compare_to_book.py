"""Check a run against the figures the book and the author's notebooks printed.

    python tools/compare_to_book.py temp/04_stacking_multiple_lstm/run-...

It reads the run's record.json and the figures that judge it, and names them
in its first line: for a run of recipe 03 or 04 on the book's edition of the
text (known by its sha256), the published figures (published/<recipe>.json);
on another text, this project's own figures for that text and the run's
settings, measured over several seeds by tools/measure_reference.py
(published/measured/: the book's settings and --tiny on the plays the recipes
use offline and on a recent Gutenberg file; --tiny on the book's edition). It
prints them side by side: vocabulary, batch and
parameter counts (exact), the loss at the published early iterations and the
mean of the epoch-10 printed losses (each within a band widened by the
seed-to-seed spread; docs/checking-a-run.md says how it was measured), and the final
samples with how many match word for word. Each figure is judged against the
source that matches the run's graph; the other sources are shown, labelled,
and never fail the run. It also draws the run's loss with the published
points (comparison.png) and writes the same as comparison.md, both in the
run folder.

    python tools/compare_to_book.py RUN_DIR --json > verdicts.json   # for a CI job

A run of recipe 06 (the Siamese address matcher) has other figures: the loss
and the accuracy of each metrics line the notebooks print (every 10th batch),
each shown beside its band; the mean of each ten neighbouring lines, judged
within its band of the notebook of the 2nd edition's code (one line alone
moves too much from seed to seed); and the four final matches, each shown
beside the book's, how many are the book's judged (at least 3, as the seeds
give). Its figure sets the run's loss and accuracy beside the
four notebooks' printed lines.

A run of recipe 02 (the RNN spam classifier) is judged on the vocabulary size
and the 80-20 split (exact) and on each epoch's test loss and accuracy, the
run's rounded as the recipe prints them (two significant digits): each epoch
is shown beside its band, and the mean of the printed epochs in each span of
five is judged. The printed code (a softmax before the loss's own, the
default) is judged against the book; --single-softmax against the author's
notebook that ran its epochs (a2ca9e7, 20; 4111ba8, --epochs 50).

Exit status, each its own, so that a regression job can trust it:
  0    at least one figure was judged, and every judged figure lies in its band
  1    a judged figure lies outside its band
  2    a run folder or published figures it cannot use (missing, damaged, a
       record without a setting the comparison reads, a number not finite or
       beyond 2**53): one line names the file and what is wrong
  3    nothing could be judged: a text with no reference figures, other
       settings (without --judge-other-settings), a run cut short before every
       figure, or a recipe with no published figures
  64   a usage error: a flag or argument it does not take (EX_USAGE of
       sysexits.h; argparse's own 2 would read as "cannot be read")
  70   a bug: the stack is printed (EX_SOFTWARE; Python's own 1 would read as
       "outside"); please report it
  130  stopped by Ctrl-C (128 + SIGINT, as a shell reports it)
  141  the reader of the output went away before its end (| head): 128 +
       SIGPIPE, what a shell reports for cat or grep stopped the same way, so
       that `set -o pipefail` treats it alike; not 0, the comparison was not
       all read, and not 1, which would say "outside"
"""
import argparse
import io
import json
import math
import os
import re
import statistics
import sys
import traceback
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))  # run from a clone
from cookbook_lstm import command_line  # noqa: E402  (after the path: the project's own modules)
from cookbook_lstm import errors  # noqa: E402
from cookbook_lstm import run_folder  # noqa: E402
from cookbook_lstm import safe_files  # noqa: E402
from cookbook_lstm import settings  # noqa: E402
from cookbook_lstm import text_source  # noqa: E402
from cookbook_lstm.record import read_record  # noqa: E402
from cookbook_lstm.run_folder import RECORD_FILE  # noqa: E402
from cookbook_lstm.settings import FORMER_NAMES, RECIPES, recipe_module  # noqa: E402
PUBLISHED_DIR = PROJECT_DIR / 'published'
MEASURED_DIR = 'measured'  # the project's own references, beside the published figures
MAX_REFERENCES = 100  # files read from a measured folder, at most
FIGURE_FILE = 'comparison.png'
REPORT_FILE = 'comparison.md'

INSIDE, OUTSIDE, SHOWN = 'inside', 'OUTSIDE', 'shown'
NOT_COMPARABLE = 'not comparable: '
OTHER_EDITION = NOT_COMPARABLE + 'another edition'
# The exit statuses (the module's docstring, which --help prints)
ALL_INSIDE, SOME_OUTSIDE, UNREADABLE, NOTHING_JUDGED = 0, 1, 2, 3
USAGE, BUG, STOPPED, CLOSED_PIPE = 64, 70, 130, 141  # 130: exit_status_of's, as for all


class CompareError(Exception):
    """The run or the published figures cannot be read; says which file."""


PUBLISHED_KEYS = ('recipe', 'edition', 'compared_settings', 'graphs', 'bands', 'counts',
                  'losses', 'epoch_10', 'sources')
# Recipe 06 prints other figures: metrics lines (loss and accuracy) and matches
SIAMESE = '06_siamese_similarity'
SIAMESE_KEYS = ('recipe', 'compared_settings', 'graphs', 'bands', 'lines', 'queries',
                'matches', 'sources')
# Recipe 02 prints each epoch's test loss and accuracy, the vocabulary and the split
SPAM = '02_implementing_rnn'
SPAM_KEYS = ('recipe', 'compared_settings', 'collections', 'counts', 'graphs', 'epochs',
             'bands', 'sources')


def load_published(recipe, published_dir=PUBLISHED_DIR):
    """The published figures of recipe, one of settings.RECIPES (checked by
    read_record), from published_dir/<recipe>.json."""
    if recipe not in RECIPES:  # never a path a folder names
        raise CompareError('{!r} is not a recipe of this project.'.format(recipe))
    path = Path(published_dir) / '{}.json'.format(recipe)
    if safe_files.check_kind(path) is None and Path(published_dir) == PUBLISHED_DIR:
        raise CompareError('recipe {} has no published figures (the book has no such '
                           'recipe), so there is nothing to compare it with.'.format(recipe))
    return load_figures(path, recipe)


def load_figures(path, recipe):
    """The figures in path (published, or the project's own measured ones) of
    recipe, their form and numbers checked; the key 'file' says where they are."""
    published = safe_files.read_json(path, safe_files.LIMITS['published'], advice=(
        "Put back the project's own file (git checkout -- published), or make a measured "
        'one again with tools/measure_reference.py.'))
    keys = {SIAMESE: SIAMESE_KEYS, SPAM: SPAM_KEYS}.get(recipe, PUBLISHED_KEYS)
    missing = [k for k in keys if not isinstance(published, dict) or k not in published]
    if missing or published['recipe'] != recipe:
        raise CompareError('{} is not the published figures of recipe {} ({}).'.format(
            path, recipe, '"{}" is missing'.format(missing[0]) if missing
            else 'it names recipe {!r}'.format(published['recipe'])))
    names = published['compared_settings']
    if not isinstance(names, list) or not all(n in settings.SETTINGS for n in names):
        raise CompareError('{}: "compared_settings" is not a list of settings of this '
                           'project.'.format(path))
    # 1e400 reads as inf, and 10**400 as a whole number no float holds (abs first)
    number = next((v for v in numbers_in(published) if abs(v) > settings.LARGEST
                   or not math.isfinite(v)), None)
    if number is not None:
        text = json.dumps(number)
        raise CompareError('{} holds the number {}, which no source printed: each must be '
                           'finite and at most 2**53. Put back the published value.'.format(
                               path, text if len(text) < 20 else '{}... ({} digits)'.format(
                                   text[:8], len(text))))
    try:
        shown = Path(path).resolve().relative_to(PROJECT_DIR)
    except ValueError:  # the user's own figures (--published)
        shown = path
    return dict(published, file=str(shown))


# ---- which figures judge a run: the text it trained on picks them

def text_sha256(published):
    """The sha256 of the text the figures are of; None for figures of no one
    text (recipes 02 and 06, and published files that name only an edition)."""
    text = published.get('text')
    return text.get('sha256') if isinstance(text, dict) else None


def same_text(record, published):
    """Did the run train on the text the figures are of? By the text's bytes
    (sha256), or by the edition's name where the figures give no sha256."""
    corpus = record.get('corpus') or {}
    if text_sha256(published) is not None:
        return corpus.get('sha256') == text_sha256(published)
    return corpus.get('edition') == published['edition']


def measured_references(recipe, published_dir):
    """The project's own references of recipe (published_dir/measured/<recipe>.*.json),
    each read and checked; a file that cannot be used is a CompareError."""
    folder = Path(published_dir) / MEASURED_DIR
    if safe_files.check_kind(folder, folder=True) is None:
        return []
    names = sorted(n for n in os.listdir(folder)
                   if n.startswith(recipe + '.') and n.endswith('.json'))
    references = [load_figures(folder / name, recipe) for name in names[:MAX_REFERENCES]]
    for name, m in zip(names, references):
        if not (m.get('kind') == 'measured' and isinstance(m.get('text'), dict)
                and isinstance(m['text'].get('sha256'), str)
                and isinstance(m['text'].get('name'), str)
                and isinstance(m.get('configuration'), dict)
                and isinstance(m['configuration'].get('name'), str)
                and isinstance(m['configuration'].get('values'), dict)):
            raise CompareError('{}: not a measured reference (its "kind", "text" or '
                               '"configuration" is missing or of another form); make it '
                               'again with tools/measure_reference.py.'.format(folder / name))
        missing = [k for k in m['compared_settings'] if k not in m['configuration']['values']]
        if missing:
            raise CompareError('{}: its configuration gives no value of {}, a setting it '
                               'compares; make it again with tools/measure_reference.py.'
                               .format(folder / name, missing[0]))
    seen = {}
    for name, m in zip(names, references):
        key = (m['text']['sha256'], m['configuration']['name'])
        if key in seen:
            raise CompareError('{} and {} are references of one text and configuration; '
                               'keep one.'.format(folder / seen[key], folder / name))
        seen[key] = name
    return references


def reference_for(record, published, published_dir=PUBLISHED_DIR):
    """The figures that judge a run, picked by the text it trained on (its sha256)
    and its settings: of the figures of that text (the published ones, where it
    is the book's edition, and the project's own, measured on it), those whose
    compared settings the run has, else those whose settings differ from the
    run's in the fewest (a --tiny run with another learning rate: --tiny's,
    which then say "other settings (learning_rate ...)"; a tie goes to the
    published figures, then to the book's settings); with no figures of the
    run's text, the published ones, which say "another edition". Recipes 02 and
    06 train on no text of the user's: their published figures judge every run."""
    if published['recipe'] in (SIAMESE, SPAM):
        return published
    config = run_config(record)
    mine = [m for m in measured_references(published['recipe'], published_dir)
            if same_text(record, m)]
    candidates = ([published] if same_text(record, published) else []) + sorted(
        mine, key=lambda m: m['configuration']['name'] != 'book')
    if not candidates:
        return published
    return min(candidates, key=lambda c: len(differing(config, c)))  # the first of a tie


def reference_line(record, published, published_dir=PUBLISHED_DIR):
    """The first line of a comparison: which figures judge the run, and where they are."""
    if published.get('kind') == 'measured':
        return "Reference: this project's own figures for {}, {} settings ({}).".format(
            published['text']['name'], published['configuration']['name'], published['file'])
    line = 'Reference: the figures the book and the author published ({})'.format(
        published['file'])
    if published['recipe'] in (SIAMESE, SPAM):
        return line + '.'
    if same_text(record, published):
        return line[:-1] + ", of the book's edition, which this run trained on)."
    corpus = record.get('corpus') or {}
    known = [m['text']['name'] for m in measured_references(published['recipe'],
                                                            published_dir)
             if not same_text({'corpus': published.get('text') or {}}, m)]
    text = text_source.describe_edition(corpus)
    if not corpus.get('sha256'):
        text += ' (its sha256 not recorded: a run from a text cache without its record)'
    elif corpus['sha256'][:12] not in text:
        text += ' (sha256 {}...)'.format(corpus['sha256'][:12])
    return ("{}, of the book's edition; this run's text has no reference: {}. Nothing of "
            "it can be judged. The project has references for the book's edition{}; "
            'tools/measure_reference.py measures one for another text.'.format(
                line, text, ''.join(', ' + name for name in dict.fromkeys(known))))


def numbers_in(value):
    """Every number in a value read from JSON (booleans are not), without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            yield item


def read_run(run_dir, published_dir=PUBLISHED_DIR):
    """A run folder's record.json, through the run folder's checks, and the
    published figures of its recipe: (record, published).

    The record's settings go through the project's checks
    (settings.check_config), and must hold those that name its graph
    (settings.REQUIRED) and each the comparison looks at (the published
    compared_settings): a record without one is damaged, not a run of other
    settings.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CompareError('{}: {}; give a run folder a recipe wrote.'.format(
            run_dir, 'not a folder' if os.path.lexists(run_dir) else 'no such run folder'))
    run_folder.check_folder(run_dir)
    if safe_files.check_kind(run_dir / RECORD_FILE) is None:
        raise CompareError('{} is missing: this folder was not written by a recipe of this '
                           'project, or the run stopped before its first checkpoint.'.format(
                               run_dir / RECORD_FILE))
    record = read_record(run_dir)
    if record.get('recipe') in settings.LANGUAGE_MODELS:
        check_text_record(record, run_dir / RECORD_FILE)
    published = reference_for(record, load_published(record.get('recipe'), published_dir),
                              published_dir)
    required = settings.required_of(published['recipe']) \
        if published['recipe'] in (SIAMESE, SPAM) else settings.REQUIRED  # a language model's
    settings.check_config(record['config'], run_dir / RECORD_FILE, required=(
        required + tuple(published['compared_settings'])))
    return record, published


def check_text_record(record, path):
    """The description of a language model's text, which picks its reference:
    a CompareError where it is missing or damaged. A text without a sha256 (a
    run from a text cache that had no record) is a text of no reference."""
    corpus = record.get('corpus')
    if not isinstance(corpus, dict):
        raise CompareError('{}: "corpus", the description of the text the run trained on, '
                           'is missing. The folder is damaged; use a run folder a recipe '
                           'wrote.'.format(path))
    sha256 = corpus.get('sha256')
    if sha256 is not None and not (isinstance(sha256, str)
                                   and re.fullmatch(r'[0-9a-f]{64}', sha256)):
        shown = json.dumps(sha256)
        raise CompareError('{}: the text\'s sha256 is {}, not 64 hex digits. The folder is '
                           'damaged; use a run folder a recipe wrote.'.format(
                               path, shown if len(shown) <= 80 else shown[:40] + '...'))
    config_corpus = record['config'].get('corpus')
    if isinstance(config_corpus, dict) and config_corpus.get('sha256') != sha256:
        raise CompareError('{}: the text\'s sha256 differs from the one in the run\'s '
                           'settings. The folder is damaged; use a run folder a recipe '
                           'wrote.'.format(path))


def book_settings(published):
    """The reference's values of the settings that make a run comparable.

    The book's: the recipe's own Config (its hyperparameter block), the
    published file naming which settings count; a measured reference's
    configuration gives its own (the recipe's TINY, for one).
    """
    if 'configuration' in published:
        values = published['configuration']['values']
        return {key: values.get(key) for key in published['compared_settings']}
    book = recipe_module(published['recipe']).Config()  # a name of RECIPES
    return {key: getattr(book, key) for key in published['compared_settings']}


def run_config(record):
    """The run's settings, in today's names (settings.upgrade_config)."""
    return settings.upgrade_config(record['config'])


def graph_of(config):
    """Which of the published graphs the run built."""
    if config.get('recipe') == SIAMESE:
        return 'siamese'
    if config.get('recipe') == SPAM:  # --single-softmax: the loss on the logits
        return 'single_softmax' if config.get('single_softmax') else 'double_softmax'
    if config.get('level') == 'word':
        return 'one_layer'
    return 'separate' if config.get('separate_layers') else 'tied'


def judged_graph(config, published):
    """The graph of the reference's that the run is set beside: its own, or, where
    the reference has not measured it (a measured reference has one graph), the
    reference's, which then differs in a compared setting (separate_layers)."""
    graph, graphs = graph_of(config), published['graphs']
    return graph if graph in graphs or not graphs else next(iter(graphs))  # none: KeyError


def applies(entry, graph):
    return entry.get('graph') in (None, graph)


class Row:
    """One line of the comparison."""

    def __init__(self, figure, source, published, run, band, verdict, digits=2):
        self.figure, self.source = figure, source
        self.published, self.run, self.band, self.verdict = published, run, band, verdict
        self.digits = digits  # of the published and the run's value (recipe 06 prints 3)


def fmt(value, digits=2):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '{:.{}f}'.format(value, digits)
    if isinstance(value, int):
        return '{:,}'.format(value)
    return str(value)


def compare(record, published, despite_settings=False):
    """The comparison rows for one run record against its recipe's published figures.

    despite_settings: judge a run whose compared settings differ from the
    reference's all the same (--judge-other-settings), to see that the check
    catches a deliberate change; otherwise such a run is not comparable."""
    if published['recipe'] == SIAMESE:
        return compare_siamese(record, published, despite_settings)
    if published['recipe'] == SPAM:
        return compare_spam(record, published, despite_settings)
    config = run_config(record)
    graph = judged_graph(config, published)
    judge = published['graphs'][graph]['judged_by']
    rows = record['iterations']['rows']
    losses = {r[0]: r[3] for r in rows}
    reached = rows[-1][0] if rows else 0

    # Why nothing can be judged on this run, if so
    reasons = []
    book = book_settings(published)
    other = {k: (config.get(k), v) for k, v in book.items() if config.get(k) != v}
    if other and not despite_settings:  # first: a --tiny run is other settings
        reasons.append('other settings ({})'.format(', '.join(
            '{} {}'.format(k, a) for k, (a, _) in sorted(other.items()))))
    if not same_text(record, published):
        reasons.append(OTHER_EDITION[len(NOT_COMPARABLE):])

    def verdict(source, inside, reached_it=True):
        if source != judge:
            return SHOWN
        if reasons:
            return NOT_COMPARABLE + ' and '.join(reasons)
        if not reached_it:
            return 'not reached (the run stopped at iteration {})'.format(reached)
        return INSIDE if inside else OUTSIDE

    out = []
    # Counts follow from the text and the graph: judged whoever printed them
    facts = {'vocab_size': config.get('vocab_size'),
             'out_of': config['num_batches'] + 1 if 'num_batches' in config else None,
             'trainable_parameters': config.get('trainable_parameters')}
    for entry in published['counts']:
        if applies(entry, graph):
            run_value = facts[entry['key']]
            out.append(Row(entry['figure'], '/'.join(entry['sources']),
                           entry['value'], run_value, 'exact',
                           verdict(judge, run_value == entry['value'])))

    bands = published['bands'][graph]
    # Another graph's figures are shown beside, labelled with their graph
    def label(entry):
        if applies(entry, graph):
            return entry['source']
        return '{} ({})'.format(entry['source'], entry['graph'].replace('_', ' '))

    for entry in published['losses']:
        i = entry['iteration']
        run_value = losses.get(i)
        if not applies(entry, graph):
            out.append(Row('loss at iteration {}'.format(i), label(entry),
                           entry['loss'], run_value, None, SHOWN))
            continue
        band = bands['loss'][str(i)]
        inside = run_value is not None and abs(run_value - entry['loss']) <= band
        judged = verdict(entry['source'], inside, run_value is not None)
        out.append(Row('loss at iteration {}'.format(i), entry['source'],
                       entry['loss'], run_value, None if judged == SHOWN else band, judged))

    # Epoch 10: the run's printed losses (every 10th iteration) at the
    # iterations the source printed, or over the whole of epoch 10
    num_batches = config.get('num_batches')
    whole_epoch = (range(10 * ((9 * num_batches) // 10 + 1), 10 * num_batches + 1, 10)
                   if num_batches else range(0))

    def run_mean(iterations):
        if not iterations or iterations[-1] > reached:  # the run stopped before
            return None
        values = [losses.get(i) for i in iterations]
        if not values or any(v is None for v in values):
            return None
        return statistics.mean(values)

    for entry in published['epoch_10']:
        printed = entry.get('printed', {})
        if 'first_iteration' in entry:
            iterations = range(entry['first_iteration'], entry['last_iteration'] + 1, 10)
        elif printed:
            iterations = sorted(int(k) for k in printed)
        else:
            iterations = whole_epoch
        mean = entry['mean'] if 'mean' in entry else statistics.mean(printed.values())
        value = run_mean(iterations)
        band = bands['epoch_10_mean'] if entry['source'] == judge else None
        inside = value is not None and band is not None and abs(value - mean) <= band
        name = entry.get('figure', 'epoch-10 mean')  # a measured --tiny run's: its last lines
        what = '{}, iterations {}-{}'.format(name, iterations[0], iterations[-1]) \
            if iterations else name
        out.append(Row(what, label(entry), mean, value, band,
                       verdict(entry['source'], inside, value is not None)
                       if applies(entry, graph) else SHOWN))
        for it, v in sorted(printed.items(), key=lambda kv: int(kv[0])):
            out.append(Row('  loss at iteration {}'.format(it), label(entry),
                           v, losses.get(int(it)), None, SHOWN))

    # The run's held-out text (--valid-fraction): no source printed one
    for h in record.get('held_out') or []:
        out.append(Row('held-out loss after epoch {} (perplexity {})'.format(
            h['epoch'], 'past float64' if h['perplexity'] is None else
            '{:.1f}'.format(h['perplexity'])), 'this run', None, h['loss'], None, SHOWN))
    return out


def samples_at(record, iteration):
    """The run's samples printed at iteration, in order."""
    return [s['text'] for s in record.get('samples') or [] if s['iteration'] == iteration]


def compare_samples(record, published):
    """The run's samples beside the published ones, at every iteration a source printed.

    Returns a list of (iteration, texts, table): first the run's final
    samples (its last evaluation) beside the sources' final samples, then
    for each iteration where a source printed samples in its log, the run's
    samples at that iteration (none if it did not get there). table holds
    (source, published texts, how many match word for word, how many given).
    Recipe 02 prints no samples: none.
    """
    if published['recipe'] == SPAM:
        return []
    samples = record.get('samples') or []
    last = samples[-1]['iteration'] if samples else None
    groups = [(None, last)] + [(i, i) for i in sorted(
        {e['iteration'] for e in published_samples(published) if 'iteration' in e})]
    out = []
    for at, iteration in groups:
        texts = samples_at(record, iteration) if iteration is not None else []
        table = []
        for entry in published_samples(published):
            if entry.get('iteration') != at:
                continue
            pub = entry['texts']
            matches = sum(1 for a, b in zip(pub, texts)
                          if a is not None and a.split() == b.split())
            source = entry['source'] + (', seed {}, iteration {}'.format(
                entry['seed'], entry.get('final_iteration')) if 'seed' in entry
                else '')  # a measured reference's: each seed's
            table.append((source, pub, matches, sum(1 for a in pub if a is not None)))
        out.append((iteration, texts, table))
    return out


def samples_heading(k, iteration, what='samples'):
    if k == 0:
        return 'Final {}, this run (iteration {})'.format(what, iteration)
    return 'Samples at iteration {}, where a source printed some'.format(iteration)


def status(rows):
    """The exit status of a comparison: SOME_OUTSIDE, NOTHING_JUDGED or ALL_INSIDE."""
    if any(r.verdict == OUTSIDE for r in rows):
        return SOME_OUTSIDE
    if not any(r.verdict == INSIDE for r in rows):
        return NOTHING_JUDGED
    return ALL_INSIDE


def verdicts_json(record, rows, code, published=None, first_line=None):
    """What a CI job reads (--json): the reference, every row's verdict, and the
    exit status."""
    reference = None if published is None else {
        'file': published.get('file'), 'line': first_line,
        'kind': published.get('kind', 'published'),
        'of_the_runs_text': published['recipe'] in (SIAMESE, SPAM) or same_text(record,
                                                                                 published),
        'text_sha256': text_sha256(published),
        'configuration': (published.get('configuration') or {}).get('name')}
    return {'recipe': record.get('recipe'), 'reference': reference, 'exit_status': code,
            'judged': sum(r.verdict in (INSIDE, OUTSIDE) for r in rows),
            'outside': sum(r.verdict == OUTSIDE for r in rows),
            'rows': [{'figure': r.figure.strip(), 'source': r.source,
                      'published': r.published, 'run': r.run,
                      'band': r.band if isinstance(r.band, (int, float)) else None,
                      'verdict': r.verdict} for r in rows]}


def value_column(published):
    """The heading of the reference's values: 'published', or 'reference' for the
    project's own measured figures, which no one published."""
    return 'reference' if published.get('kind') == 'measured' else 'published'


def text_table(rows, column='published'):
    head = ['figure', 'source', column, 'this run', 'band (+/-)', 'verdict']
    lines = [[r.figure, r.source, fmt(r.published, r.digits), fmt(r.run, r.digits),
              fmt(r.band) if isinstance(r.band, float) else (r.band or ''), r.verdict]
             for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    out = ['  '.join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    out.append('  '.join('-' * w for w in widths))
    out += ['  '.join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines]
    return out


def describe_run(record, published):
    if published['recipe'] == SIAMESE:
        return describe_siamese_run(record, published)
    if published['recipe'] == SPAM:
        return describe_spam_run(record, published)
    config = run_config(record)
    corpus = record.get('corpus') or {}
    rows = record['iterations']['rows']
    graph = judged_graph(config, published)
    how = published['graphs'][graph]
    return [
        'Run: recipe {}, {} graph, seed {}, {} iterations ({}), status {}'.format(
            record.get('recipe'), graph_of(config).replace('_', ' '), record.get('seed'),
            rows[-1][0] if rows else 0,
            '{:.0f} s'.format(rows[-1][4]) if rows else 'no time', record.get('status')),
        'Text: {} (edition {}, sha256 {})'.format(
            corpus.get('source'), corpus.get('edition'),
            corpus['sha256'][:12] + '...' if corpus.get('sha256') else 'not recorded'),
        'Judged against: {}, because {}. The other sources are shown, not judged.'.format(
            how['judged_by'], how['why']) if same_text(record, published) else
        "Judged against: nothing: no figures are of this run's text. The published ones are "
        'shown.',
    ]


def describe_sources(published):
    return ['{}: {}'.format(name, text) for name, text in published['sources'].items()]


def markdown(record, published, rows, samples, figure_name, head=()):
    lines = ['# {} compared with {}'.format(
        record.get('recipe'), "this project's reference" if published.get('kind') == 'measured'
        else 'the book'), '']
    lines += ['- ' + line for line in list(head) + describe_run(record, published)]
    lines += ['', '| figure | source | {} | this run | band (+/-) | verdict |'.format(
        value_column(published)),
              '|---|---|---|---|---|---|']
    for r in rows:
        band = fmt(r.band) if isinstance(r.band, float) else (r.band or '')
        lines.append('| {} | {} | {} | {} | {} | {} |'.format(
            r.figure.strip(), r.source, fmt(r.published, r.digits), fmt(r.run, r.digits), band,
            '**{}**'.format(r.verdict) if r.verdict == OUTSIDE else r.verdict))
    lines += [''] + ['- ' + line for line in describe_sources(published)]
    what = samples_word(published)
    for k, (iteration, texts, table) in enumerate(samples):
        lines += ['', '## ' + samples_heading(k, iteration, what), '']
        if texts:
            lines.append('This run: {}'.format(' / '.join('"{}"'.format(t) for t in texts)))
        else:
            lines.append('This run printed no {}{}.'.format(what, ' there' if k else ''))
        lines.append('')
        for source, pub, matches, count in table:
            lines.append('- {}: {} ({} of {} match word for word)'.format(
                source, ' / '.join('"{}"'.format(t) if t else '(not given)' for t in pub),
                matches, count))
    lines += ['', '![{} with the published points]({})'.format(
        'loss and accuracy' if published['recipe'] in (SIAMESE, SPAM) else 'loss',
        figure_name), '',
              'Exit status {}: {}.'.format(status(rows), 'a judged figure is outside its '
                                           'band' if status(rows) else 'nothing judged '
                                           'is outside its band'), '']
    return '\n'.join(lines)


def running_mean(values, window):
    """The mean of the window of values centred on each.

    Centred, not trailing, so that on a log scale of iterations the curve
    does not lag behind the losses it summarizes; near the ends the window
    narrows on both sides alike (the first value is its own mean).
    """
    half = window // 2
    cumulative = [0.0]
    for v in values:
        cumulative.append(cumulative[-1] + v)
    out = []
    for k in range(len(values)):
        reach = min(half, k, len(values) - 1 - k)
        first, last = k - reach, k + reach + 1
        out.append((cumulative[last] - cumulative[first]) / (last - first))
    return out


def plot(record, published, run_dir, judged_any=True):
    """comparison.png in run_dir: the whole run (left, log iterations) and epoch 10 (right).

    judged_any: False when nothing could be judged; then no band is shaded and
    no source is called judged. The legends sit under the panels, so that they
    hide no point, and the axes leave a margin round every point and band.

    Both draw the raw losses faint with their running mean over a tenth of
    an epoch, and the published points; each judged figure's band is shaded
    around its published value: the early losses' on the left, the epoch-10
    mean's on the right, over the iterations it is taken from. A run with
    held-out text adds its held-out loss at each epoch's end.
    """
    if published['recipe'] == SIAMESE:
        return plot_siamese(record, published, run_dir, judged_any)
    if published['recipe'] == SPAM:
        return plot_spam(record, published, run_dir, judged_any)
    import matplotlib
    if 'MPLBACKEND' not in os.environ:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    config = run_config(record)
    rows = [r for r in record['iterations']['rows'] if r[3] is not None]
    graph = judged_graph(config, published)
    judge = published['graphs'][graph]['judged_by']
    bands = published['bands'][graph]
    num_batches = config.get('num_batches') or max(1, len(rows) // 10)
    window = max(5, min(num_batches // 10, len(rows) // 10))  # a tenth of an epoch, or of a short run
    iterations, losses = [r[0] for r in rows], [r[3] for r in rows]
    smooth = running_mean(losses, window)
    first_10, last_10 = 9 * num_batches + 1, 10 * num_batches
    fig, (whole, zoom) = plt.subplots(1, 2, figsize=(14, 5.5),
                                      gridspec_kw={'width_ratios': [3, 2]})
    for ax in (whole, zoom):
        ax.plot(iterations, losses, '-', color='0.6', lw=0.5, label='this run')
        ax.plot(iterations, smooth, 'k-', lw=1.2,
                label='this run, running mean of {} (centred)'.format(window))
    held = record.get('held_out') or []
    if held:
        whole.plot([h['iteration'] for h in held], [h['loss'] for h in held], 'D-',
                   color='tab:purple', label='this run, held-out loss')
    markers = {'book': ('o', 'tab:red'), 'notebook': ('s', 'tab:blue'),
               'faithful': ('^', 'tab:green'), 'measured': ('D', 'tab:orange')}
    # the right panel: epoch 10, or where a --tiny reference takes its last losses
    late_name = next((e['figure'] for e in published['epoch_10'] if 'figure' in e),
                     'epoch-10 mean')
    if late_name != 'epoch-10 mean':
        first_10, last_10 = min(e['first_iteration'] for e in published['epoch_10']), \
            max(e['last_iteration'] for e in published['epoch_10'])
    in_10 = [v for i, v in zip(iterations, smooth) if first_10 <= i <= last_10]
    spans = [(first_10, last_10)]
    for source, (marker, colour) in markers.items():
        for same_graph in (True, False):  # another graph's points: hollow, shown only
            def here(e):
                return e['source'] == source and applies(e, graph) == same_graph
            judged = judged_any and same_graph and source == judge
            early = [(e['iteration'], e['loss']) for e in published['losses'] if here(e)]
            late = []
            for e in published['epoch_10']:
                if not here(e):
                    continue
                printed = e.get('printed', {})
                late += [(int(k), v) for k, v in printed.items()]
                if 'first_iteration' in e:
                    span = (e['first_iteration'], e['last_iteration'])
                elif printed:
                    span = (min(map(int, printed)), max(map(int, printed)))
                else:
                    span = (first_10, last_10)
                mean = e['mean'] if 'mean' in e else statistics.mean(printed.values())
                in_10 += list(printed.values()) + [mean]
                spans.append(span)
                zoom.hlines(mean, *span, colors=colour, linestyles='--' if same_graph else ':',
                            label='{} {}{}'.format(
                                source, e.get('figure', 'epoch-10 mean'),
                                '' if same_graph else ' ({})'.format(e['graph'])))
                if judged:
                    b = bands['epoch_10_mean']
                    in_10 += [mean - b, mean + b]
                    zoom.fill_between(span, mean - b, mean + b, color=colour, alpha=0.15,
                                      label='{} mean +/- {} (judged)'.format(source, b))
            if judged:
                for i, v in early:
                    b = bands['loss'][str(i)]
                    whole.fill_between([i * 0.85, i * 1.15], v - b, v + b, color=colour,
                                       alpha=0.2, lw=0)
            if not early + late:
                continue
            graphs = {e.get('graph') for e in published['losses'] + published['epoch_10']
                      if here(e)} - {None}
            label = '{}{}, {}'.format(
                source, '' if same_graph else ' ({})'.format(', '.join(sorted(graphs))),
                'judged (band shaded)' if judged else 'shown')
            style = dict(linestyle='none', marker=marker, color=colour,
                         markerfacecolor=colour if same_graph else 'none')
            whole.plot(*zip(*sorted(early + late)), label=label, **style)
            if late:
                zoom.plot(*zip(*sorted(late)), **style)
    whole.set_xscale('log')  # the early published iterations stay visible
    whole.set_xlabel('Iteration')
    whole.set_ylabel('Loss')
    whole.set_title('{}: this run and the {} losses'.format(
        record.get('recipe'), 'reference' if published.get('kind') == 'measured'
        else 'published'))
    whole.legend(fontsize='small', loc='upper left', bbox_to_anchor=(0, -0.14))
    # the run's epoch 10 and every published epoch-10 span, with a margin
    low, high = min(a for a, _ in spans), max(b for _, b in spans)
    zoom.set_xlim(low - 0.04 * (high - low) - 1, high + 0.04 * (high - low) + 1)
    if in_10:  # the running mean and the published figures; raw losses may leave the frame
        margin = 0.2 * (max(in_10) - min(in_10)) + 0.05
        zoom.set_ylim(min(in_10) - margin, max(in_10) + margin)
    place = 'Epoch 10' if late_name == 'epoch-10 mean' else 'The last printed losses'
    zoom.set_xlabel('Iteration ({})'.format(place.lower()))
    zoom.set_title('{}, each judged band shaded'.format(place) if judged_any else
                   '{} (nothing judged: no band)'.format(place))
    zoom.legend(fontsize='small', loc='upper left', bbox_to_anchor=(0, -0.14))
    return save_figure(fig, run_dir)


def save_figure(fig, run_dir):
    """fig as comparison.png in run_dir, the legends under the panels kept; its path."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format='png', bbox_inches='tight')
    plt.close(fig)
    run_folder.write_file(run_dir, FIGURE_FILE, image.getvalue())
    return Path(run_dir) / FIGURE_FILE


# The bands: 3 x sqrt(2) x the seed-to-seed standard deviation of a figure.
# A published figure is one seed's draw and so is a run's; their difference
# has sqrt(2) times the spread of either, and 3 of its SDs hold 99.7% of it.
BAND_SDS = 3 * 2 ** 0.5
POOL = 10  # iterations pooled around a published one for its loss SD


def band(sd):
    """The band's half-width for a seed-to-seed SD, rounded up to 0.01."""
    return math.ceil(round(BAND_SDS * sd * 100, 6)) / 100


def pooled_loss_sd(losses, i, reached):
    """The seed-to-seed SD of the loss at iteration i: the variance across runs
    (each {iteration: loss}) pooled over the POOL iterations from i - POOL/2 + 1,
    or over the last POOL the runs reached, for an i beyond them."""
    first = max(min(i - POOL // 2 + 1, reached - POOL + 1), 1)
    return statistics.mean(statistics.variance([l[j] for l in losses])
                           for j in range(first, first + POOL)) ** 0.5


def spread(records, published):
    """Seed-to-seed SDs, and the bands they give, from seeded runs of one graph.

    The runs are alike but for their seed (shortened runs will do). The SD of
    the loss at a published iteration i pools the variance across seeds of
    the losses at the POOL iterations from i - POOL/2 + 1 on (or the last
    POOL the runs reached, for an iteration beyond them). The SD of the
    epoch-10 mean adds two parts in quadrature: across seeds, the SD of the
    mean of each run's last printed losses (as many as the source prints, or
    all the runs have); within a run, how much a mean of that many printed
    losses moves inside epoch 10, from the runs given that finished it.
    """
    graphs = {graph_of(r['config']) for r in records}
    if len(records) < 2 or len(graphs) != 1:
        raise CompareError('--spread needs two or more runs of one graph.')
    graph = graphs.pop()
    if graph == 'siamese':
        return spread_siamese(records, published)
    if graph in SPAM_GRAPHS:
        return spread_spam(records, published)
    short = [len(r['iterations']['rows']) for r in records if len(r['iterations']['rows']) < POOL]
    if short:
        raise CompareError('--spread: a run has {} iterations; each needs at least {}.'.format(
            short[0], POOL))
    losses = [{row[0]: row[3] for row in r['iterations']['rows']} for r in records]
    reached = min(max(l) for l in losses)
    result = {'graph': graph, 'seeds': [r.get('seed') for r in records],
              'iterations': reached, 'loss_sd': {}, 'loss': {}}
    for i in sorted({e['iteration'] for e in published['losses'] if applies(e, graph)}):
        sd = pooled_loss_sd(losses, i, reached)
        result['loss_sd'][str(i)] = sd
        result['loss'][str(i)] = band(sd)
    counts = [e.get('count', len(e.get('printed', {}))) for e in published['epoch_10']
              if applies(e, graph) and e['source'] == published['graphs'][graph]['judged_by']]
    source_n = max(counts or [1])
    printed = [j for j in range(10, reached + 1, 10)]
    n = min(source_n, len(printed))
    across = statistics.stdev([statistics.mean(l[j] for j in printed[-n:]) for l in losses])
    # Within a run: how much a mean of source_n consecutive printed losses
    # moves inside epoch 10 (from the runs given that finished epoch 10)
    within = []
    for r, l in zip(records, losses):
        num_batches = r['config'].get('num_batches')
        if not num_batches or max(l) < 10 * num_batches:
            continue
        epoch_10 = [l[j] for j in range(10 * ((9 * num_batches) // 10 + 1),
                                        10 * num_batches + 1, 10)]
        if len(epoch_10) >= 2 * source_n:  # the SD of block means
            within.append(statistics.stdev(
                [statistics.mean(epoch_10[k:k + source_n])
                 for k in range(0, len(epoch_10) - source_n + 1, source_n)]))
        else:  # one block an epoch: the SD of a mean of source_n losses
            within.append(statistics.stdev(epoch_10) / source_n ** 0.5)
    within_sd = statistics.mean(within) if within else 0.0
    sd = (across ** 2 + within_sd ** 2) ** 0.5
    result['epoch_10_mean_printed_losses'] = n
    result['epoch_10_mean_sd_across_seeds'] = across
    result['epoch_10_mean_sd_within_epoch_10'] = within_sd if within else None
    result['epoch_10_mean_sd'] = sd
    result['epoch_10_mean'] = band(sd)
    return result


# ---- recipe 06, the Siamese address matcher: metrics lines and matches

# Its notebooks print 'Training Metrics, Batch {b}: Loss=..., Accuracy=...'
# every LINE_EVERY batches, after batch b (iteration b + 1 of the record).
# One line moves a lot from seed to seed (a batch of 200 new pairs, and a model
# that wobbles from batch to batch), so a line alone is shown beside its band,
# and what is judged is the mean of POOL_LINES neighbouring lines: batches
# 0-90, 100-190 and 200-290 of the book's 300 (docs/checking-a-run.md says
# how often a faithful run would fail either way).
LINE_EVERY = 10
POOL_LINES = 10
METRICS = (('loss', 3), ('accuracy', 5))  # each a column of the record's rows
BEYOND = SHOWN + ': beyond its band'
WITHIN = SHOWN + ': inside its band'


def published_samples(published):
    """The published final samples: recipe 06's are its matches."""
    return published['matches'] if published['recipe'] == SIAMESE else published['samples']


def samples_word(published):
    return 'matches' if published['recipe'] == SIAMESE else 'samples'


def with_queries(published, texts):
    """Recipe 06's matches, each after its query; another recipe's samples as they are."""
    if published['recipe'] != SIAMESE:
        return texts
    return ['{} -> {}'.format(q, t if t is not None else '(not given)')
            for q, t in zip(published['queries'], texts)]


def published_lines(published, source):
    """A notebook's printed lines: [batch, loss, accuracy] in order of batch."""
    [entry] = [e for e in published['lines'] if e['source'] == source]
    return sorted(entry['rows'])


def line_values(record):
    """The run's values at each printed batch: {batch: (loss, accuracy)}, either
    None where the record has none (a loss that was not finite)."""
    out = {}
    for row in record['iterations']['rows']:
        batch = row[0] - 1
        if batch % LINE_EVERY == 0:
            out[batch] = tuple(row[col] if len(row) > col else None for _, col in METRICS)
    return out


def pools(batches):
    """The printed batches in blocks of POOL_LINES: [(first, last, batches)]; a
    last block of fewer lines where the lines run out."""
    batches = sorted(batches)
    return [(block[0], block[-1], block) for block in
            (batches[k:k + POOL_LINES] for k in range(0, len(batches), POOL_LINES))]


def settings_that_differ(record, published):
    """The run's compared settings that are not the reference's, in words; ''."""
    config = run_config(record)
    if published['recipe'] == SPAM:
        reasons = spam_reasons(record, config, published, graph_of(config))
        return next((r for r in reasons if r.startswith('other settings')), '')
    return other_settings(config, published)


def differing(config, published):
    """The run's compared settings that are not the reference's: {name: the run's}."""
    return {k: config.get(k) for k, v in book_settings(published).items()
            if config.get(k) != v}


def other_settings(config, published):
    """Why a run's settings are not the book's: '' when they are."""
    other = differing(config, published)
    if not other:
        return ''
    return 'other settings ({})'.format(', '.join(
        '{} {}'.format(k, v) for k, v in sorted(other.items())))


def compare_siamese(record, published, despite_settings=False):
    """Recipe 06's rows: each printed line's loss and accuracy (shown, with its
    band), the means of neighbouring lines (judged), each match (shown) and how
    many of the matches are the book's (judged: at least matches_at_least)."""
    config = run_config(record)
    how = published['graphs']['siamese']
    judge, match_judge = how['judged_by'], how['matches_judged_by']
    bands = published['bands']['siamese']
    rows = record['iterations']['rows']
    reached = rows[-1][0] if rows else 0
    run_lines = line_values(record)
    reason = '' if despite_settings else other_settings(config, published)

    def verdict(inside, reached_it):
        if reason:
            return NOT_COMPARABLE + reason
        if not reached_it:
            return 'not reached (the run stopped at iteration {})'.format(reached)
        return INSIDE if inside else OUTSIDE

    def near(run_value, value, band):
        return run_value is not None and abs(run_value - value) <= band

    out = []
    lines = published_lines(published, judge)
    for batch, *values in lines:
        run_values = run_lines.get(batch)
        for k, ((metric, _), value) in enumerate(zip(METRICS, values)):
            band = bands[metric][str(batch)]
            run_value = None if run_values is None else run_values[k]
            shown = SHOWN if reason or run_values is None else (
                WITHIN if near(run_value, value, band) else BEYOND)
            out.append(Row('{} at batch {}'.format(metric, batch), judge, value, run_value,
                           band, shown, digits=3))
    for first, last, block in pools([batch for batch, *_ in lines]):
        reached_it = all(b in run_lines for b in block)
        for k, (metric, _) in enumerate(METRICS):
            value = statistics.mean(values[k] for batch, *values in lines if batch in block)
            run_values = [run_lines[b][k] for b in block if b in run_lines]
            run_mean = statistics.mean(run_values) if reached_it and None not in run_values \
                else None
            band = bands['pooled'][metric][str(first)]
            out.append(Row('mean {} of batches {}-{} ({} lines)'.format(
                metric, first, last, len(block)), judge, value, run_mean, band,
                verdict(near(run_mean, value, band), reached_it), digits=3))
    # The matches: found after the last batch. Each is shown beside the book's; what
    # is judged is how many are the book's, at least how['matches_at_least'] (the
    # fewest a seeded run of the book's settings, or the author's notebooks, found)
    last = [s for s in record.get('samples') or [] if s['iteration'] == config['n_batches']]
    found = {s['prime']: s['text'] for s in last}
    [book] = [e for e in published['matches'] if e['source'] == match_judge]
    for query, match in zip(published['queries'], book['texts']):
        run_match = found.get(query)
        shown = SHOWN if reason or not last else (WITHIN if run_match == match else BEYOND)
        out.append(Row('match of "{}"'.format(query), match_judge, match, run_match, 'exact',
                       shown))
    least = how['matches_at_least']
    same = sum(found.get(q) == m for q, m in zip(published['queries'], book['texts']))
    out.append(Row('matches that are the {}\'s'.format(match_judge), match_judge,
                   len(book['texts']), same if last else None,
                   'at least {}'.format(least), verdict(same >= least, bool(last))))
    return out


def describe_siamese_run(record, published):
    config = run_config(record)
    rows = record['iterations']['rows']
    how = published['graphs']['siamese']
    reason = other_settings(config, published)
    return [
        'Run: recipe {}, seed {}, {} of {} batches ({}), status {}'.format(
            record.get('recipe'), record.get('seed'), rows[-1][0] if rows else 0,
            config.get('n_batches'), '{:.0f} s'.format(rows[-1][4]) if rows else 'no time',
            record.get('status')),
        'Settings: {}'.format(reason or "the book's"),
        'Judged against: the metrics lines of {}, because {}; the matches of the {}, '
        'because {}. Each line is shown beside its band; the mean of {} neighbouring lines '
        'is judged, because one line alone moves too much from seed to seed. The other '
        'sources are shown, not judged.'.format(how['judged_by'], how['why'],
                                                how['matches_judged_by'], how['matches_why'],
                                                POOL_LINES),
    ]


def plot_siamese(record, published, run_dir, judged_any=True):
    """comparison.png for recipe 06: the run's loss (left) and accuracy (right) at
    every batch, faint, and at its printed lines, beside each notebook's printed
    lines; the judging notebook's band shaded around its lines, and its pooled
    means with their bands over the batches they are taken from."""
    import matplotlib
    if 'MPLBACKEND' not in os.environ:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    how = published['graphs']['siamese']
    judge = how['judged_by']
    bands = published['bands']['siamese']
    rows = record['iterations']['rows']
    run_lines = line_values(record)
    fig, panels = plt.subplots(1, 2, figsize=(14, 5.5))
    colours = ['tab:red', 'tab:orange', 'tab:green', 'tab:blue', 'tab:purple']
    markers = ['o', '^', 'v', 's', 'D']
    for k, (ax, (metric, col)) in enumerate(zip(panels, METRICS)):
        every = [(r[0] - 1, r[col]) for r in rows if len(r) > col and r[col] is not None]
        if every:
            ax.plot(*zip(*every), '-', color='0.7', lw=0.5, label='this run, every batch')
        printed = sorted((b, v[k]) for b, v in run_lines.items() if v[k] is not None)
        if printed:
            ax.plot(*zip(*printed), 'k.-', lw=1.2, label='this run, printed lines')
        for n, entry in enumerate(published['lines']):
            source = entry['source']
            points = [(b, values[k]) for b, *values in sorted(entry['rows'])]
            judged = judged_any and source == judge
            style = dict(linestyle='none', marker=markers[n % len(markers)],
                         color=colours[n % len(colours)])
            if not judged:
                style['markerfacecolor'] = 'none'
            ax.plot(*zip(*points), label='notebook {}, {}'.format(
                source, 'judged' if judged else 'shown'), **style)
            if not judged:
                continue
            xs, ys = zip(*points)
            b = [bands[metric][str(x)] for x in xs]
            ax.fill_between(xs, [y - w for y, w in zip(ys, b)], [y + w for y, w in zip(ys, b)],
                            color=style['color'], alpha=0.1, lw=0,
                            label='{}, each line +/- its band (shown)'.format(source))
            for n_block, (first, last, block) in enumerate(pools(xs)):
                mean = statistics.mean(y for x, y in points if x in block)
                w = bands['pooled'][metric][str(first)]
                ax.hlines(mean, first, last, colors=style['color'], linestyles='--')
                ax.fill_between([first, last], mean - w, mean + w, color=style['color'],
                                alpha=0.3, lw=0, label=None if n_block else
                                '{}, mean of {} lines +/- its band (judged)'.format(
                                    source, POOL_LINES))
                mine = [run_lines[x][k] for x in block if x in run_lines]
                if len(mine) == len(block) and None not in mine:
                    ax.hlines(statistics.mean(mine), first, last, colors='k', lw=2,
                              label=None if n_block else 'this run, mean of {} lines'.format(
                                  POOL_LINES))
        ax.set_xlabel('Batch')
        ax.set_ylabel(metric.capitalize())
        ax.set_title('{}: this run and the notebooks{}'.format(
            metric.capitalize(), ", {}'s means of {} lines judged".format(judge, POOL_LINES)
            if judged_any else ' (nothing judged)'))
        ax.legend(fontsize='small', loc='upper left', bbox_to_anchor=(0, -0.16))
    matches = [r for r in compare_siamese(record, published) if r.figure.startswith('match of')]
    fig.suptitle('{}, seed {}: {} of {} final matches are the {}\'s'.format(
        record.get('recipe'), record.get('seed'), sum(r.run == r.published for r in matches),
        len(matches), how['matches_judged_by']))
    return save_figure(fig, run_dir)


def spread_siamese(records, published):
    """spread() for recipe 06: the seed-to-seed SD of each printed line's loss and
    accuracy, pooled over the POOL iterations around it as spread() pools
    them, and the SD across seeds of each mean of POOL_LINES lines; the bands
    they give; and, with those bands, what each run would be judged outside
    against the judging notebook: with the bands of all the runs, and with the
    bands of the others alone (leave one out, as a new run is judged)."""
    runs = [r for r in records if len(r['iterations']['rows']) < POOL]
    if runs:
        raise CompareError('--spread: a run has {} iterations; each needs at least {}.'.format(
            len(runs[0]['iterations']['rows']), POOL))
    config = run_config(records[0])
    short = [(len(r['iterations']['rows']), r.get('seed')) for r in records
             if len(r['iterations']['rows']) != config.get('n_batches')]
    if short or len({run_config(r).get('n_batches') for r in records}) > 1:
        raise CompareError('--spread: the runs of recipe 06 must each train all the batches of '
                           'one configuration ({}); give whole runs that differ in their seed '
                           'alone.'.format(
                               'seed {} has {} of {}'.format(short[0][1], short[0][0],
                                                             config.get('n_batches'))
                               if short else 'their --n-batches differ'))
    result = siamese_bands(records)
    judge = published['graphs']['siamese']['judged_by']
    result['judged_by'] = judge

    def outside(record, bands):
        bands = dict(bands, pooled={m: bands['pooled_' + m] for m, _ in METRICS})
        figures = dict(published, bands={'siamese': bands})
        return [r.figure for r in compare_siamese(record, figures) if r.verdict == OUTSIDE]
    result['outside'] = {str(r.get('seed')): outside(r, result) for r in records}
    if len(records) > 2:
        result['outside_leave_one_out'] = {
            str(r.get('seed')): outside(r, siamese_bands(records[:k] + records[k + 1:]))
            for k, r in enumerate(records)}
    return result


def siamese_bands(records):
    values = [line_values(r) for r in records]
    rows = [{row[0]: row for row in r['iterations']['rows']} for r in records]
    reached = min(max(r) for r in rows)
    printed = [b for b in range(0, reached, LINE_EVERY)]
    result = {'graph': 'siamese', 'seeds': [r.get('seed') for r in records],
              'iterations': reached}
    for metric, col in METRICS:
        sds = {}
        for batch in printed:
            i = batch + 1
            first = max(min(i - POOL // 2 + 1, reached - POOL + 1), 1)
            sds[str(batch)] = statistics.mean(
                statistics.variance([r[j][col] for r in rows]) for j in range(
                    first, first + POOL)) ** 0.5
        result[metric + '_sd'] = sds
        result[metric] = {b: band(sd) for b, sd in sds.items()}
    for k, (metric, _) in enumerate(METRICS):
        sds = {str(first): statistics.stdev(statistics.mean(v[b][k] for b in block)
                                            for v in values)
               for first, last, block in pools(printed)}
        result['pooled_{}_sd'.format(metric)] = sds
        result['pooled_{}'.format(metric)] = {b: band(sd) for b, sd in sds.items()}
    result['pooled_lines'] = POOL_LINES
    return result


# ---- recipe 02, the RNN spam classifier: each epoch's test loss and accuracy

# Its script prints 'Epoch: {}, Test Loss: {:.2}, Test Acc: {:.2}' after each
# epoch: two significant digits. A run's figure is rounded the same way before
# it is set beside a printed one, and the bands were measured on figures so
# rounded, so that they hold the rounding of both. One epoch alone is shown
# beside its band; what is judged is the mean of the epochs a source printed
# in each span of POOL_EPOCHS (1-5, 6-10, ...; the book printed epochs 1, 2,
# 19 and 20, so its means are of 1-2 and of 19-20): an epoch where one seed's
# model wobbles is smoothed out (docs/checking-a-run.md says how often a
# faithful run would fail either way). The graph says which source judges:
# the book the printed code (a softmax, then the loss's own), the author's
# notebooks the corrected one (--single-softmax); the run's epochs say which
# notebook (a2ca9e7 ran 20, 4111ba8 50).
SPAM_GRAPHS = ('double_softmax', 'single_softmax')
SPAM_METRICS = ('loss', 'accuracy')  # each a value of an epoch's held_out entry
POOL_EPOCHS = 5
PRINTED_AS = '{:.2}'


def as_printed(value):
    """value as the recipe prints it: two significant digits; None stays None."""
    return None if value is None else float(PRINTED_AS.format(value))


def printed_decimals(value):
    """The decimals that show two significant digits of value (0.46: 2, 0.097: 3)."""
    if not value:
        return 2
    return max(2, 1 - math.floor(math.log10(abs(value))))


def epoch_values(record):
    """The run's figures after each epoch, as printed: {epoch: (loss, accuracy)},
    either None where the record has none (a loss that was not finite)."""
    return {h['epoch']: tuple(as_printed(h.get(m)) for m in SPAM_METRICS)
            for h in record.get('held_out') or []}


def epochs_done(values):
    """How many epochs from the first the run has figures for, without a gap."""
    n = 0
    while n + 1 in values:
        n += 1
    return n


def epoch_spans(epochs):
    """The printed epochs in each span of POOL_EPOCHS: [(first, last, epochs)]."""
    spans = {}
    for epoch in sorted(epochs):
        spans.setdefault((epoch - 1) // POOL_EPOCHS, []).append(epoch)
    return [(block[0], block[-1], block) for _, block in sorted(spans.items())]


def span_name(first, last):
    return '{}-{}'.format(first, last)


def published_epochs(published, source):
    """A source's printed epochs: {epoch: (loss, accuracy)}."""
    [entry] = [e for e in published['epochs'] if e['source'] == source]
    return {epoch: (loss, accuracy) for epoch, loss, accuracy in entry['rows']}


def spam_judge(published, graph, epochs):
    """The source that judges a run of graph that trained so many epochs; without
    one (another number of epochs), the source of the book's number, shown."""
    judged_by = published['graphs'][graph]['judged_by']
    return judged_by.get(str(epochs)) or judged_by[str(book_settings(published)['epochs'])]


def spam_collection(record):
    """The collection the run read, as its run folder describes it."""
    corpus = record.get('corpus') or record['config'].get('corpus')
    return corpus if isinstance(corpus, dict) else {}


def spam_reasons(record, config, published, graph, despite_settings=False):
    """Why a run of recipe 02 cannot be judged: [] when it can. single_softmax
    picks the graph and epochs the notebook (20 or 50); every other compared
    setting must be the book's, and the collection the published one."""
    book = book_settings(published)
    other = {k: config.get(k) for k, v in book.items()
             if k not in ('single_softmax', 'epochs') and config.get(k) != v}
    if str(config.get('epochs')) not in published['graphs'][graph]['judged_by']:
        other['epochs'] = config.get('epochs')
    reasons = []
    if other and not despite_settings:
        reasons.append('other settings ({})'.format(', '.join(
            '{} {}'.format(k, v) for k, v in sorted(other.items()))))
    if spam_collection(record).get('sha256') not in published['collections'].values():
        reasons.append('another copy of the collection')
    return reasons


def spam_counts(record, config):
    """The vocabulary size and the 80-20 split: the split follows from the number
    of messages the run read, as the recipe cuts it (int(0.8 n) to train)."""
    messages = spam_collection(record).get('messages')
    train = int(messages * 0.80) if isinstance(messages, int) else None
    return {'vocab_size': config.get('vocab_size'), 'train_messages': train,
            'test_messages': None if train is None else messages - train}


def compare_spam(record, published, despite_settings=False):
    """Recipe 02's rows: the vocabulary and the split (exact), each printed
    epoch's test loss and accuracy (shown, with its band) and the means of the
    printed epochs in each span of POOL_EPOCHS (judged, but where the graph
    shows them only), against the source of the run's graph and epochs. An
    epoch without a band (a --spread of shorter runs) is shown, not judged."""
    config = run_config(record)
    graph = graph_of(config)
    how = published['graphs'][graph]
    judge = spam_judge(published, graph, config.get('epochs'))
    bands = published['bands'][graph]
    reasons = spam_reasons(record, config, published, graph, despite_settings)
    run = epoch_values(record)
    reached = epochs_done(run)
    shown_only = set(how.get('shown_epochs', []))

    def verdict(inside, reached_it=True):
        if reasons:
            return NOT_COMPARABLE + ' and '.join(reasons)
        if not reached_it:
            return 'not reached (the run stopped after epoch {})'.format(reached)
        return INSIDE if inside else OUTSIDE

    def shown(run_value, value, band, reached_it=True):
        if reasons or not reached_it or band is None:
            return SHOWN
        return WITHIN if near(run_value, value, band) else BEYOND

    def near(run_value, value, band):
        # the printed figures are multiples of 0.01 (or 0.001): no float residue decides
        return run_value is not None and round(abs(run_value - value), 9) <= band

    out = []
    facts = spam_counts(record, config)
    for entry in published['counts']:
        run_value = facts[entry['key']]
        out.append(Row(entry['figure'], '/'.join(entry['sources']), entry['value'],
                       run_value, 'exact', verdict(run_value == entry['value'])))
    lines = published_epochs(published, judge)
    for epoch, values in sorted(lines.items()):
        for k, (metric, value) in enumerate(zip(SPAM_METRICS, values)):
            band = bands[metric].get(str(epoch))
            run_value = run[epoch][k] if epoch in run else None
            out.append(Row('test {} at epoch {}'.format(metric, epoch), judge, value,
                           run_value, band, shown(run_value, value, band, epoch in run),
                           digits=printed_decimals(value)))
    for first, last, block in epoch_spans(lines):
        reached_it = block[-1] <= reached
        for k, metric in enumerate(SPAM_METRICS):
            value = statistics.mean(lines[e][k] for e in block)
            run_values = [run[e][k] for e in block if e in run]
            run_mean = statistics.mean(run_values) if reached_it and None not in run_values \
                else None
            band = bands['pooled'][metric].get(span_name(first, last))
            judged = band is not None and not shown_only.intersection(block)
            out.append(Row('mean test {} of epochs {}'.format(metric, span_name(first, last)),
                           judge, value, run_mean, band,
                           verdict(near(run_mean, value, band), reached_it) if judged
                           else shown(run_mean, value, band, reached_it), digits=3))
    return out


def describe_spam_run(record, published):
    config = run_config(record)
    rows = record['iterations']['rows']
    graph = graph_of(config)
    how = published['graphs'][graph]
    epochs = config.get('epochs')
    judge = spam_judge(published, graph, epochs)
    reasons = spam_reasons(record, config, published, graph)
    collection = spam_collection(record)
    others = [e['source'] for e in published['epochs'] if e['source'] != judge]
    shown_only = how.get('shown_epochs', [])
    return [
        'Run: recipe {}, {} graph, seed {}, {} of {} epochs ({}), status {}'.format(
            record.get('recipe'), graph.replace('_', ' '), record.get('seed'),
            epochs_done(epoch_values(record)), epochs,
            '{:.0f} s'.format(rows[-1][4]) if rows else 'no time', record.get('status')),
        'Collection: {} (sha256 {}..., {} messages)'.format(
            collection.get('collection'), str(collection.get('sha256'))[:12],
            fmt(collection.get('messages'))) if collection else 'Collection: not recorded',
        'Settings: {}'.format(' and '.join(reasons) if reasons else "the book's{}".format(
            ', with the loss on the logits (--single-softmax)' if graph == 'single_softmax'
            else '')),
        'Judged against: {}, because {}. Each printed epoch is shown beside its band, the '
        "run's figure rounded as printed ({}); the mean of the printed epochs in each span "
        'of {} epochs is judged{}. The other sources ({}) are drawn in comparison.png, not '
        'judged.'.format(
            source_name(judge), how['why'][str(epochs)] if str(epochs) in how['why']
            else how['why'][str(book_settings(published)['epochs'])],
            PRINTED_AS, POOL_EPOCHS,
            ', but for epochs {} (shown: {})'.format(
                span_name(min(shown_only), max(shown_only)), how['shown_why'])
            if shown_only else '', ', '.join(source_name(s) for s in others)),
    ]


def consecutive(points):
    """points (epoch first, in order) in runs of consecutive epochs: [(first, last, run)]."""
    runs = []
    for point in points:
        if runs and point[0] == runs[-1][-1][0] + 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return [(run[0][0], run[-1][0], run) for run in runs]


def source_name(source):
    return 'the book' if source == 'book' else source


def plot_spam(record, published, run_dir, judged_any=True):
    """comparison.png for recipe 02: the run's test loss (left) and accuracy
    (right) after each epoch, its training figures faint, beside every
    source's printed epochs; the judging source's bands shaded around its
    epochs (light) and around its means (darker, over the epochs they are
    taken from), the run's means drawn in black."""
    import matplotlib
    if 'MPLBACKEND' not in os.environ:
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    config = run_config(record)
    graph = graph_of(config)
    judge = spam_judge(published, graph, config.get('epochs'))
    bands = published['bands'][graph]
    shown_only = set(published['graphs'][graph].get('shown_epochs', []))
    held = record.get('held_out') or []
    run = epoch_values(record)
    fig, panels = plt.subplots(1, 2, figsize=(14, 5.5))
    styles = {'book': ('o', 'tab:red'), 'a2ca9e7': ('s', 'tab:blue'),
              '4111ba8': ('^', 'tab:green')}
    for k, (ax, metric) in enumerate(zip(panels, SPAM_METRICS)):
        # a band is drawn as far as the figure can go: a loss from 0, an accuracy 0 to 1
        def low(y):
            return max(y, 0.0)

        def high(y, top=1.0 if metric == 'accuracy' else math.inf):
            return min(y, top)
        train = [(h['epoch'], h.get('train_' + metric)) for h in held
                 if h.get('train_' + metric) is not None]
        if train:
            ax.plot(*zip(*train), '--', color='0.6', lw=0.8,
                    label='this run, training (last batch)')
        test = [(h['epoch'], h.get(metric)) for h in held if h.get(metric) is not None]
        if test:
            ax.plot(*zip(*test), 'k.-', lw=1.2, label='this run, test')
        for n, entry in enumerate(published['epochs']):
            source = entry['source']
            marker, colour = styles.get(source, ('D', 'tab:purple'))
            points = sorted((e, values[k]) for e, *values in entry['rows'])
            same_graph = entry['graph'] == graph
            judged = judged_any and source == judge
            style = dict(linestyle='none', marker=marker, color=colour)
            if not judged:
                style['markerfacecolor'] = 'none'
            ax.plot(*zip(*points), label='{}{}, {}'.format(
                source, '' if same_graph else ' ({})'.format(entry['graph'].replace('_', ' ')),
                'judged' if judged else 'shown'), **style)
            if not judged:
                continue
            # each epoch's band, shaded over each run of consecutive printed epochs
            # (the book's 1-2 and 19-20 apart), a little beyond its ends
            banded = [(x, y, bands[metric][str(x)]) for x, y in points
                      if str(x) in bands[metric]]
            for n_run, (_, _, segment) in enumerate(consecutive(banded)):
                segment = [(segment[0][0] - 0.3,) + segment[0][1:]] + segment + [
                    (segment[-1][0] + 0.3,) + segment[-1][1:]]
                ax.fill_between([x for x, _, _ in segment],
                                [low(y - w) for _, y, w in segment],
                                [high(y + w) for _, y, w in segment], color=colour,
                                alpha=0.1, lw=0, label=None if n_run else
                                '{}, each epoch +/- its band (shown)'.format(source))
            labelled = set()
            for first, last, block in epoch_spans(x for x, _ in points):
                w = bands['pooled'][metric].get(span_name(first, last))
                if w is None:
                    continue
                mean = statistics.mean(y for x, y in points if x in block)
                span = [first - 0.3, last + 0.3]  # a span of one or two epochs stays visible
                judged_pool = not shown_only.intersection(block)
                ax.hlines(mean, *span, colors=colour, linestyles='--')
                ax.fill_between(span, low(mean - w), high(mean + w), color=colour,
                                alpha=0.3 if judged_pool else 0.15, lw=0,
                                label=None if judged_pool in labelled else
                                '{}, mean of the epochs in each span of {} +/- its band '
                                '({})'.format(source, POOL_EPOCHS,
                                              'judged' if judged_pool else 'shown'))
                labelled.add(judged_pool)
                mine = [run[x][k] for x in block if x in run]
                if len(mine) == len(block) and None not in mine:
                    ax.hlines(statistics.mean(mine), *span, colors='k', lw=2)
        ax.set_xlabel('Epoch')
        ax.set_ylabel('Test ' + metric)
        ax.set_title('Test {}: this run and the published epochs{}'.format(
            metric, ", {}'s means judged".format(judge) if judged_any else ' (nothing judged)'))
        ax.legend(fontsize='small', loc='upper left', bbox_to_anchor=(0, -0.16))
    fig.suptitle('{}, {} graph, seed {}'.format(
        record.get('recipe'), graph.replace('_', ' '), record.get('seed')))
    return save_figure(fig, run_dir)


def spread_spam(records, published):
    """spread() for recipe 02: the seed-to-seed SD of each epoch's test loss and
    accuracy, rounded as printed, and of the mean of the epochs each source of
    the graph printed in each span of POOL_EPOCHS; the bands they give; and,
    with those bands, what each run would be judged outside against the source
    of its epochs: with the bands of all the runs, and with the bands of the
    others alone (leave one out, as a new run is judged)."""
    graph = graph_of(records[0]['config'])
    result = spam_bands(records, published, graph)
    result['judged_by'] = published['graphs'][graph]['judged_by']

    def outside(record, bands):
        bands = dict(bands, pooled={m: bands['pooled_' + m] for m in SPAM_METRICS})
        figures = dict(published, bands={graph: bands})
        return [r.figure for r in compare_spam(record, figures) if r.verdict == OUTSIDE]
    result['outside'] = {str(r.get('seed')): outside(r, result) for r in records}
    if len(records) > 2:
        result['outside_leave_one_out'] = {
            str(r.get('seed')): outside(r, spam_bands(records[:k] + records[k + 1:],
                                                      published, graph))
            for k, r in enumerate(records)}
    return result


def spam_bands(records, published, graph):
    """The SDs and bands of spread_spam, over the epochs every run finished."""
    values = [epoch_values(r) for r in records]
    reached = min(epochs_done(v) for v in values)
    if reached < 1:
        raise CompareError('--spread: a run has no epoch\'s test figures; each needs at '
                           'least one.')
    for record, v in zip(records, values):
        for epoch in range(1, reached + 1):
            if None in v[epoch]:
                raise CompareError('--spread: the run of seed {} has no test {} after epoch '
                                   '{} (not finite); leave it out.'.format(
                                       record.get('seed'),
                                       SPAM_METRICS[v[epoch].index(None)], epoch))
    result = {'graph': graph, 'seeds': [r.get('seed') for r in records], 'epochs': reached,
              'rounded_as_printed': PRINTED_AS}
    for k, metric in enumerate(SPAM_METRICS):
        sds = {str(e): statistics.stdev(v[e][k] for v in values)
               for e in range(1, reached + 1)}
        result[metric + '_sd'] = sds
        result[metric] = {e: band(sd) for e, sd in sds.items()}
    spans = sorted({(first, last, tuple(block)) for entry in published['epochs']
                    if entry['graph'] == graph
                    for first, last, block in epoch_spans(e for e, *_ in entry['rows'])
                    if last <= reached})
    for k, metric in enumerate(SPAM_METRICS):
        sds = {span_name(first, last): statistics.stdev(
            statistics.mean(v[e][k] for e in block) for v in values)
            for first, last, block in spans}
        result['pooled_{}_sd'.format(metric)] = sds
        result['pooled_{}'.format(metric)] = {s: band(sd) for s, sd in sds.items()}
    result['pooled_epochs'] = POOL_EPOCHS
    return result


class Parser(argparse.ArgumentParser):
    """argparse's parser, but a usage error exits USAGE: its own 2 is UNREADABLE here."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(USAGE, '{}: error: {}\n'.format(self.prog, message))


def main(argv=None):
    parser = Parser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('run', metavar='RUN_DIR', nargs='+',
                        help='a run folder written by a recipe (with --spread: several)')
    parser.add_argument('--published', metavar='DIR', default=str(PUBLISHED_DIR),
                        help='where the published figures are (default: %(default)s)')
    parser.add_argument('--spread', action='store_true',
                        help='print the seed-to-seed spread of seeded runs of one graph, '
                             'and the bands it gives (how the published bands were made)')
    parser.add_argument('--json', action='store_true',
                        help='print the verdicts as JSON (every figure, its verdict, the '
                             'exit status) instead of the table, for a CI job to read')
    parser.add_argument('--judge-other-settings', action='store_true',
                        help='judge a run whose compared settings differ from the '
                             "reference's against it all the same (without it such a run "
                             'is not comparable, exit 3): to see that the check catches a '
                             'deliberate change, such as a learning rate ten times the '
                             "book's")
    args = parser.parse_args(argv)
    if args.spread and args.judge_other_settings:
        parser.error('--spread judges nothing: drop --judge-other-settings')
    if len(args.run) > 1 and not args.spread:
        parser.error('compare one run folder at a time (several only with --spread)')
    if args.spread and args.json:
        parser.error('--spread prints JSON already: drop --json')
    if args.spread and len({os.path.realpath(r) for r in args.run}) < len(args.run):
        parser.error('--spread: a run folder is given twice; give each run once')
    if not os.path.isdir(args.published):  # the user's own path: a link of theirs is followed
        raise CompareError('--published {}: {}; give the folder that holds the figures '
                           '(<recipe>.json, and measured/).'.format(
                               args.published, 'not a folder' if os.path.lexists(args.published)
                               else 'no such folder'))
    unpublished = [run for run in args.run if not has_published(run, args.published)]
    if unpublished and args.spread:
        raise CompareError('--spread: {} is a run of a recipe with no published figures; give '
                           'runs of recipe 02, 03, 04 or 06.'.format(unpublished[0]))
    if unpublished:
        name = recorded_recipe(unpublished[0])
        message = ('{}: no published figures for this recipe ({}), so nothing could be '
                   'judged: exit status {}.'.format(unpublished[0], name, NOTHING_JUDGED))
        if args.json:
            print(json.dumps({'recipe': name, 'exit_status': NOTHING_JUDGED, 'judged': 0,
                              'outside': 0, 'rows': [], 'why': 'no published figures'}))
        else:
            print(message)
        return NOTHING_JUDGED
    runs = [read_run(run, args.published) for run in args.run]
    records, published = [record for record, _ in runs], runs[0][1]
    run_dir = Path(args.run[-1])
    if args.spread:
        result = from_published(args.published, lambda: spread(records, published))
        check_one_configuration(records, args.run, published)  # after one recipe, one graph
        for line in spread_warnings(records, args.run):  # once the runs are known usable
            print('Warning: ' + line, file=sys.stderr)
        print(json.dumps(result, indent=1))
        return 0
    return from_published(args.published, lambda: report(
        records[0], published, run_dir, args.json, args.judge_other_settings,
        args.published))


def recorded_recipe(run_dir):
    """The recipe a run folder's config.json names, in today's name; None if unreadable."""
    try:
        config = safe_files.read_json(Path(run_dir) / run_folder.CONFIG_FILE)
    except (errors.RunError, OSError):
        return None
    name = config.get('recipe') if isinstance(config, dict) else None
    return FORMER_NAMES.get(name, name) if isinstance(name, str) else None


def has_published(run_dir, published_dir):
    """False for a run of a recipe of this project that has no published figures
    (the classifier); True otherwise (what cannot be read is said later)."""
    name = recorded_recipe(run_dir)
    return name not in RECIPES or Path(published_dir) != PUBLISHED_DIR or \
        safe_files.check_kind(PUBLISHED_DIR / '{}.json'.format(name)) is not None


def check_one_configuration(records, folders, published):
    """Refuse --spread's runs (CompareError) where a compared setting differs: a
    spread of seeds is of runs that differ in their seed alone (a --tiny run and a
    book run are two configurations, not two draws of one)."""
    keys = published.get('compared_settings', [])
    first = run_config(records[0])
    for folder, record in zip(folders[1:], records[1:]):
        config = run_config(record)
        differ = [k for k in keys if config.get(k) != first.get(k)]
        if differ:
            raise CompareError(
                '--spread: {} and {} differ in {} ({} against {}): give runs that differ in '
                'their seed alone.'.format(folders[0], folder, ', '.join(differ),
                                           ', '.join(str(first.get(k)) for k in differ),
                                           ', '.join(str(config.get(k)) for k in differ)))


def spread_warnings(records, folders):
    """What makes --spread's runs not a spread of seeds: a seed twice, unequal lengths."""
    seeds = [r.get('seed') for r in records]
    for seed in sorted({s for s in seeds if seeds.count(s) > 1}, key=str):
        yield 'seed {} is used by {} of the runs ({}): they are one draw, not {}.'.format(
            seed, seeds.count(seed), ', '.join(str(f) for f, s in zip(folders, seeds)
                                               if s == seed), seeds.count(seed))
    lengths = [len(r['iterations']['rows']) for r in records]
    if len(set(lengths)) > 1:
        yield 'the runs differ in length ({} iterations): the spread at an iteration uses ' \
              'only the runs that reached it.'.format(', '.join(map(str, lengths)))


def from_published(published_dir, work):
    """work(); where the published figures are the user's own (--published), a file
    of another form is said in one line, not as a stack."""
    if Path(published_dir) == PUBLISHED_DIR:  # the project's own, tested
        return work()
    try:
        return work()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise CompareError('{}: the published figures are not of the form this command '
                           'reads ({}).'.format(published_dir,
                                                command_line.first_line(err))) from None


def report(record, published, run_dir, as_json=False, despite_settings=False,
           published_dir=PUBLISHED_DIR):
    """Print the comparison (as_json: the verdicts as JSON), write comparison.png
    and .md; the exit status. The first line names the reference."""
    rows = compare(record, published, despite_settings)
    samples = compare_samples(record, published)
    code = status(rows)
    head = [reference_line(record, published, published_dir)]
    if despite_settings and (published['recipe'] in (SIAMESE, SPAM)
                             or same_text(record, published)):
        head.append('Judged despite its settings (--judge-other-settings): {}.'.format(
            settings_that_differ(record, published) or 'none differs from the reference\'s'))
    if as_json:
        plot(record, published, run_dir, code != NOTHING_JUDGED)
        run_folder.write_file(run_dir, REPORT_FILE, markdown(record, published, rows, samples,
                                                             FIGURE_FILE, head))
        print(json.dumps(verdicts_json(record, rows, code, published, head[0]), indent=1))
        return code

    for line in head + describe_run(record, published):
        print(line)
    print()
    for line in text_table(rows, value_column(published)):
        print(line)
    print()
    for line in describe_sources(published):
        print(line)
    for k, (iteration, texts, table) in enumerate(samples):
        print()
        print(samples_heading(k, iteration, samples_word(published)) + ':')
        for text in with_queries(published, texts) or ['(none printed there)']:
            print('  ' + text)
        for source, pub, matches, count in table:
            print('{} ({} of {} match word for word):'.format(source, matches, count))
            for text in with_queries(published, pub):
                print('  ' + (text if text is not None else '(not given)'))
    figure = plot(record, published, run_dir, code != NOTHING_JUDGED)
    report = run_dir / REPORT_FILE
    run_folder.write_file(run_dir, REPORT_FILE, markdown(record, published, rows, samples,
                                                         FIGURE_FILE, head))
    print()
    print('Wrote {} and {}'.format(figure, report))
    if code == SOME_OUTSIDE:
        print('A judged figure lies outside its band: exit status {}.'.format(code))
    elif code == NOTHING_JUDGED:
        print('Nothing could be judged (see the verdicts): exit status {}.'.format(code))
    return code


def command(argv=None):
    """main() as the command line runs it: its exit status (the module's docstring),
    every error in one line, a bug with its stack and BUG, not Python's 1 (SOME_OUTSIDE)."""
    try:
        return command_line.exit_status_of(main_read_to_the_end, argv,
                                           stopped='Stopped by Ctrl-C.',
                                           errors=(CompareError,), error_status=UNREADABLE)
    except Exception:  # what exit_status_of does not know: a bug
        traceback.print_exc()
        return BUG


def main_read_to_the_end(argv=None):
    """main(), its output flushed; CLOSED_PIPE when the reader went away (| head).

    exit_status_of gives every command 1 there, which here says "outside"; the
    flush is here, not at exit, where a closed pipe would be a stack.
    """
    try:
        code = main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # what is left to print goes nowhere, not into a second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE


if __name__ == '__main__':
    sys.exit(command())
