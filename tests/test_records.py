"""Every run writes a record a program can read; seeded runs repeat exactly (in-process runs)."""
import json

from conftest import assert_float32_close, run_in_process

RECORD_KEYS = {'format', 'status', 'recipe', 'config', 'corpus', 'seed', 'versions',
               'last_checkpoint', 'stopped_because', 'resumptions', 'iterations', 'samples',
               'held_out'}


def assert_losses_agree(got, want, rows, stages):
    """Two runs' losses, iteration by iteration, to float32 rounding.

    The first loss comes from the same initial weights: one forward pass of
    `stages` stages and the mean of `rows` row losses. Each later iteration
    adds a backward and a forward pass to what the weights carry, so its
    tolerance grows with the iterations before it (conftest's derivation).
    """
    for k, (a, b) in enumerate(zip(got, want)):
        assert_float32_close(a, b, terms=rows, steps=stages + 1 + k * 2 * stages)


def without_timings(record):
    record = json.loads(json.dumps(record))
    for row in record['iterations']['rows']:
        row[4] = None
    return record


def test_a_drawn_seed_is_recorded_and_repeats_the_run_exactly(corpus_file, tmp_path):
    args = ('--tiny', '--max-steps', 12, '--corpus', corpus_file)
    drawn = run_in_process('04', *args, '--out', tmp_path / 'drawn')
    assert drawn.returncode == 0, drawn.stderr[-3000:]
    first = json.loads((tmp_path / 'drawn' / 'record.json').read_text())
    seed = first['seed']
    assert isinstance(seed, int) and first['config']['seed'] == seed
    assert '  seed = {}'.format(seed) in drawn.stdout.splitlines()

    again = [run_in_process('04', *args, '--seed', seed, '--out', tmp_path / name)
             for name in ('a', 'b')]
    assert all(r.returncode == 0 for r in again)
    records = [json.loads((tmp_path / name / 'record.json').read_text())
               for name in ('a', 'b')]
    # the same losses to the last digit, the same samples: identical but for timings
    assert without_timings(records[0]) == without_timings(records[1]) \
        == without_timings(first)
    status_lines = [[l for l in r.stdout.splitlines() if l.startswith('Iteration:')]
                    for r in [drawn] + again]
    assert status_lines[0] == status_lines[1] == status_lines[2] != []
    # and the continuation drawn at the end with the sampler's best strategy
    drawn_texts = []
    for result in [drawn] + again:
        lines = result.stdout.splitlines()
        heading = [i for i, l in enumerate(lines) if l.startswith('Drawn from that checkpoint')]
        drawn_texts.append(lines[heading[0] + 1])
    assert drawn_texts[0] == drawn_texts[1] == drawn_texts[2]
    assert drawn_texts[0].startswith('thou art more') and len(drawn_texts[0]) > 100

    record = records[0]
    assert set(record) == RECORD_KEYS
    assert record['status'] == 'finished' and record['last_checkpoint'] == 12
    assert record['iterations']['columns'] == ['iteration', 'epoch', 'batch', 'loss',
                                               'elapsed_s']
    rows = record['iterations']['rows']
    assert [r[:3] for r in rows] == [[i, 1, i] for i in range(1, 13)]
    assert all(isinstance(r[3], float) and r[3] > 0 for r in rows)
    assert all(b[4] >= a[4] for a, b in zip(rows, rows[1:]))
    assert [(s['iteration'], s['prime']) for s in record['samples']] == [
        (10, 'thou art more'), (10, 'to be or not to'), (10, 'wherefore art thou')]
    assert record['corpus']['edition'] == 'gutenberg-book-layout'  # not the book's file
    assert len(record['corpus']['sha256']) == 64
    assert record['versions']['tensorflow'].startswith('2.21')
    # the samples are the lines the run printed
    for sample in record['samples']:
        assert sample['text'] in again[0].stdout.splitlines()


def test_fast_cells_give_the_book_graphs_losses_and_take_its_checkpoints(corpus_file,
                                                                          tmp_path):
    args = ('--tiny', '--seed', 5, '--corpus', corpus_file)
    basic = run_in_process('04', *args, '--max-steps', 20, '--out', tmp_path / 'basic')
    fused = run_in_process('04', *args, '--max-steps', 20, '--cell-impl', 'fused',
                       '--out', tmp_path / 'fused')
    projected = run_in_process('04', *args, '--max-steps', 20, '--cell-impl', 'projected',
                           '--out', tmp_path / 'projected')
    assert projected.returncode == 0, projected.stderr[-3000:]
    half = run_in_process('04', *args, '--max-steps', 10, '--out', tmp_path / 'half')
    assert basic.returncode == fused.returncode == half.returncode == 0, fused.stderr[-3000:]
    # a checkpoint of the book's graph goes on training in the fused one
    switched = run_in_process('04', '--resume', tmp_path / 'half', '--max-steps', 20,
                          '--cell-impl', 'fused')
    assert switched.returncode == 0, switched.stderr[-3000:]
    losses = {name: [r[3] for r in json.loads(
        (tmp_path / name / 'record.json').read_text())['iterations']['rows']]
        for name in ('basic', 'fused', 'projected', 'half')}
    assert len(losses['basic']) == len(losses['fused']) == len(losses['half']) == 20
    for name in ('fused', 'projected', 'half'):
        assert_losses_agree(losses[name], losses['basic'], rows=4 * 8, stages=3 * 8 + 1)
    assert len(set(losses['basic'])) == 20  # twenty different steps compared


def test_softmax_blocks_give_the_book_graphs_losses(corpus_file, tmp_path):
    # --tiny: 4 x 8 = 32 rows a batch, so 3 blocks are uneven (11, 11, 10)
    args = ('--tiny', '--seed', 5, '--corpus', corpus_file)
    book = run_in_process('03', *args, '--max-steps', 20, '--out', tmp_path / 'book')
    blocks = run_in_process('03', *args, '--max-steps', 20, '--softmax-blocks', 3,
                        '--out', tmp_path / 'blocks')
    half = run_in_process('03', *args, '--max-steps', 10, '--out', tmp_path / 'half')
    assert book.returncode == blocks.returncode == half.returncode == 0, blocks.stderr[-3000:]
    resumed = run_in_process('03', '--resume', tmp_path / 'half', '--max-steps', 20,
                         '--softmax-blocks', 3)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    losses = {name: [r[3] for r in json.loads(
        (tmp_path / name / 'record.json').read_text())['iterations']['rows']]
        for name in ('book', 'blocks', 'half')}
    assert len(losses['book']) == len(losses['blocks']) == len(losses['half']) == 20
    assert len(set(losses['book'])) == 20  # twenty different steps compared
    for name in ('blocks', 'half'):
        assert_losses_agree(losses[name], losses['book'], rows=4 * 8, stages=8 + 1)
    config = json.loads((tmp_path / 'blocks' / 'config.json').read_text())
    assert config['softmax_blocks'] == 3


def test_more_softmax_blocks_than_rows_is_refused(corpus_file, tmp_path):
    done = run_in_process('03', '--tiny', '--corpus', corpus_file, '--softmax-blocks', 33,
                      '--out', tmp_path / 'run')
    assert done.returncode != 0
    assert ('--softmax-blocks 33: each block needs at least one of the batch size x '
            'sequence length = 32 rows; give at most 32.') in done.stderr
    assert not (tmp_path / 'run').exists()
