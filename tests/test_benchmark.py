"""The benchmark: its arithmetic count, and a smoke run of its report."""
import json
import os
import subprocess
import sys

from conftest import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / 'benchmarks'))
import bench_training as bench  # noqa: E402


def test_step_flops_of_the_book_configurations():
    # word: gates 2*100*(128+128)*512 per step, 50 steps; softmax 2*5000*128*8009;
    # backward twice the forward
    word, parts = bench.step_flops(bench.CONFIGS['word'])
    assert parts['gates'] == 3 * 2 * 100 * 256 * 512 * 50
    assert parts['softmax'] == 3 * 2 * 5000 * 128 * 8009
    assert round(word / 1e9, 1) == 34.7
    char, parts = bench.step_flops(bench.CONFIGS['char'])
    assert parts['gates'] == 3 * 3 * 2 * 100 * 256 * 512 * 50
    assert parts['softmax'] == 3 * 2 * 5000 * 128 * 40
    assert round(char / 1e9, 1) == 12.0


def test_our_row_names_give_cell_impl_softmax_blocks_and_xla():
    assert bench.parse_ours('ours-basic') == ('basic', 1, False)
    assert bench.parse_ours('ours-projected-b5') == ('projected', 5, False)
    assert bench.parse_ours('ours-projected-xla') == ('projected', 1, True)
    assert bench.parse_ours('ours-basic-b3-xla') == ('basic', 3, True)


def test_quick_run_prints_the_table_and_writes_json(tmp_path):
    # PyTorch hidden from the benchmark: its row must say so, not fail the run
    hide = tmp_path / 'hide'
    hide.mkdir()
    (hide / 'torch.py').write_text("raise ImportError('hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(hide), MPLBACKEND='Agg')
    out = tmp_path / 'out'
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / 'benchmarks' / 'bench_training.py'), '--quick',
         '--impls', 'ours-basic,torch', '--configs', 'char', '--batch', '4',
         '--seq', '5', '--generate', '5', '--out', str(out)],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '| torch | PyTorch is not installed: pip install -e .[bench] |' in result.stdout
    [path] = out.glob('bench-*.json')
    report = json.loads(path.read_text())
    char = report['configs']['char']
    flops, _ = bench.step_flops(bench.CONFIGS['char'], 4, 5)
    assert char['gflop_per_step'] == flops / 1e9
    assert abs(char['roofline_ms'] - flops / (report['peak_gflops'] * 1e9) * 1000) < 1e-9
    for impl in ('ours-basic',):  # one of ours: each is a TensorFlow process
        row = char['rows'][impl]
        assert row['steps_measured'] == 3
        assert abs(row['roofline_fraction'] - char['roofline_ms'] / row['step_ms']) < 1e-9
        assert abs(row['tokens_per_s'] - 4 * 5 / (row['step_ms'] / 1000)) < 1e-6
        assert '| {} | {:.0f} |'.format(impl, row['step_ms']) in result.stdout
    assert report['generation']['graph_side_tokens_per_s'] > 0
    assert report['generation']['graph_side_fused_tokens_per_s'] > 0
    assert 'graph-side with --cell-impl fused' in result.stdout
    products = report['gemm_gflops']['word_softmax_products_ms']
    assert sorted(products) == ['forward', 'input_gradient', 'weight_gradient']
    assert all(p['numpy'] > 0 and p['tensorflow'] > 0 for p in products.values())
    gates = report['gemm_gflops']['char_gate_products_ms']
    assert gates['products'] == 3 * 50 * 3  # the book's char step: forward + 2 backward
    assert gates['numpy'] > 0 and gates['tensorflow'] > 0
    assert "The char step's 450 gate products alone" in result.stdout
    assert (out / path.name.replace('.json', '.md')).read_text() in result.stdout


def test_the_profile_gives_each_op_types_time_on_every_core_and_on_one_thread():
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / 'benchmarks' / 'bench_training.py'), '--profile',
         'basic', '--configs', 'char', '--batch', '4', '--seq', '5'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith('char (') and 'on every core' in lines[0] \
        and 'on one thread' in lines[0]
    rows = {line.split(' | ')[0].strip('| '): line.split(' | ') for line in lines[3:]}
    matmul = rows['MatMul']
    assert int(matmul[1]) > 0 and float(matmul[2]) > 0 and float(matmul[4]) > 0


FULL_RUN = [sys.executable, str(PROJECT_DIR / 'benchmarks' / 'full_run.py')]
QUIET = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')


def full_run(*args, timeout=300):
    """benchmarks/full_run.py with these arguments, run to its end."""
    return subprocess.run(FULL_RUN + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=QUIET)


