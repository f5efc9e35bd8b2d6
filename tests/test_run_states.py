"""Every state a run can leave, the project reads and goes on from.

What the writer writes the readers read (one definition of a record); each
state a kill or a stop leaves, and what the same command, --overwrite and
--resume do there; a closed output as an interruption; writers that never
follow a link; refusals that change nothing; advice that works when followed;
costs bounded by the run, not by what a folder holds.
"""
import errno
import fcntl
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys

import pytest

from cookbook_lstm import checkpoints
from cookbook_lstm import memory
from cookbook_lstm import record
from cookbook_lstm import run_folder
from cookbook_lstm import safe_files
from cookbook_lstm import shakespeare_data
from cookbook_lstm.errors import CorpusError, Refused, RunError
from conftest import PROJECT_DIR, RECIPES, folder_bytes, run_in_process


def refused(result, status=1):
    """The one line a refusal prints, after checking it is alone and no stack."""
    assert result.returncode == status, (result.stdout[-2000:], result.stderr[-3000:])
    assert 'Traceback' not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()
             and not (status == 2 and line.startswith(('usage:', ' ')))]  # argparse's usage
    assert len(lines) == 1, result.stderr
    return lines[0]


def losses(folder):
    """(iteration, loss) of every row of a run's record."""
    rows = json.loads((folder / 'record.json').read_text())['iterations']['rows']
    return [(r[0], r[3]) for r in rows]


# ---------------------------------------------------------------- one definition of a record

def _record(rows, held_out=()):
    return record.new_record('running', '03_implementing_lstm', {}, 1, {},
                             iterations={'columns': record.COLUMNS, 'rows': rows},
                             samples=[], held_out=list(held_out), resumptions=[], corpus={})


def test_a_status_no_run_writes_is_refused(tmp_path):
    (tmp_path / 'record.json').write_text(json.dumps(dict(_record([]), status='banana')))
    with pytest.raises(RunError, match='"status" is "banana", not one this project writes'):
        record.read_record(tmp_path)


def test_what_a_diverging_run_writes_its_reader_reads_back(tmp_path):
    # losses past a million, a loss that was not finite (null), a held-out loss
    # whose perplexity is past float64 (null) and one past 2 ** 53
    rows = [[1, 1, 1, 9.5, 0.1], [2, 1, 2, 3.2e7, 0.2], [3, 1, 3, None, 0.3]]
    held = [{'epoch': 1, 'iteration': 2, 'loss': 38.0, 'perplexity': math.exp(38.0)},
            {'epoch': 2, 'iteration': 3, 'loss': 912.5, 'perplexity': None}]
    record.write_record(tmp_path, _record(rows, held))
    read = record.read_record(tmp_path)
    assert read['iterations']['rows'] == rows and read['held_out'] == held
    assert math.exp(38.0) > 2 ** 53


def test_the_writer_refuses_what_its_reader_would_refuse_and_writes_nothing(tmp_path):
    with pytest.raises(RuntimeError, match='its own reader refuses: .*"iterations"'):
        record.write_record(tmp_path, _record([[1, 1, 1, math.nan, 0.1]]))
    assert not (tmp_path / 'record.json').exists()


def test_a_record_no_process_runs_reads_as_killed(tmp_path):
    record.write_record(tmp_path, _record([[1, 1, 1, 9.5, 0.1]]))
    assert record.read_record(tmp_path)['status'] == 'killed'
    lock = run_folder.FolderLock(tmp_path).acquire()
    try:  # while a run holds the folder, its record is what it says
        assert record.read_record(tmp_path)['status'] == 'running'
    finally:
        lock.release()


def test_a_held_out_loss_past_exp_range_ends_the_epoch_without_a_traceback(corpus, tmp_path):
    out = tmp_path / 'run'
    result = run_in_process('04', '--tiny', '--batch-size', 32, '--seed', 3, '--corpus', corpus,
                            '--valid-fraction', 0.1, '--learning-rate', 1000,
                            '--max-steps', 0, '--out', out)
    assert 'Traceback' not in result.stderr and result.returncode in (0, 1), result.stderr
    read = record.read_record(out)  # the project reads what it wrote
    assert read['status'] in ('finished', 'diverged')
    if read['status'] == 'diverged':  # its last checkpoint is a good one
        assert checkpoints.is_complete(out / 'model-{}'.format(read['last_checkpoint']), True)


