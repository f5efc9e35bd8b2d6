"""A run folder from a stranger is only data: every command opens it through run_folder.

Each command that reads or writes a run folder (the recipes' --resume and
--out --overwrite, the sampler, the heatmap, the compare command) meets a
folder where something else stands at a name the project writes: a link out
of the folder, a folder, a pipe, a device, an oversized or deeply nested
file, a record naming code. Each must answer in one line, with its exit
status, and leave the folder and everything outside it as they were.
"""
import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

from cookbook_lstm import checkpoints
from cookbook_lstm import errors
from cookbook_lstm import safe_files
from cookbook_lstm import text_source
from cookbook_lstm import vocab_files
from cookbook_lstm import run_folder
from conftest import PROJECT_DIR, run_in_process, script_module

TINY_04 = ('--tiny', '--seed', 2)
COMPARE = PROJECT_DIR / 'tools' / 'compare_to_book.py'


@pytest.fixture
def outside(tmp_path):
    """A user's files outside the run folder: a file, a folder with a file."""
    place = tmp_path / 'outside'
    place.mkdir()
    (place / 'notes.txt').write_text('my own notes\n')
    (place / 'folder').mkdir()
    (place / 'folder' / 'kept.txt').write_text('kept\n')
    return place


def state(folder):
    """Everything under folder, without following a link: name -> what it is."""
    found = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        mode = os.lstat(entry.path).st_mode
        if stat.S_ISLNK(mode):
            found[entry.name] = ('link', os.readlink(entry.path))
        elif stat.S_ISDIR(mode):
            found[entry.name] = ('folder', state(entry.path))
        elif stat.S_ISREG(mode):
            with open(entry.path, 'rb') as f:
                found[entry.name] = ('file', f.read())
        else:
            found[entry.name] = ('special', stat.S_IFMT(mode))
    return found


def compare_in_process(*args):
    """The compare command as its command line runs it, in this process."""
    import contextlib
    import io
    import importlib.util
    from conftest import Result
    spec = importlib.util.spec_from_file_location('compare_to_book', COMPARE)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = compare.command([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


# Each command, on a folder f (a copy of a tiny recipe-04 run), and its status
# when it refuses
COMMANDS = {
    'resume': (lambda f, corpus: run_in_process('04', '--resume', f, '--max-steps', 14), 1),
    'overwrite': (lambda f, corpus: run_in_process('04', *TINY_04, '--max-steps', 1,
                                                   '--corpus', corpus, '--out', f,
                                                   '--overwrite'), 1),
    'sample': (lambda f, corpus: run_in_process('sample', '--checkpoint', f), 1),
    'heatmap': (lambda f, corpus: run_in_process('heatmap', '--checkpoint', f), 1),
    'compare': (lambda f, corpus: compare_in_process(f), 2),
}


def refused(result, status):
    """The one line a refusal prints, after checking it is alone and no stack."""
    assert result.returncode == status, (result.stdout[-2000:], result.stderr[-3000:])
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- links out of the folder

# Every name the project writes in a run folder, as a file or as a folder
LINKED_FILES = ['run.lock', 'record.json', 'config.json', 'vocab.json', 'checkpoint',
                'loss.png', 'files.json', 'comparison.png', 'comparison.md',
                'cell_states.png', 'record.json.tmp', 'config.json.tmp', 'loss.png.tmp',
                'checkpoint.tmp', 'files.json.tmp', 'comparison.md.tmp', 'comparison.png.tmp',
                'cell_states.png.tmp', 'model-12.progress.npz.tmp', 'model-14.index']
LINKED_FOLDERS = ['tensorboard', 'model-14_temp']


@pytest.mark.parametrize('command', sorted(COMMANDS))
@pytest.mark.parametrize('name', LINKED_FILES + LINKED_FOLDERS)
def test_a_link_at_a_name_the_project_writes_is_refused_and_followed_by_none(
        command, name, run_copy, outside, corpus):
    target = outside / ('folder' if name in LINKED_FOLDERS else 'notes.txt')
    link = run_copy / name
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    before, before_outside = state(run_copy), state(outside)
    run, status = COMMANDS[command]
    line = refused(run(run_copy, corpus), status)
    assert '{} is a symbolic link, where this project keeps a {}'.format(
        link, 'folder' if name in LINKED_FOLDERS else 'file') in line, line
    assert state(run_copy) == before
    assert state(outside) == before_outside


@pytest.mark.parametrize('command', ['resume', 'compare'])
def test_a_record_linked_to_dev_zero_is_refused_unread(command, run_copy, corpus):
    (run_copy / 'record.json').unlink()
    os.symlink('/dev/zero', run_copy / 'record.json')
    run, status = COMMANDS[command]
    assert '{} is a symbolic link'.format(run_copy / 'record.json') in refused(
        run(run_copy, corpus), status)


def test_an_index_larger_than_a_run_writes_is_refused_before_tensorflow_reads_it(run_copy):
    with open(run_copy / 'model-12.index', 'r+b') as f:
        f.truncate(safe_files.LIMITS['.index'] + 1)  # sparse
    line = refused(run_in_process('sample', '--checkpoint', run_copy), 1)
    assert 'model-12.index is 67,108,865 bytes, more than the 67,108,864 this project ' \
           'writes there' in line, line


def test_a_dangling_lock_link_creates_nothing(run_copy, tmp_path, corpus):
    (run_copy / 'run.lock').unlink()
    os.symlink(tmp_path / 'created-by-the-lock', run_copy / 'run.lock')
    for command in ('resume', 'overwrite'):
        run, status = COMMANDS[command]
        assert 'is a symbolic link' in refused(run(run_copy, corpus), status)
    assert not os.path.lexists(tmp_path / 'created-by-the-lock')


# ---------------------------------------------------------------- folders, pipes, devices

def _plant(path, kind):
    if os.path.lexists(path):
        os.unlink(path)
    if kind == 'folder':
        path.mkdir()
    elif kind == 'pipe':
        os.mkfifo(path)
    else:  # a character device, as /dev/zero is one
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))


