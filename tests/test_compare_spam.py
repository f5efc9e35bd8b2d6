"""The comparison of a run of recipe 02 (the RNN spam classifier) with its
published figures, on hand-made run records: no recipe runs here."""
import json
import statistics
import subprocess
import sys

import pytest

from conftest import PROJECT_DIR
from compare_helpers import command, folder_of, judged, verdicts

sys.path.insert(0, str(PROJECT_DIR / 'tools'))
import compare_to_book as cmp  # noqa: E402

P02 = json.loads((PROJECT_DIR / 'published' / '02_implementing_rnn.json').read_text())
UCI = '7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d'
SOURCE_OF = {('double_softmax', 20): 'book', ('single_softmax', 20): 'a2ca9e7',
             ('single_softmax', 50): '4111ba8'}


def epochs_of(source):
    [entry] = [e for e in P02['epochs'] if e['source'] == source]
    return {epoch: (loss, accuracy) for epoch, loss, accuracy in entry['rows']}


# ---- the data file: figures transcribed again by hand from the book and the notebooks

def test_the_published_figures_are_all_there():
    assert P02['recipe'] == '02_implementing_rnn'
    assert [(e['source'], e['graph']) for e in P02['epochs']] == [
        ('book', 'double_softmax'), ('a2ca9e7', 'single_softmax'),
        ('4111ba8', 'single_softmax')]
    # the book prints epochs 1, 2, 19 and 20 of the printed (double softmax) code
    assert epochs_of('book') == {1: (0.59, 0.83), 2: (0.58, 0.83), 19: (0.46, 0.86),
                                 20: (0.46, 0.86)}
    a2, b4 = epochs_of('a2ca9e7'), epochs_of('4111ba8')
    assert sorted(a2) == list(range(1, 21)) and sorted(b4) == list(range(1, 51))
    assert (a2[1], a2[2], a2[3], a2[19], a2[20]) == (
        (0.75, 0.17), (0.71, 0.17), (0.64, 0.82), (0.36, 0.87), (0.33, 0.87))
    assert (b4[1], b4[3], b4[27], b4[29], b4[47], b4[50]) == (
        (0.73, 0.18), (0.64, 0.83), (0.28, 0.89), (0.22, 0.94), (0.097, 0.98), (0.091, 0.97))
    for source in ('book', 'a2ca9e7', '4111ba8'):
        assert source in P02['sources']
        assert source == 'book' or P02['commits'][source].startswith(source)
    assert {c['key']: c['value'] for c in P02['counts']} == {
        'vocab_size': 933, 'train_messages': 4459, 'test_messages': 1115}
    assert P02['collections']['uci'] == UCI
    assert P02['graphs']['double_softmax']['judged_by'] == {'20': 'book'}
    assert P02['graphs']['single_softmax']['judged_by'] == {'20': 'a2ca9e7', '50': '4111ba8'}
    assert P02['graphs']['double_softmax']['shown_epochs'] == [1, 2]
    assert P02['printed_as'] == 'Epoch: {}, Test Loss: {:.2}, Test Acc: {:.2}'


def test_every_printed_epoch_and_every_span_has_a_band():
    for entry in P02['epochs']:
        bands = P02['bands'][entry['graph']]
        epochs = [row[0] for row in entry['rows']]
        for metric in ('loss', 'accuracy'):
            assert all(0 < bands[metric][str(e)] for e in epochs)
            for first, last, block in cmp.epoch_spans(epochs):
                pooled = bands['pooled'][metric]['{}-{}'.format(first, last)]
                # a mean of the epochs moves no more than the most moving of them
                assert 0 < pooled <= max(bands[metric][str(e)] for e in block)
    assert 'compare_to_book.py --spread' in P02['bands']['how']


# ---- hand-made records