# ---------------------------------------------------------------- every state a kill leaves

ARGS = ('--tiny', '--seed', 2, '--save-every', 2, '--max-steps', 14)
# (the nth write or save step, the point): the first writes of a new run;
# the removal of old checkpoints in the last save (iteration 14, the 7th);
# the record's last write (the 8th: seven saves, then the end)
STATES = [(1, 'write:files.json'), (1, 'write:config.json'), (1, 'write:vocab.json'),
          (1, 'write:vocab.pkl'), (7, 'old checkpoints'), (8, 'write:record.json')]


@pytest.fixture(scope='module')
def left(corpus, tmp_path_factory):
    """{point: the folder a run killed there left}, and an unkilled run's folder."""
    base = tmp_path_factory.mktemp('states')
    folders = {}
    killers = {}
    for nth in sorted({n for n, _ in STATES}):  # side by side: each imports TensorFlow once
        points = [p for n, p in STATES if n == nth]
        killers[nth] = points, subprocess.Popen(
            [sys.executable, str(PROJECT_DIR / 'tests' / 'kill_during_save.py'), str(nth),
             str(base / str(nth)), str(RECIPES['03'])] + [str(a) for a in ARGS]
            + ['--corpus', str(corpus), '--'] + points,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for nth, (points, killer) in killers.items():
        stdout, stderr = killer.communicate(timeout=600)
        assert killer.returncode == 0, stderr[-3000:]
        assert dict(line.rsplit(' ', 1) for line in stdout.splitlines()) == \
            {p: '-9' for p in points}, stderr[-3000:]
        for p in points:
            folders[p] = base / str(nth) / p.replace(':', '-').replace(' ', '-')
    whole = base / 'whole'
    assert run_in_process('03', *ARGS, '--corpus', corpus, '--out', whole).returncode == 0
    return folders, whole


@pytest.mark.parametrize('nth, point', STATES[:4])
def test_a_run_killed_at_its_first_writes_starts_again_as_its_advice_says(
        left, corpus, tmp_path, nth, point):
    folders, whole = left
    folder = tmp_path / 'run'
    shutil.copytree(folders[point], folder)
    # nothing was saved: --resume says so and what to do, and changes nothing
    before = folder_bytes(folder)
    line = refused(run_in_process('03', '--resume', folder))
    assert line.endswith('To train it from the start, run its command again, adding '
                         '--overwrite.') or point == 'write:files.json', line
    assert folder_bytes(folder) == before
    again = run_in_process('03', *ARGS, '--corpus', corpus, '--out', folder)
    if point == 'write:files.json':  # only files.json.tmp: no run there yet, it starts
        assert again.returncode == 0, again.stderr[-3000:]
    else:  # the same command names --overwrite, which replaces what the run began
        assert '--overwrite' in refused(again)
        again = run_in_process('03', *ARGS, '--corpus', corpus, '--out', folder, '--overwrite')
        assert again.returncode == 0, again.stderr[-3000:]
    assert losses(folder) == losses(whole)
    assert not [p.name for p in folder.iterdir() if run_folder.is_temporary(p.name)]


@pytest.mark.parametrize('nth, point', STATES[4:])
def test_a_run_killed_after_its_last_save_is_completed_by_resume(left, tmp_path, nth, point):
    folders, whole = left
    folder = tmp_path / 'run'
    shutil.copytree(folders[point], folder)
    assert record.read_record(folder)['status'] == 'killed'  # not 'running': nothing runs it
    result = run_in_process('03', '--resume', folder)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Completing {}'.format(folder) in result.stdout
    read = record.read_record(folder)
    assert read['status'] == 'finished' and losses(folder) == losses(whole)
    assert read['samples'] == json.loads((whole / 'record.json').read_text())['samples']
    assert checkpoints.read_pointer(folder)[0] == ['model-{}'.format(i) for i in (6, 8, 10, 12, 14)]
    assert sorted(checkpoints.saved_iterations(folder)) == [6, 8, 10, 12, 14]
    # and then there is nothing to do
    assert run_in_process('03', '--resume', folder).stderr.startswith('The run already did')


def test_a_run_killed_before_its_figure_was_saved_draws_it_on_resume(run_copy):
    (run_copy / 'loss.png').unlink()  # killed after the record said finished
    result = run_in_process('04', '--resume', run_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'it was stopped before its loss figure was saved' in result.stdout
    assert (run_copy / 'loss.png').read_bytes().startswith(b'\x89PNG')
    assert run_in_process('04', '--resume', run_copy).stderr.startswith('The run already did')


def test_tensorflows_own_temporaries_are_removed_and_a_strangers_files_kept(run_copy):
    ours = ['model-12.data-00000-of-00001.tempstate8123456', 'model-14.index.tempstate77']
    for name in ours:
        (run_copy / name).write_bytes(b'half')
    assert all(run_folder.is_temporary(n) and run_folder.is_ours(n) for n in ours)
    # a user's own TF1 checkpoint beyond the run's, which files.json does not list
    for name in ('model-90.index', 'model-90.data-00000-of-00001'):
        (run_copy / name).write_bytes(b'theirs')
    before = folder_bytes(run_copy)
    line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 20))
    assert 'model-90.*, which this run did not write' in line and 'Move those files' in line
    assert folder_bytes(run_copy) == before  # refused: nothing removed, nothing written
    (run_copy / 'model-90.index').rename(run_copy.parent / 'model-90.index')
    (run_copy / 'model-90.data-00000-of-00001').rename(run_copy.parent / 'model-90.data')
    for name in ('model-16.index', 'model-16.data-00000-of-00001', 'model-16.meta'):
        (run_copy / name).write_bytes(b'theirs too')  # beyond, unlisted: any of its files
        result = run_in_process('04', '--resume', run_copy, '--max-steps', 14)
        assert result.returncode == 1 and 'model-16.*, which this run did not write' in \
            result.stderr and (run_copy / name).read_bytes() == b'theirs too', name
        (run_copy / name).unlink()
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 14)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not any((run_copy / n).exists() for n in ours)