def test_full_run_times_each_kind_of_session_call_and_the_time_outside_them(tmp_path):
    figures = tmp_path / 'figures.json'
    done = full_run('--json', figures, '03_implementing_lstm', '--tiny', '--offline',
                    '--max-steps', 12, '--out', tmp_path / 'run')
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(figures.read_text())
    calls = {row['what']: row for row in report['session_calls']}
    assert calls['Session.run, training step']['count'] == 12
    # --tiny samples its 3 prime texts every 10 iterations and saves every 10
    assert any(what.startswith('Session.run, lstm_model.py:sample') for what in calls)
    assert any(what.startswith('Session.run, checkpoints.py:save') for what in calls)
    assert sorted(report['outside_sessions']) == sorted(
        ['before the first step', 'between steps', 'after the last step'])
    accounted = (sum(row['seconds'] for row in report['session_calls'])
                 + sum(report['outside_sessions'].values()))
    assert abs(accounted - report['wall_seconds']) < 1e-6 * report['wall_seconds'] + 1e-6
    assert 0 < report['cores_busy'] <= os.cpu_count() + 0.5
    highest = report['highest_mib_sampled']
    assert 0 < highest['anonymous'] < highest['total'] <= report['peak_rss_mib'] + 1
    assert '| Session.run, training step | 12 |' in done.stdout
    assert (tmp_path / 'run' / 'record.json').is_file()


def test_full_run_will_not_write_over_a_file(tmp_path):
    figures = tmp_path / 'mine.json'
    figures.write_text('keep me')
    done = full_run('--json', figures, '03_implementing_lstm', '--tiny', timeout=120)
    assert done.returncode == 2
    assert 'there is a file there already; give a new name' in done.stderr
    assert figures.read_text() == 'keep me'


def test_full_run_passes_on_the_recipes_refusal_in_one_line_and_writes_nothing(tmp_path):
    figures = tmp_path / 'figures.json'
    done = full_run('--json', figures, '03_implementing_lstm', '--tiny', '--offline',
                    '--softmax-blocks', 99, '--out', tmp_path / 'run')
    assert done.returncode == 1
    assert 'Traceback' not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        '--softmax-blocks 99: each block needs at least one of the batch size x sequence '
        'length = 32 rows; give at most 32.')
    assert not figures.exists() and done.stdout.count('|') == 0


def test_full_run_refuses_a_json_path_it_cannot_make_before_the_run(tmp_path):
    (tmp_path / 'a_file').write_text('keep me')
    done = full_run('--json', tmp_path / 'a_file' / 'figures.json', '03_implementing_lstm',
                    '--tiny', timeout=120)
    assert done.returncode == 2
    assert 'its folder cannot be made' in done.stderr.splitlines()[-1]
    assert (tmp_path / 'a_file').read_text() == 'keep me'


def test_ctrl_c_stops_full_run_as_it_stops_the_recipe(tmp_path):
    import signal
    import time
    figures = tmp_path / 'figures.json'
    child = subprocess.Popen(
        FULL_RUN + ['--json', str(figures), '03_implementing_lstm', '--tiny', '--offline',
                    '--max-steps', '100000', '--out', str(tmp_path / 'run')],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=QUIET,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(600):  # until it has trained and saved (every 10 iterations), at most 60 s
        time.sleep(0.1)
        if (tmp_path / 'run' / 'checkpoint').exists():
            break
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err[-2000:]
    assert 'Traceback' not in err
    report = json.loads(figures.read_text())  # what it measured up to the stop
    assert report['exit_status'] == 130
    assert report['session_calls'][0]['what'] == 'Session.run, training step'
    assert '| Session.run, training step |' in out


def test_sampling_strategies_counts_pairs_of_the_text_and_repeats():
    """benchmarks/sampling_strategies.py's measure, counted by hand: the pairs
    whose second word is the continuation's; a pair seen earlier, the prime's
    included, is a repeat; a character text's last word, maybe cut, is left out."""
    import sampling_strategies as strategies
    found = {'or not', 'not to', 'to be', 'be or'}
    counts = dict(pairs=0, in_text=0, repeated=0, new_in_text=0)
    # to be or | not to be or not to be: 'to be' and 'be or' are the prime's
    strategies.measure(counts, ' not to be or not to be', 'to be or', False, found)
    assert counts == dict(pairs=7, in_text=7, repeated=5, new_in_text=2)
    pairs, earlier = strategies.continuation_pairs('thou art mo', 're than a ma', True)
    assert (pairs, earlier) == (['more than', 'than a'], {'thou art', 'art more'})
    pairs, _ = strategies.continuation_pairs('thou art mo', 're than a ', True)
    assert pairs == ['more than', 'than a']
    assert strategies.continuation_pairs('a', ' b c', False)[0] == ['a b', 'b c']


def test_sampling_strategies_refuses_a_folder_twice_and_a_corpus_it_cannot_read(corpus,
                                                                                 tmp_path):
    import pytest
    import sampling_strategies as strategies
    from conftest import run_in_process
    from cookbook_lstm.errors import CorpusError, RunError
    out = tmp_path / 'run'
    assert run_in_process('03', '--tiny', '--max-steps', 10, '--seed', 1, '--corpus', corpus,
                          '--out', out).returncode == 0
    with pytest.raises(RunError, match='a run folder is given twice: give each once.'):
        strategies.main([str(out), str(out)])
    with pytest.raises(CorpusError, match='no such file'):
        strategies.main([str(out), '--corpus', str(tmp_path / 'missing.txt')])