def make_record(graph='double_softmax', epochs=20, values=None, reached=None, seed=1,
                corpus=None, **config_changes):
    """A run record as recipe 02 writes it. Each epoch's test loss and accuracy
    are the judging source's where it printed them (values: {epoch: (loss,
    accuracy)} changes them), and 0.5 and 0.85 between."""
    source = SOURCE_OF.get((graph, epochs), 'book' if graph == 'double_softmax' else 'a2ca9e7')
    figures = {**epochs_of(source), **(values or {})}
    config = dict(cmp.book_settings(P02), recipe='02_implementing_rnn', level='word',
                  vocab_size=933, num_batches=18, trainable_parameters=47282, max_steps=0,
                  whole_train_metrics=False, seed=seed, epochs=epochs,
                  single_softmax=graph == 'single_softmax',
                  corpus=corpus or {'collection': 'uci', 'sha256': UCI, 'bytes': 477907,
                                    'messages': 5574, 'ham': 4827, 'spam': 747,
                                    'source': 'shipped copy'})
    config.update(config_changes)
    done = config['epochs'] if reached is None else reached
    rows, held_out = [], []
    for epoch in range(1, done + 1):
        for batch in range(1, 19):
            i = (epoch - 1) * 18 + batch
            rows.append([i, epoch, batch, 0.5, i * 0.01, 0.85])
        loss, accuracy = figures.get(epoch, (0.5, 0.85))
        held_out.append({'epoch': epoch, 'iteration': epoch * 18, 'loss': loss,
                         'perplexity': None, 'accuracy': accuracy, 'train_loss': 0.5,
                         'train_accuracy': 0.85})
    return {'recipe': '02_implementing_rnn', 'config': config, 'seed': seed,
            'status': 'finished', 'corpus': config['corpus'],
            'iterations': {'columns': ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s',
                                       'accuracy'], 'rows': rows},
            'samples': [], 'held_out': held_out}


# ---- the verdicts

def test_a_default_run_at_the_books_figures_is_inside():
    rows = cmp.compare(make_record(), P02)
    v = verdicts(rows)
    # judged: the counts, and the means of epochs 19-20; epochs 1-2 are shown
    assert [r.figure for r in judged(rows)] == [
        'Vocabulary Size', '80-20 split: training messages', '80-20 split: test messages',
        'mean test loss of epochs 19-20', 'mean test accuracy of epochs 19-20']
    assert all(r.verdict == cmp.INSIDE for r in judged(rows))
    assert v['test loss at epoch 1'] == v['test accuracy at epoch 20'] == cmp.WITHIN
    assert v['mean test loss of epochs 1-2'] == cmp.WITHIN
    [line] = [r for r in rows if r.figure == 'test loss at epoch 19']
    assert (line.source, line.published, line.run, line.band) == (
        'book', 0.46, 0.46, P02['bands']['double_softmax']['loss']['19'])
    [count] = [r for r in rows if r.figure == 'Vocabulary Size']
    assert (count.source, count.published, count.run, count.band) == (
        'book/a2ca9e7/4111ba8', 933, 933, 'exact')
    assert cmp.status(rows) == cmp.ALL_INSIDE


def test_an_epoch_far_outside_fails_the_run():
    rows = cmp.compare(make_record(values={20: (0.60, 0.86)}), P02)
    v = verdicts(rows)
    assert v['test loss at epoch 20'] == cmp.BEYOND
    assert v['mean test loss of epochs 19-20'] == cmp.OUTSIDE
    assert v['mean test accuracy of epochs 19-20'] == cmp.INSIDE
    assert cmp.status(rows) == cmp.SOME_OUTSIDE


def test_the_books_first_epochs_are_shown_not_judged():
    # a faithful run starts slower than the book's 0.59 (0.63 to 0.76 over 20 seeds)
    rows = cmp.compare(make_record(values={1: (0.76, 0.16), 2: (0.75, 0.16)}), P02)
    v = verdicts(rows)
    assert v['test loss at epoch 1'] == v['mean test loss of epochs 1-2'] == cmp.BEYOND
    assert v['test accuracy at epoch 1'] == cmp.WITHIN  # mostly 'spam' at first: either
    assert cmp.status(rows) == cmp.ALL_INSIDE


def test_a_run_is_compared_as_printed():
    # the run's figures are rounded to two significant digits ({:.2}) first
    band = P02['bands']['double_softmax']['pooled']['loss']['19-20']
    assert band == 0.04
    rows = cmp.compare(make_record(values={19: (0.5049, 0.86), 20: (0.5049, 0.86)}), P02)
    [mean] = [r for r in rows if r.figure == 'mean test loss of epochs 19-20']
    assert mean.run == 0.5 and mean.verdict == cmp.INSIDE  # 0.50 - 0.46: at the band's edge
    rows = cmp.compare(make_record(values={19: (0.5051, 0.86), 20: (0.5051, 0.86)}), P02)
    [mean] = [r for r in rows if r.figure == 'mean test loss of epochs 19-20']
    assert mean.run == 0.51 and mean.verdict == cmp.OUTSIDE
    [line] = [r for r in rows if r.figure == 'test loss at epoch 20']
    assert line.run == 0.51  # as the run printed it