def test_overwrite_removes_the_runs_temporaries_and_keeps_a_strangers_files(run_copy, corpus):
    (run_copy / 'model-12.index.tempstate5').write_bytes(b'half')
    (run_copy / 'model-90.index').write_bytes(b'theirs')
    result = run_in_process('04', '--tiny', '--seed', 2, '--max-steps', 4, '--corpus', corpus,
                            '--out', run_copy, '--overwrite')
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (run_copy / 'model-12.index.tempstate5').exists()
    assert (run_copy / 'model-90.index').read_bytes() == b'theirs'


# ---------------------------------------------------------------- a closed output

def test_a_closed_output_before_training_and_a_closed_stderr(corpus, tmp_path):
    env = dict(os.environ, MPLBACKEND='Agg')
    args = [sys.executable, str(RECIPES['03']), '--tiny', '--seed', 1, '--corpus', corpus]
    early = subprocess.run('{} --out {} | head -3'.format(
        ' '.join(map(str, args)), tmp_path / 'early') + '; exit ${PIPESTATUS[0]}',
        shell=True, executable='/bin/bash', capture_output=True, text=True, env=env)
    assert early.returncode == 141 and early.stderr.strip().endswith(
        'The output was closed (its reader ended) before the first iteration: nothing to '
        'save.'), early.stderr
    quiet = subprocess.run(' '.join(map(str, args)) + ' --max-steps 4 --out {} 2>&-'.format(
        tmp_path / 'quiet'), shell=True, capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and record.read_record(tmp_path / 'quiet')['status'] == \
        'finished'


def test_a_closed_output_stops_the_run_saved_and_resume_goes_on_to_the_same_losses(
        corpus, tmp_path):
    args = ('--tiny', '--seed', 5, '--save-every', 1000, '--eval-every', 2, '--epochs', 100,
            '--max-steps', 200, '--corpus', corpus)
    whole = tmp_path / 'whole'
    assert run_in_process('03', *args, '--out', whole).returncode == 0
    out = tmp_path / 'run'
    child = subprocess.Popen(
        [sys.executable, str(RECIPES['03']), *map(str, args), '--out', str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, MPLBACKEND='Agg'),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # a small pipe, so that the run is still writing into it when its reader goes
    fcntl.fcntl(child.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    for line in child.stdout:  # as `| head` reads its lines, here into training, and ends
        if line.startswith('Iteration: 50,'):
            break
    child.stdout.close()
    stderr = child.stderr.read()
    assert child.wait(timeout=300) == 141, stderr
    assert 'The output was closed (its reader ended): iteration ' in stderr, stderr
    resume = 'python recipes/03_implementing_lstm.py --resume {}'.format(out)
    read = record.read_record(out)
    assert read['status'] == 'interrupted' and read['stopped_because'] == 'the output was closed'
    assert read['to_continue'].endswith('--resume {}'.format(out))
    assert 0 < read['last_checkpoint'] < 200 and resume.split(' --resume')[1] in stderr
    result = run_in_process('03', '--resume', out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert losses(out) == losses(whole)


# ---------------------------------------------------------------- writers and links

def test_a_link_in_tensorboard_is_refused_before_anything_is_written(run_copy, tmp_path):
    outside = tmp_path / 'outside'
    outside.write_text('not to be written')
    (run_copy / 'tensorboard').mkdir()
    (run_copy / 'tensorboard' / 'events.out.tfevents.9999999999.host').symlink_to(outside)
    before = folder_bytes(run_copy)
    for extra in ((), ('--tensorboard',)):
        line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 14, *extra))
        assert 'is a symbolic link' in line, line
    assert folder_bytes(run_copy) == before and outside.read_text() == 'not to be written'


def test_a_writer_named_in_a_folders_config_is_not_turned_on_by_it(run_copy):
    config = json.loads((run_copy / 'config.json').read_text())
    config['tensorboard'] = True  # a stranger's folder asks for TensorBoard
    (run_copy / 'config.json').write_text(json.dumps(config))
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 14)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'add --tensorboard to go on' in result.stderr
    assert not (run_copy / 'tensorboard').exists()


# ---------------------------------------------------------------- refusals change nothing

def test_a_resume_refused_for_a_damaged_files_list_changes_nothing(run_copy):
    (run_copy / 'files.json').write_text('{"format": 1, "files": ["/etc/passwd"]}')
    (run_copy / 'model-14.index.tmp').write_bytes(b'a leftover')
    before = folder_bytes(run_copy)
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 20)
    assert 'files.json: not a list of the names this project writes' in refused(result)
    assert 'Resuming' not in result.stdout and folder_bytes(run_copy) == before