@pytest.mark.parametrize('command', sorted(COMMANDS))
@pytest.mark.parametrize('name, kind, said', [
    ('record.json', 'pipe', 'a named pipe'),
    ('config.json', 'device', 'a device file'),
    ('vocab.json', 'pipe', 'a named pipe'),
    ('run.lock', 'folder', 'a folder'),
    ('record.json', 'folder', 'a folder'),
    ('loss.png', 'folder', 'a folder'),
    ('comparison.png', 'folder', 'a folder'),
    ('checkpoint', 'device', 'a device file'),
])
def test_a_pipe_a_device_or_a_folder_at_a_file_name_is_refused_unopened(
        command, name, kind, said, run_copy, corpus):
    _plant(run_copy / name, kind)
    before = state(run_copy)
    run, status = COMMANDS[command]
    line = refused(run(run_copy, corpus), status)
    assert '{} is {}, where this project keeps a file'.format(run_copy / name, said) in line
    assert state(run_copy) == before


# ---------------------------------------------------------------- bounded reads

# What each command reads of these three
READS = {'resume': ('record.json', 'config.json', 'vocab.json'),
         'sample': ('config.json', 'vocab.json'), 'compare': ('record.json',)}


@pytest.mark.parametrize('command', ['resume', 'sample', 'compare'])
@pytest.mark.parametrize('name', ['record.json', 'config.json', 'vocab.json'])
def test_a_file_larger_than_a_run_writes_is_refused_unread(command, name, run_copy, corpus):
    if name in READS[command]:
        limit = safe_files.LIMITS[name]
        with open(run_copy / name, 'r+b') as f:
            f.truncate(limit + 1)  # sparse: no disk used
        before = state(run_copy) if limit < 2 ** 24 else None
        run, status = COMMANDS[command]
        line = refused(run(run_copy, corpus), status)
        assert '{} is {:,} bytes, more than the {:,} this project writes there'.format(
            run_copy / name, limit + 1, limit) in line, line
        if before is not None:
            assert state(run_copy) == before


@pytest.mark.parametrize('command', ['resume', 'sample', 'compare'])
@pytest.mark.parametrize('name', ['record.json', 'config.json', 'vocab.json'])
def test_json_nested_deeper_than_a_run_writes_is_refused(command, name, run_copy, corpus):
    if name not in READS[command]:
        return
    for depth in (9, 100000):  # one level too deep; deeper than Python can recurse
        (run_copy / name).write_text('[' * depth + ']' * depth)
        before = state(run_copy)
        run, status = COMMANDS[command]
        line = refused(run(run_copy, corpus), status)
        assert '{} nests deeper than the 8 levels this project writes there'.format(
            run_copy / name) in line, line
        assert state(run_copy) == before