def test_a_wrong_vocabulary_size_or_split_fails_the_run():
    rows = cmp.compare(make_record(vocab_size=934), P02)
    assert verdicts(rows)['Vocabulary Size'] == cmp.OUTSIDE
    assert cmp.status(rows) == cmp.SOME_OUTSIDE
    corpus = {'collection': 'uci', 'sha256': UCI, 'messages': 5570, 'source': 'test'}
    rows = cmp.compare(make_record(corpus=corpus), P02)
    v = verdicts(rows)
    assert v['80-20 split: training messages'] == v['80-20 split: test messages'] == \
        cmp.OUTSIDE
    [train] = [r for r in rows if r.figure == '80-20 split: training messages']
    assert (train.published, train.run) == (4459, 4456)  # int(0.8 x 5570)


def test_a_test_loss_that_was_not_finite_is_outside():
    record = make_record()
    record['held_out'][18]['loss'] = None  # epoch 19: the record's null
    rows = cmp.compare(record, P02)
    assert verdicts(rows)['mean test loss of epochs 19-20'] == cmp.OUTSIDE
    assert cmp.status(rows) == cmp.SOME_OUTSIDE


def test_single_softmax_is_judged_against_a2ca9e7_and_50_epochs_against_4111ba8():
    rows = cmp.compare(make_record('single_softmax'), P02)
    assert {r.source for r in rows if r.figure.startswith(('test', 'mean'))} == {'a2ca9e7'}
    assert [r.figure for r in judged(rows)][3:] == [
        'mean test {} of epochs {}'.format(metric, span)
        for span in ('1-5', '6-10', '11-15', '16-20') for metric in ('loss', 'accuracy')]
    assert cmp.status(rows) == cmp.ALL_INSIDE
    [mean] = [r for r in rows if r.figure == 'mean test loss of epochs 16-20']
    assert mean.published == pytest.approx(statistics.mean(
        epochs_of('a2ca9e7')[e][0] for e in range(16, 21)))

    rows = cmp.compare(make_record('single_softmax', epochs=50), P02)
    assert {r.source for r in rows if r.figure.startswith(('test', 'mean'))} == {'4111ba8'}
    assert len(judged(rows)) == 3 + 2 * 10
    assert cmp.status(rows) == cmp.ALL_INSIDE
    [mean] = [r for r in rows if r.figure == 'mean test loss of epochs 46-50']
    assert (round(mean.published, 4), mean.digits) == (0.097, 3)
    [line] = [r for r in rows if r.figure == 'test loss at epoch 47']
    assert (line.published, line.digits) == (0.097, 3)


def test_each_graph_fails_against_the_others_source():
    # the notebooks' figures in a default run: its 19-20 are far below the book's
    rows = cmp.compare(make_record(values=epochs_of('a2ca9e7')), P02)
    assert verdicts(rows)['mean test loss of epochs 19-20'] == cmp.OUTSIDE
    # what a run of the printed code printed (seed 1), as if it were --single-softmax:
    # its loss falls more slowly than a2ca9e7's from epoch 6 on
    printed = [0.72, 0.71, 0.69, 0.66, 0.64, 0.61, 0.58, 0.56, 0.54, 0.52, 0.51, 0.50, 0.49,
               0.48, 0.48, 0.47, 0.47, 0.46, 0.46, 0.45]
    rows = cmp.compare(make_record('single_softmax', values={
        e: (loss, 0.86) for e, loss in enumerate(printed, 1)}), P02)
    v = verdicts(rows)
    assert v['mean test loss of epochs 6-10'] == v['mean test loss of epochs 11-15'] == \
        cmp.OUTSIDE