# ---------------------------------------------------------------- advice that works

def test_the_held_out_fraction_advised_holds_out_a_batch():
    ix = list(range(300000))
    with pytest.raises(CorpusError) as err:
        shakespeare_data.hold_out(ix, 1e-9, 4, 8)
    advised = str(err.value).split('of at least ')[1].split(',')[0]
    assert advised == '0.00011'  # 33 of 300,000 tokens, rounded up
    train, held = shakespeare_data.hold_out(ix, float(advised), 4, 8)
    assert len(held) == 1


def test_a_keep_probability_too_low_to_train_is_refused_at_the_flag(corpus, tmp_path):
    line = refused(run_in_process('04', '--tiny', '--dropout', '1e-300', '--out', tmp_path), 2)
    assert line.endswith('argument --dropout: must be a number from 0.01 to 1, got 1e-300')
    result = run_in_process('04', '--tiny', '--seed', 1, '--dropout', '0.01', '--max-steps', 20,
                            '--corpus', corpus, '--out', tmp_path / 'run')
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(loss is not None for _, loss in losses(tmp_path / 'run'))


def test_a_disk_full_at_the_first_write_advises_overwrite_which_works(
        corpus, tmp_path, monkeypatch):
    out = tmp_path / 'run'
    create = safe_files._create_exclusive
    calls = []

    def full_at_config(path):
        calls.append(path)
        if str(path).endswith('config.json.tmp'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return create(path)
    monkeypatch.setattr(safe_files, '_create_exclusive', full_at_config)
    line = refused(run_in_process('04', '--tiny', '--seed', 1, '--max-steps', 4,
                                  '--corpus', corpus, '--out', out))
    assert line.startswith('No space left on device while') and 'adding --overwrite' in line
    monkeypatch.setattr(safe_files, '_create_exclusive', create)  # space freed
    again = run_in_process('04', '--tiny', '--seed', 1, '--max-steps', 4, '--corpus', corpus,
                           '--out', out, '--overwrite')
    assert again.returncode == 0, again.stderr[-3000:]


def test_a_run_diverged_before_its_first_save_advises_a_command_that_works(corpus, tmp_path):
    out = tmp_path / 'run'
    args = ('--tiny', '--seed', 1, '--max-steps', 30, '--save-every', 1000, '--corpus', corpus,
            '--out', out)
    result = run_in_process('04', *args, '--learning-rate', '1e38')  # nan at its 2nd step
    assert result.returncode == 1 and 'No checkpoint was saved before that. Run the same ' \
        'command again with a lower --learning-rate, adding --overwrite' in result.stderr
    again = run_in_process('04', *args, '--learning-rate', '0.001', '--overwrite')
    assert again.returncode == 0, again.stderr[-3000:]


# ---------------------------------------------------------------- costs bounded by the run

def test_finding_a_checkpoint_scans_the_folder_once_whatever_it_holds(run_copy, monkeypatch):
    for i in range(1000, 1400):  # a stranger's 400 one-byte checkpoints
        (run_copy / 'model-{}.index'.format(i)).write_bytes(b'x')
    scans = []
    names_in = run_folder.names_in
    monkeypatch.setattr(run_folder, 'names_in', lambda f: scans.append(f) or names_in(f))
    monkeypatch.setattr(checkpoints, 'names_in', run_folder.names_in)
    run_dir, prefix, note = checkpoints.find_checkpoint(run_copy, need_progress=True)
    assert prefix.endswith('model-12') and len(scans) <= 4


def test_a_folder_too_full_for_the_runs_own_files_is_refused_before_it_writes(run_copy):
    for i in range(run_folder.MAX_ENTRIES - run_folder.RUN_ENTRIES - 5):  # and the run's 16
        (run_copy / 'note-{}'.format(i)).write_bytes(b'')
    before = folder_bytes(run_copy)
    line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 16))
    assert 'too near the 10,000 a run folder may hold' in line
    assert folder_bytes(run_copy) == before