def test_a_config_whose_graph_would_not_fit_is_refused_before_it_is_built(run_copy):
    config = json.loads((run_copy / 'config.json').read_text())
    config['num_layers'] = 100000
    (run_copy / 'config.json').write_text(json.dumps(config))
    line = refused(run_in_process('sample', '--checkpoint', run_copy), 1)
    assert '"num_layers" is 100000, it must be a whole number of at least 1 and at most ' \
           '64' in line
    # within the bounds, but too large together for this machine's memory
    config.update(num_layers=3, rnn_size=16384, vocab_size=2 ** 22, embedding_size=16384)
    (run_copy / 'config.json').write_text(json.dumps(config))
    for tool in ('sample', 'heatmap'):
        line = refused(run_in_process(tool, '--checkpoint', run_copy), 1)
        assert line.startswith('The model would need at least ') and 'sample on a machine ' \
            'with more memory' in line, line


# ---------------------------------------------------------------- nothing names code

@pytest.fixture
def crafted(run_copy):
    """A folder carrying its own code, and a published file that would import it."""
    marker = run_copy / 'executed'
    (run_copy / 'evil.py').write_text(textwrap.dedent('''\
        open({!r}, 'w').write('ran')
        class Config:
            pass
        ''').format(str(marker)))
    published = json.loads((PROJECT_DIR / 'published' / '04_stacking_multiple_lstm.json')
                           .read_text())
    published['recipe'] = str(run_copy / 'evil')
    (run_copy / 'evil.json').write_text(json.dumps(published))
    return marker


@pytest.mark.parametrize('recipe', ['{folder}/evil', '../../{folder_name}/evil', 'os',
                                    'sample_shakespeare', '05_bidirectional_lstm/../evil'])
def test_a_record_naming_a_path_or_a_module_runs_nothing(recipe, run_copy, crafted):
    record = json.loads((run_copy / 'record.json').read_text())
    record['recipe'] = recipe.format(folder=run_copy, folder_name=run_copy.name)
    (run_copy / 'record.json').write_text(json.dumps(record))
    before = state(run_copy)
    line = refused(compare_in_process(run_copy), 2)
    assert '"recipe" is {}, not a recipe of this project'.format(
        json.dumps(record['recipe'])) in line, line
    assert not crafted.exists()
    assert state(run_copy) == before


def test_a_published_file_naming_code_runs_nothing(run_copy, crafted, tmp_path):
    published = tmp_path / 'published'
    published.mkdir()
    shutil.copy(run_copy / 'evil.json', published / '04_stacking_multiple_lstm.json')
    line = refused(compare_in_process(run_copy, '--published', published), 2)
    assert 'is not the published figures of recipe 04_stacking_multiple_lstm (it names ' \
           'recipe' in line
    assert not crafted.exists()


# ---------------------------------------------------------------- what --overwrite removes

def test_overwrite_keeps_a_users_own_tf1_files(tmp_path, corpus):
    out = tmp_path / 'theirs'
    out.mkdir()
    for name in ('checkpoint', 'model-1000.index', 'model-1000.data-00000-of-00001',
                 'model-1000.meta', 'record.json'):
        (out / name).write_text('the user\'s own {}\n'.format(name))
    before = state(out)
    result = run_in_process('04', '--tiny', '--corpus', corpus, '--out', out, '--overwrite')
    assert refused(result, 1) == (
        '--overwrite: {} holds files of a run that this project did not list as its own '
        '(it has no files.json and no config.json), so --overwrite will not remove them. '
        'Move them away, or choose another --out.'.format(out))
    assert state(out) == before


def test_overwrite_removes_what_files_json_lists_and_nothing_else(run_copy, corpus):
    (run_copy / 'model-1000.index').write_text('mine')  # a name the project could write
    result = run_in_process('04', *TINY_04, '--max-steps', 1, '--corpus', corpus,
                            '--out', run_copy, '--overwrite')
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_copy / 'model-1000.index').read_text() == 'mine'
    assert json.loads((run_copy / 'files.json').read_text())['files'] == [
        'config.json', 'vocab.json', 'vocab.pkl', 'model-1', 'record.json', 'checkpoint',
        'loss.png']