def test_other_settings_are_not_comparable():
    for changes, why in (
            (dict(batch_size=100), 'other settings (batch_size 100)'),
            (dict(epochs=30), 'other settings (epochs 30)'),
            (dict(epochs=2, max_sequence_length=10, rnn_size=4, embedding_size=8),
             'other settings (embedding_size 8, epochs 2, max_sequence_length 10, '
             'rnn_size 4)'),  # --tiny
            (dict(learning_rate=0.001, dropout_keep_prob=1.0),
             'other settings (dropout_keep_prob 1.0, learning_rate 0.001)')):
        rows = cmp.compare(make_record(**changes), P02)
        assert not judged(rows)
        assert {r.verdict for r in rows if not r.verdict.startswith(cmp.SHOWN)} == {
            cmp.NOT_COMPARABLE + why}
        assert cmp.status(rows) == cmp.NOTHING_JUDGED
    # only the corrected code ran 50 epochs
    rows = cmp.compare(make_record(epochs=50), P02)
    assert cmp.status(rows) == cmp.NOTHING_JUDGED
    assert verdicts(rows)['Vocabulary Size'] == 'not comparable: other settings (epochs 50)'
    # another copy of the collection (another sha256)
    corpus = {'collection': 'other', 'sha256': '0' * 64, 'messages': 5574, 'source': 'test'}
    rows = cmp.compare(make_record(corpus=corpus), P02)
    assert verdicts(rows)['Vocabulary Size'] == \
        'not comparable: another copy of the collection'
    assert cmp.status(rows) == cmp.NOTHING_JUDGED


def test_the_training_figures_and_the_book_cache_do_not_matter():
    # --whole-train-metrics changes only the training figures, which no source printed
    assert cmp.status(cmp.compare(make_record(whole_train_metrics=True), P02)) == \
        cmp.ALL_INSIDE
    cache = {'collection': 'uci-book-cache', 'messages': 5574, 'source': 'cache',
             'sha256': '6a722dac2ec7b392225b0df1bf1860024c50a00c1602f917a7410ed86731b664'}
    assert cmp.status(cmp.compare(make_record(corpus=cache), P02)) == cmp.ALL_INSIDE


def test_a_run_cut_short_is_judged_on_what_it_reached():
    v = verdicts(cmp.compare(make_record('single_softmax', reached=12), P02))
    assert v['mean test loss of epochs 6-10'] == cmp.INSIDE
    assert v['test loss at epoch 12'] == cmp.WITHIN and v['test loss at epoch 13'] == cmp.SHOWN
    assert v['mean test loss of epochs 11-15'] == 'not reached (the run stopped after epoch 12)'
    v = verdicts(cmp.compare(make_record(reached=10), P02))
    assert v['mean test loss of epochs 19-20'] == 'not reached (the run stopped after epoch 10)'
    assert v['Vocabulary Size'] == cmp.INSIDE


# ---- the command: exit statuses, the report, the figure, --json

@pytest.mark.parametrize('record, status', [
    (make_record(), 0),
    (make_record(values={19: (0.55, 0.86)}), 1),
    (make_record(vocab_size=932), 1),
    (make_record('single_softmax'), 0),
    (make_record('single_softmax', values={8: (0.43, 0.5)}), 1),
    (make_record('single_softmax', epochs=50), 0),
    (make_record(batch_size=100), 3),
    (make_record(epochs=50), 3),
], ids=['inside', 'an-epoch-outside', 'wrong-vocabulary', 'single-softmax',
        'single-softmax-outside', 'fifty-epochs', 'other-batch-size', 'double-fifty-epochs'])
def test_the_exit_status(record, status, tmp_path, capsys):
    code, out, err = command(capsys, folder_of(tmp_path, record))
    assert (code, err) == (status, '')
    if status == 3:
        assert 'Nothing could be judged' in out
    if status == 1:
        assert 'A judged figure lies outside its band: exit status 1.' in out