def test_a_folder_of_more_entries_than_a_run_writes_is_refused(run_copy):
    for i in range(run_folder.MAX_ENTRIES):
        (run_copy / 'note-{}'.format(i)).write_bytes(b'')
    with pytest.raises(RunError, match='holds more than 10,000 entries'):
        checkpoints.find_checkpoint(run_copy)


def test_registering_a_file_reads_the_folder_and_the_list_once(run_copy, monkeypatch):
    reads = []
    listed, names_in = run_folder.listed_files, run_folder.names_in
    monkeypatch.setattr(run_folder, 'listed_files', lambda f: reads.append('list') or listed(f))
    monkeypatch.setattr(run_folder, 'names_in', lambda f: reads.append('scan') or names_in(f))
    run_folder.register(run_copy, 'comparison.md')
    assert reads == ['list', 'scan']
    assert 'comparison.md' in run_folder.listed_files(run_copy)


# ---------------------------------------------------------------- memory

def test_the_model_check_counts_the_memory_available_not_the_total(monkeypatch):
    shape = dict(rnn_size=128, embedding_size=128, vocab_size=8000, num_layers=1,
                 separate_layers=False)
    monkeypatch.setattr(memory, 'available_memory', lambda: 2 ** 30)
    memory.check_model_fits(shape, 100, 50)  # the book's recipe 03 fits in 1 GiB
    monkeypatch.setattr(memory, 'available_memory', lambda: 2 ** 20)
    with pytest.raises(Refused, match='this machine has 0.0 GiB available'):
        memory.check_model_fits(shape, 100, 50)