def test_files_json_naming_other_files_is_refused(run_copy, corpus):
    (run_copy / 'files.json').write_text(json.dumps({'format': 1, 'files': ['../outside']}))
    before = state(run_copy)
    result = run_in_process('04', *TINY_04, '--corpus', corpus, '--out', run_copy,
                            '--overwrite')
    assert 'files.json: not a list of the names this project writes' in refused(result, 1)
    assert state(run_copy) == before


# ---------------------------------------------------------------- a run that does nothing

def test_resume_with_nothing_left_to_train_writes_nothing(run_copy):
    before = state(run_copy)
    result = run_in_process('04', '--resume', run_copy, '--max-steps', 5)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == 'The run already did 12 iterations, and --max-steps is 5; nothing ' \
        'is left to train. Nothing was written. Give a larger --max-steps (0: no limit) ' \
        'or --epochs to train it further.\n'
    assert 'Resuming' not in result.stdout
    assert state(run_copy) == before


# ---------------------------------------------------------------- the lock's holder

def test_the_lock_refusal_names_the_process_that_holds_it_now(run_copy, corpus):
    (run_copy / 'run.lock').write_text('PID 1\n')  # a long-dead first trainer
    holder = subprocess.Popen(
        [sys.executable, '-c', textwrap.dedent('''\
            import sys, time
            sys.path.insert(0, {!r})
            from cookbook_lstm import run_folder
            lock = run_folder.FolderLock({!r}).acquire()
            print('held', flush=True)
            time.sleep(60)
            ''').format(str(PROJECT_DIR), str(run_copy))],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == 'held\n'
        for command in ('resume', 'overwrite'):
            run, status = COMMANDS[command]
            line = refused(run(run_copy, corpus), status)
            assert 'a run is writing there (PID {})'.format(holder.pid) in line, line
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- advice that works

def test_a_damaged_latest_checkpoint_is_answered_with_advice_that_works(run_copy, tmp_path):
    data = run_copy / 'model-12.data-00000-of-00001'
    data.write_bytes(b'\0' * data.stat().st_size)
    line = refused(run_in_process('sample', '--checkpoint', run_copy), 1)
    assert 'It is damaged: move its files (model-12.*) out of the folder, then give the ' \
           'folder again: its newest complete checkpoint is used.' in line, line
    aside = tmp_path / 'aside'
    aside.mkdir()
    for path in run_copy.glob('model-12.*'):
        shutil.move(str(path), str(aside / path.name))
    resumed = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'Resuming {} at iteration 11'.format(run_copy) in resumed.stdout


def test_the_heatmap_advice_to_read_the_pickle_is_a_flag_it_takes(run_copy, tmp_path):
    (run_copy / 'vocab.json').unlink()
    line = refused(run_in_process('heatmap', '--checkpoint', run_copy), 1)
    assert 'add --read-vocab-pkl' in line
    out = tmp_path / 'heatmap.png'
    result = run_in_process('heatmap', '--checkpoint', run_copy, '--read-vocab-pkl',
                            '--out', out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.read_bytes().startswith(b'\x89PNG')


@pytest.mark.parametrize('args, message', [
    (('--text', ''), "--text '' is empty once punctuation and whitespace are removed: give "
                     'a line of text to read'),
    (('--text', '?!'), "--text '?!' is empty once punctuation"),
    (('--out', '{tmp}/missing/h.png'), 'the folder {tmp}/missing does not exist; create it'),
    (('--out', '{tmp}'), '--out {tmp}: something is there already; give the name of a new '
                         'file.'),
])
def test_heatmap_refuses_its_own_bad_input_before_any_work(args, message, run_copy, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    line = refused(run_in_process('heatmap', '--checkpoint', run_copy, *args), 1)
    assert message.format(tmp=tmp_path) in line, line


def test_a_checkpoint_removed_while_read_is_called_removed_not_corrupt(graph, tmp_path):
    import tensorflow as tf
    tf.compat.v1.get_variable('w', [2])
    saver = tf.compat.v1.train.Saver()
    with pytest.raises(errors.RunError, match=r'model-5 was removed while it was being '
                       r'read: a run writing in this folder keeps '
                       r'only its newest checkpoints'):
        checkpoints.restore(graph, saver, str(tmp_path / 'model-5'))


def test_learning_rate_inf_is_refused(tmp_path):
    result = run_in_process('03', '--learning-rate', 'inf', '--out', tmp_path / 'r')
    assert result.returncode == 2
    assert 'argument --learning-rate: must be a number above 0, got inf' in result.stderr


def test_a_tiny_temperature_samples_the_most_probable_tokens(saved_run):
    cold = run_in_process('sample', '--checkpoint', saved_run, '--strategy', 'weighted',
                          '--temperature', '1e-38', '--seed', 1, '--num', 20)
    greedy = run_in_process('sample', '--checkpoint', saved_run, '--num', 20)
    assert cold.returncode == 0 and 'Traceback' not in cold.stderr, cold.stderr[-3000:]
    # at a temperature near 0 a draw is the greedy choice, but for 'unknown', which a
    # draw never takes and at which greedy stops (the book's rule)
    pairs = list(zip(cold.stdout.splitlines(), greedy.stdout.splitlines()))
    assert len(pairs) == 3 and all(c.startswith(g) for c, g in pairs), pairs


# ---------------------------------------------------------------- the compare command

@pytest.mark.parametrize('content, message', [
    ([], 'record.json holds list, not a run\'s record'),
    ('x', 'record.json holds str, not a run\'s record'),
    ({'recipe': '04_stacking_multiple_lstm', 'status': 'finished', 'iterations': {'rows': []},
      'samples': []}, 'record.json: "config" is missing'),
])
def test_compare_on_a_record_of_the_wrong_form_says_so_in_one_line(content, message, run_copy):
    (run_copy / 'record.json').write_text(json.dumps(content))
    assert message in refused(compare_in_process(run_copy), 2)


@pytest.mark.parametrize('error, message', [
    # the first file it writes is the list of the run's files, before comparison.png
    (errno.EACCES, 'Cannot write {run}/files.json (Permission denied): choose a folder '
                   'you can write to.'),
    (errno.EROFS, 'Cannot write {run}/files.json (Read-only file system)'),
    (errno.ENOSPC, 'no space left on device'),
])
def test_compare_on_a_folder_it_cannot_write_says_so_in_one_line(error, message, run_copy,
                                                                 monkeypatch):
    def refuse(path):
        raise OSError(error, os.strerror(error), str(path))
    monkeypatch.setattr(safe_files, '_create_exclusive', refuse)
    line = refused(compare_in_process(run_copy), 2)
    assert message.format(run=run_copy) in line, line


def test_compare_stopped_by_ctrl_c_says_so_in_one_line(run_copy, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(run_folder, 'write_file', interrupted)
    result = compare_in_process(run_copy)
    assert result.returncode == 130
    assert result.stderr.strip() == 'Stopped by Ctrl-C.'


def test_compare_piped_into_head_ends_quietly(saved_run, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(saved_run, copy)
    env = dict(os.environ, MPLBACKEND='Agg')
    child = subprocess.Popen([sys.executable, str(COMPARE), str(copy)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    child.stdout.readline()
    child.stdout.close()  # as head does once it has its lines
    stderr = child.stderr.read().decode()
    child.wait(timeout=120)
    assert 'Traceback' not in stderr and 'Exception ignored' not in stderr, stderr
    assert child.returncode == 141  # its own status: not 1, 'outside its band'


# ---------------------------------------------------------------- writes

def test_a_write_never_follows_a_link_at_its_temporary_file(tmp_path, outside):
    os.symlink(outside / 'notes.txt', tmp_path / 'record.json.tmp')
    with pytest.raises(errors.RunError, match=r'record.json.tmp is a symbolic link'):
        safe_files.write_atomically(tmp_path / 'record.json', '{}')
    assert (outside / 'notes.txt').read_text() == 'my own notes\n'
    assert not (tmp_path / 'record.json').exists()


def test_a_temporary_file_left_by_a_kill_is_replaced(tmp_path):
    (tmp_path / 'record.json.tmp').write_text('half of a write')
    safe_files.write_atomically(tmp_path / 'record.json', '{}')
    assert (tmp_path / 'record.json').read_text() == '{}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['record.json']


# ---------------------------------------------------------------- the classifier

def test_recipe_05_takes_the_lock_and_its_record_says_how_it_ended(tmp_path, monkeypatch):
    out = tmp_path / 'run05'
    args = ('--tiny', '--offline', '--variant', 'lstm', '--seed', 1, '--out', out)
    first = run_in_process('05', *args)
    assert first.returncode == 0, first.stderr[-3000:]
    listed = json.loads((out / 'files.json').read_text())['files']
    assert listed == ['config.json', 'vocab.json', 'record.json', 'lstm', 'accuracy.png']
    # a live run's folder is refused, even with --overwrite
    lock = run_folder.FolderLock(out).acquire()
    before = state(out)
    try:
        line = refused(run_in_process('05', *args, '--overwrite'), 1)
    finally:
        lock.release()
    assert 'is in use: a run is writing there' in line
    assert state(out) == before
    # Ctrl-C: the record says the run was interrupted
    recipe = script_module('05')

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(recipe, 'evaluate', interrupted)
    stopped = run_in_process('05', *args, '--overwrite')
    assert stopped.returncode == 130
    assert json.loads((out / 'record.json').read_text())['status'] == 'interrupted'


# ---------------------------------------------------------------- what a hostile tester found

def _edit(path, change):
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


@pytest.mark.parametrize('command', ['resume', 'overwrite'])
def test_a_hard_linked_lock_is_refused_and_the_file_it_shares_kept(command, run_copy, outside,
                                                                   corpus):
    (run_copy / 'run.lock').unlink()
    os.link(outside / 'notes.txt', run_copy / 'run.lock')
    run, status = COMMANDS[command]
    line = refused(run(run_copy, corpus), status)
    assert '{} is a hard link to a file elsewhere'.format(run_copy / 'run.lock') in line, line
    assert (outside / 'notes.txt').read_text() == 'my own notes\n'


def test_a_text_file_the_folder_names_is_never_opened(run_copy, outside, monkeypatch):
    # the run trained on a --corpus file: its path in config.json is not read
    def name_outside(config):
        config['corpus'].update(source='file {}'.format(outside / 'notes.txt'),
                                sha256='0' * 64)
    _edit(run_copy / 'config.json', name_outside)
    opened = []
    real_read = safe_files.read_bytes
    monkeypatch.setattr(text_source, 'read_bytes', lambda path, *a: opened.append(
        str(path)) or real_read(path, *a))
    line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 14), 1)
    assert 'a path read from a run folder is never opened. Give that text again: --corpus ' \
           'PATH (its sha256 must be {})'.format('0' * 64) in line, line
    assert str(outside / 'notes.txt') not in opened


def test_a_run_trained_on_a_file_resumes_from_the_copy_kept_by_its_sha256(run_copy):
    # the tiny run trained on --corpus; resumed without it, it finds the kept copy
    resumed = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'corpora' in resumed.stdout  # Text source: file .../temp/corpora/<sha256>.txt


def _progress(run_copy, change):
    """Rewrite model-12's progress file with change(arrays) applied."""
    import io
    import numpy as np
    path = run_copy / 'model-12.progress.npz'
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _meta(**changes):
    def change(arrays):
        import numpy as np
        meta = json.loads(arrays['meta'].tobytes())
        meta.update(changes)
        arrays['meta'] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    return change


@pytest.mark.parametrize('change, message', [
    (lambda a: a.update(order=__import__('numpy').zeros(10 ** 9, dtype='V0')),
     'it cannot be read (ValueError: an array of items of no size)'),
    (_meta(batch=999999999), 'batch 999999999 is beyond the epoch'),
])
def test_a_progress_file_that_would_take_memory_or_skip_batches_is_refused(change, message,
                                                                           run_copy):
    _progress(run_copy, change)
    before = state(run_copy)
    line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 14), 1)
    assert message in line, line
    assert state(run_copy) == before


@pytest.mark.parametrize('name, change, message', [
    ('record.json', lambda r: r.update(resumptions='x'),
     '"resumptions" is not a list of resumptions'),
    ('record.json', lambda r: r['iterations']['rows'][3].__setitem__(4, 10 ** 400),
     '"iterations" holds no rows'),
    # a cross-entropy is never below 0 (a loss of 1e308, a diverging run's, is read)
    ('record.json', lambda r: r['iterations']['rows'][3].__setitem__(3, -1.0),
     '"iterations" holds no rows'),
    ('record.json', lambda r: r['iterations']['rows'].pop(4), '"iterations" holds no rows'),
    ('config.json', lambda c: c.update(learning_rate=10 ** 400), '"learning_rate" is 1000'),
    ('config.json', lambda c: c.update(training_seq_len=5000000),
     '"training_seq_len" is 5000000, it must be a whole number of at least 1 and at most '
     '1,000'),
    ('config.json', lambda c: c['corpus'].update(source=5), '"corpus" is'),
])
def test_values_no_run_writes_are_refused_in_one_line(name, change, message, run_copy):
    _edit(run_copy / name, change)
    before = state(run_copy)
    line = refused(run_in_process('04', '--resume', run_copy, '--max-steps', 14), 1)
    assert message in line, line
    assert state(run_copy) == before


def test_compare_with_published_figures_of_another_form_says_so(run_copy, tmp_path):
    published = tmp_path / 'published'
    published.mkdir()
    figures = json.loads((PROJECT_DIR / 'published' / '04_stacking_multiple_lstm.json')
                         .read_text())
    figures['graphs'] = {}
    (published / '04_stacking_multiple_lstm.json').write_text(json.dumps(figures))
    line = refused(compare_in_process(run_copy, '--published', published), 2)
    assert 'the published figures are not of the form this command reads (KeyError' in line


def test_compare_spread_of_runs_too_short_says_so(run_copy, tmp_path):
    other = tmp_path / 'other'
    shutil.copytree(run_copy, other)
    _edit(other / 'record.json', lambda r: r['iterations'].update(rows=[]))
    line = refused(compare_in_process(run_copy, other, '--spread'), 2)
    assert '--spread: a run has 0 iterations; each needs at least 10.' in line


@pytest.mark.parametrize('pickled, message', [
    # LONG_BINPUT at place 2**27: the unpickler would grow its memory to match
    (b'\x80\x04]r' + (2 ** 27).to_bytes(4, 'little') + b'.',
     'it stores an object at place 134217728 of its memory after 3 steps'),
    # a tuple nested a million deep as a dict key: hashing it crashes Python
    (b'\x80\x04]})' + b'\x85' * 1000000 + b'K\x00s}aa.', 'it asks for EMPTY_TUPLE'),
    (b'\x80\x04]' + b']' * 100 + b'a' * 100 + b'.', 'nests deeper than the book'),
])
def test_a_crafted_vocab_pkl_is_refused_before_it_costs_memory(pickled, message, tmp_path):
    (tmp_path / 'vocab.pkl').write_bytes(pickled)
    with pytest.raises(errors.RunError) as caught:
        vocab_files.read_vocab(tmp_path, allow_pickle=True)
    assert message in str(caught.value)


def test_a_folder_of_the_users_own_checkpoints_is_not_a_new_runs(tmp_path, outside, corpus):
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'model-10.index').write_text('my own checkpoint\n')
    (out / 'loss.png').write_text('my own figure\n')
    before = state(out)
    line = refused(run_in_process('04', *TINY_04, '--corpus', corpus, '--out', out), 1)
    assert 'already holds a run (it has loss.png, model-10.index)' in line, line
    assert state(out) == before


def test_a_folder_from_before_files_json_lists_its_earlier_files_once_resumed(run_copy):
    (run_copy / 'files.json').unlink()  # as a run of an earlier version left it
    resumed = run_in_process('04', '--resume', run_copy, '--max-steps', 13)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads((run_copy / 'files.json').read_text())['files'] == [
        'checkpoint', 'config.json', 'loss.png', 'model-10', 'model-12', 'record.json',
        'vocab.json', 'vocab.pkl', 'model-13']


def test_compare_on_a_run_claiming_ten_trillion_batches_builds_no_list_of_them(run_copy):
    # the epoch-10 span is a range, looked at only when the run reached it
    _edit(run_copy / 'record.json', lambda r: r['config'].update(num_batches=10 ** 13))
    result = compare_in_process(run_copy)
    # nothing judged (a --tiny run claiming other counts): exit status 3
    assert result.returncode == 3 and 'Traceback' not in result.stderr, result.stderr
    assert 'not reached' in result.stdout or 'not comparable' in result.stdout


def test_a_run_folder_the_user_names_through_a_link_is_used(run_copy, tmp_path):
    # the user's own path may be a link; what is inside the folder is never followed
    link = tmp_path / 'shortcut'
    os.symlink(run_copy, link)
    sampled = run_in_process('sample', '--checkpoint', link, '--num', 3)
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    resumed = run_in_process('04', '--resume', link, '--max-steps', 13)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run_copy / 'model-13.index').is_file()