def test_the_report_and_the_figure(tmp_path, capsys):
    folder = folder_of(tmp_path, make_record(values={20: (0.60, 0.86)}))
    code, out, err = command(capsys, folder)
    assert code == 1
    lines = out.splitlines()
    # the first line names the figures that judge the run
    assert lines.pop(0) == 'Reference: the figures the book and the author published ' \
                           '(published/02_implementing_rnn.json).'
    assert lines[0] == 'Run: recipe 02_implementing_rnn, double softmax graph, seed 1, 20 of ' \
                       '20 epochs (4 s), status finished'
    assert lines[1] == 'Collection: uci (sha256 7d039a24a608..., 5,574 messages)'
    assert lines[2] == "Settings: the book's"
    assert lines[3].startswith('Judged against: the book, because')
    assert any(line.startswith('test loss at epoch 20') and '0.60' in line and
               line.endswith('shown: beyond its band') for line in lines)
    assert any(line.startswith('mean test loss of epochs 19-20') and '0.530' in line and
               line.endswith('OUTSIDE') for line in lines)
    assert any(line.startswith('a2ca9e7: ') for line in lines)
    assert (folder / 'comparison.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    report = (folder / 'comparison.md').read_text()
    assert '| mean test loss of epochs 19-20 | book | 0.460 | 0.530 | 0.04 | **OUTSIDE** |' \
        in report
    assert '| Vocabulary Size | book/a2ca9e7/4111ba8 | 933 | 933 | exact | inside |' in report
    assert '![loss and accuracy with the published points](comparison.png)' in report
    assert '## ' not in report  # no samples: recipe 02 prints none
    code, out, err = command(capsys, folder_of(tmp_path, make_record('single_softmax'), 'one'))
    assert code == 0
    assert out.splitlines()[3] == "Settings: the book's, with the loss on the logits " \
                                  "(--single-softmax)"
    assert out.splitlines()[4].startswith('Judged against: a2ca9e7, because')


def test_json_gives_every_row_and_the_counts(tmp_path, capsys):
    good = folder_of(tmp_path, make_record('single_softmax'), 'good')
    code, out, err = command(capsys, good, '--json')
    result = json.loads(out)
    assert code == result['exit_status'] == 0
    assert (result['recipe'], result['judged'], result['outside']) == (
        '02_implementing_rnn', 3 + 8, 0)
    assert len(result['rows']) == 3 + 40 + 8
    [mean] = [r for r in result['rows'] if r['figure'] == 'mean test accuracy of epochs 6-10']
    assert set(mean) == {'figure', 'source', 'published', 'run', 'band', 'verdict'}
    assert (mean['source'], mean['band'], mean['verdict']) == (
        'a2ca9e7', P02['bands']['single_softmax']['pooled']['accuracy']['6-10'], 'inside')
    [count] = [r for r in result['rows'] if r['figure'] == '80-20 split: test messages']
    assert (count['published'], count['run'], count['band'], count['verdict']) == (
        1115, 1115, None, 'inside')
    assert (good / 'comparison.png').exists() and (good / 'comparison.md').exists()

    bad = folder_of(tmp_path, make_record(vocab_size=900, values={19: (0.3, 0.86)}), 'bad')
    code, out, err = command(capsys, bad, '--json')
    result = json.loads(out)
    assert code == result['exit_status'] == 1 and result['outside'] == 2
    other = folder_of(tmp_path, make_record(rnn_size=20), 'other')
    code, out, err = command(capsys, other, '--json')
    result = json.loads(out)
    assert code == result['exit_status'] == 3 and result['judged'] == 0


def test_a_record_without_a_setting_the_comparison_reads_is_unreadable(tmp_path, capsys):
    record = make_record()
    del record['config']['dropout_keep_prob']
    folder = folder_of(tmp_path, record)
    code, out, err = command(capsys, folder)
    assert (code, out) == (2, '')
    assert err == 'Error: {}: the setting "dropout_keep_prob" is missing. The folder is ' \
                  'damaged; use a run folder a recipe wrote.\n'.format(folder / 'record.json')


# ---- --spread on recipe 02 runs

def offset_record(seed, loss_by, accuracy_by, graph='single_softmax', **changes):
    """The judging source's figures at every epoch, moved by loss_by and accuracy_by."""
    record = make_record(graph, seed=seed, **changes)
    for h in record['held_out']:
        h['loss'] += loss_by
        h['accuracy'] += accuracy_by
    return record


def test_spread_gives_each_epochs_sd_and_band_and_each_spans(tmp_path, capsys):
    # two runs 0.1 apart in loss and 0.02 in accuracy after every epoch: the SD
    # of any figure is the distance / sqrt(2), its band 3 x sqrt(2) x that
    a = folder_of(tmp_path, offset_record(1, 0.0, 0.0), 'a')
    b = folder_of(tmp_path, offset_record(2, 0.1, 0.02), 'b')
    code, out, err = command(capsys, a, b, '--spread')
    assert (code, err) == (0, '')
    result = json.loads(out)
    assert (result['graph'], result['seeds'], result['epochs']) == ('single_softmax', [1, 2], 20)
    assert sorted(map(int, result['loss'])) == list(range(1, 21))
    for epoch in ('1', '10', '20'):
        assert result['loss_sd'][epoch] == pytest.approx(0.1 / 2 ** 0.5)
        assert result['loss'][epoch] == 0.3
        assert result['accuracy_sd'][epoch] == pytest.approx(0.02 / 2 ** 0.5)
        assert result['accuracy'][epoch] == 0.06
    assert sorted(result['pooled_loss']) == ['1-5', '11-15', '16-20', '6-10']
    for span in ('1-5', '16-20'):
        assert result['pooled_loss_sd'][span] == pytest.approx(0.1 / 2 ** 0.5)
        assert result['pooled_loss'][span] == 0.3
        assert result['pooled_accuracy'][span] == 0.06
    assert result['judged_by'] == {'20': 'a2ca9e7', '50': '4111ba8'}
    assert result['rounded_as_printed'] == '{:.2}' and result['pooled_epochs'] == 5
    assert result['outside'] == {'1': [], '2': []}


def test_spread_measures_the_figures_as_printed():
    # 0.4449 and 0.4451 print as 0.44 and 0.45: as far apart as 0.44 and 0.45
    a = make_record(values={19: (0.4449, 0.86)}, seed=1)
    b = make_record(values={19: (0.4451, 0.86)}, seed=2)
    result = cmp.spread([a, b], P02)
    assert result['graph'] == 'double_softmax'
    assert result['loss_sd']['19'] == pytest.approx(0.01 / 2 ** 0.5)
    assert result['loss_sd']['20'] == 0
    assert sorted(result['pooled_loss']) == ['1-2', '19-20']  # the book's printed epochs


def test_spread_says_what_each_run_would_be_judged_outside():
    records = [offset_record(s, 0.01 * s, 0.0) for s in (1, 2, 3)]
    records.append(offset_record(4, 0.0, 0.0, vocab_size=934))
    records.append(offset_record(5, 0.3, 0.0))  # far from the others
    result = cmp.spread(records, P02)
    assert result['outside']['4'] == ['Vocabulary Size']
    assert result['outside']['1'] == []
    # left out of the bands, seed 5 lies far outside every loss mean the others allow
    assert result['outside_leave_one_out']['5'] == [
        'mean test loss of epochs {}'.format(span) for span in ('1-5', '6-10', '11-15', '16-20')]


def test_spread_judges_each_run_against_the_source_of_its_epochs():
    records = [offset_record(s, 0.0, 0.0, epochs=50) for s in (1, 2, 3)]
    result = cmp.spread(records, P02)
    assert result['epochs'] == 50 and sorted(result['pooled_loss'], key=lambda s: int(
        s.split('-')[0]))[-1] == '46-50'
    assert result['outside'] == {'1': [], '2': [], '3': []}


def test_spread_refuses_runs_of_two_graphs_and_warns_of_a_seed_twice(tmp_path, capsys):
    double = folder_of(tmp_path, make_record(), 'double')
    single = folder_of(tmp_path, make_record('single_softmax', seed=2), 'single')
    code, out, err = command(capsys, double, single, '--spread')
    assert (code, out) == (2, '')
    assert err == 'Error: --spread needs two or more runs of one graph.\n'
    again = folder_of(tmp_path, make_record(seed=1), 'again')
    code, out, err = command(capsys, double, again, '--spread')
    assert code == 0 and err.startswith('Warning: seed 1 is used by 2 of the runs')


def test_spread_refuses_a_run_whose_test_loss_was_not_finite():
    a, b = make_record(seed=1), make_record(seed=2)
    b['held_out'][4]['loss'] = None
    with pytest.raises(cmp.CompareError, match='seed 2 has no test loss after epoch 5'):
        cmp.spread([a, b], P02)


def test_spread_on_the_project_runs_in_a_fresh_process(tmp_path):
    """The command line, as the docs give it, on two records (no recipe runs)."""
    a = folder_of(tmp_path, offset_record(1, 0.0, 0.0, graph='double_softmax'), 'a')
    b = folder_of(tmp_path, offset_record(2, 0.02, 0.01, graph='double_softmax'), 'b')
    result = subprocess.run([sys.executable, str(PROJECT_DIR / 'tools' / 'compare_to_book.py'),
                             '--spread', str(a), str(b)], capture_output=True, text=True,
                            env={'MPLBACKEND': 'Agg', 'PATH': '/usr/bin:/bin'}, timeout=120)
    assert result.returncode == 0, result.stderr
    spread = json.loads(result.stdout)
    assert (spread['pooled_loss']['19-20'], spread['pooled_accuracy']['19-20']) == (0.06, 0.03)