# Peaks measured beyond TensorFlow's import after two training steps, MiB
# (benchmarks/measure_memory.py on a 2-core AMD EPYC): recipe 03 at vocabulary
# 8,009 and embedding 128, recipe 04 at 80 and its rnn_size, batches of 100
MEASURED = [((128, 128, 8009, 1, False), 50, 498), ((2048, 128, 8009, 1, False), 50, 4768),
            ((1024, 1024, 80, 3, False), 50, 5749), ((128, 128, 80, 16, False), 200, 6213),
            ((128, 128, 80, 3, False), 200, 1271), ((512, 512, 80, 8, True), 50, 2927)]


@pytest.mark.parametrize('shape, seq_len, peak', MEASURED)
def test_the_model_check_is_a_lower_bound_of_what_was_measured(shape, seq_len, peak):
    rnn_size, embedding_size, vocab_size, num_layers, separate = shape
    need, _ = memory.model_memory(dict(rnn_size=rnn_size, embedding_size=embedding_size,
                                       vocab_size=vocab_size, num_layers=num_layers,
                                       separate_layers=separate), 100, seq_len)
    assert 0.8 <= need / 2 ** 20 / peak <= 1.0


def test_a_containers_limit_counts_its_droppable_file_pages_as_free(tmp_path, monkeypatch):
    (tmp_path / 'memory.max').write_text('4294967296\n')  # 4 GiB
    (tmp_path / 'memory.current').write_text('4280000000\n')  # nearly all of it in use...
    monkeypatch.setattr(memory, 'CGROUP', str(tmp_path))
    assert memory.available_memory() == 4294967296 - 4280000000
    (tmp_path / 'memory.stat').write_text('anon 1000000000\nfile 3000000000\n'
                                          'inactive_file 2000000000\nactive_file 50\n')
    # ... but 2 GB of it file pages the kernel drops for the run, as MemAvailable counts
    assert memory.available_memory() == 4294967296 - 4280000000 + 2000000000
    (tmp_path / 'memory.max').write_text('max\n')  # no limit: the machine's MemAvailable
    assert memory.available_memory() > 2 ** 20


class _GoneAt(io.StringIO):
    """An output whose reader goes away (BrokenPipeError), or whose user presses
    Ctrl-C (KeyboardInterrupt), when the run starts printing a line."""

    def __init__(self, line_start, error):
        super().__init__()
        self.line_start, self.error, self.raised = line_start, error, False

    def write(self, text):
        if not self.raised and text.startswith(self.line_start):
            self.raised = True
            raise self.error()
        return super().write(text)


@pytest.mark.parametrize('error, status, message', [
    (BrokenPipeError, 141, 'The output was closed (its reader ended): the run in {} is '
                           'complete.'),
    (KeyboardInterrupt, 130, 'Ctrl-C: the drawn continuation was left out; the run in {} is '
                             'complete.')])
def test_an_output_gone_or_ctrl_c_in_the_last_lines_keeps_the_finished_run_and_its_figure(
        corpus, tmp_path, error, status, message):
    """The last lines print after the last save: a reader that goes away (| head)
    or a Ctrl-C there ends the printing, not the run, and the figure is saved."""
    out = tmp_path / 'run'
    stdout = _GoneAt('Drawn from that checkpoint', error)
    result = run_in_process('03', '--tiny', '--max-steps', 10, '--seed', 1, '--corpus', corpus,
                            '--out', out, stdout=stdout)
    assert stdout.raised
    assert result.returncode == status, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == message.format(out)
    assert json.loads((out / 'record.json').read_text())['status'] == 'finished'
    assert (out / 'loss.png').read_bytes()[:4] == b'\x89PNG'
