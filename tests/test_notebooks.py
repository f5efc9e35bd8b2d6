"""The notebooks run, offline, a few steps each; the committed ones hold no outputs;
their executed copies in docs/notebooks/ are of the same code, and their times are
the ones the README, docs/teaching.md and the notebooks give."""
import os
import re
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / 'notebooks'
COPIES = NOTEBOOKS.parent / 'docs' / 'notebooks'
# What the tests change in each notebook's parameters cell: a few steps only
SHORT = {'02_implementing_rnn': 'changes = dict(epochs=2, batch_size=1500)\ndata_dir = {tmp!r}',
         '03_implementing_lstm': 'max_steps = 3\ndata_dir = {tmp!r}',
         '04_stacking_multiple_lstm': 'max_steps = 3\ndata_dir = {tmp!r}',
         '06_siamese_similarity': 'max_steps = 3',
         'bidirectional_lstm': 'max_examples = 64\nepochs = 1'}
# The notebooks whose times the README gives, in its order
IN_README = ('03_implementing_lstm', '04_stacking_multiple_lstm', 'bidirectional_lstm')


def test_every_notebook_is_tested():
    assert sorted(p.stem for p in NOTEBOOKS.glob('*.ipynb')) == sorted(SHORT)


@pytest.mark.parametrize('name', sorted(SHORT))
def test_the_committed_notebook_holds_no_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == 'code':
            assert cell.outputs == [] and cell.execution_count is None, \
                'clear the outputs of {} before committing it'.format(name)


def short_run(name, tmp_path):
    """The notebook with its parameters cell set for a few steps."""
    notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
    [parameters] = [c for c in notebook.cells if 'parameters' in c.metadata.get('tags', [])]
    parameters.source += '\n' + SHORT[name].format(tmp=str(tmp_path))
    return notebook


@pytest.mark.parametrize('name', sorted(SHORT))
def test_the_notebook_runs_offline(name, tmp_path):
    notebook = short_run(name, tmp_path)
    NotebookClient(notebook, timeout=300, kernel_name='python3',
                   resources={'metadata': {'path': str(NOTEBOOKS)}}).execute()
    outputs = ''.join(o.get('text', '') for c in notebook.cells if c.cell_type == 'code'
                      for o in c.outputs)
    assert 'Traceback' not in outputs
    if name == 'bidirectional_lstm':
        assert 'bilstm, epoch 1: training accuracy' in outputs
        assert 'forward output at the first word changed by  0.0' in outputs
    elif name == '02_implementing_rnn':
        # the cell's equation beside BasicRNNCell, on hand-made numbers
        [difference] = re.findall(r'largest difference: (\S+) \(float32 rounding\)', outputs)
        assert float(difference) < 1e-6
        assert 'the final state is the last output: True' in outputs
        # the data, its balance and the vocabulary, as the recipe prints them
        assert '5,574 messages: 4,827 ham (86.6%), 747 spam (13.4%)' in outputs
        assert "A constant 'ham' scores 0.87 on the test set (spam is class 0)" in outputs
        assert 'Vocabulary Size: 933 (the 932 words kept and <UNK>)' in outputs
        assert 'Trainable parameters = 47,282' in outputs
        assert 'no message costs less than 0.313' in outputs
        # both trainings, 2 epochs of 3 batches; the confusion matrices; the padding
        assert outputs.count('Epoch: 2, Test Loss: ') == 2
        assert outputs.count('Trained 6 batches') == 2
        assert outputs.count('of the 146 spam messages caught') == 2
        assert 'of the 1115 test messages' in outputs
    elif name == '06_siamese_similarity':
        # one set of weights for both towers; the same address scores 1 at keep 1.0
        assert 'shared weights: True (36,610 weights' in outputs
        assert 'rewriting off, keep probability 1.0: outputs identical: True' in outputs
        # the loss as written, and as the book's -1 targets make it
        assert "model.loss is 2s^2 - 0.25(1-s)^2 (to float32 rounding): True" in outputs
        assert 'lowest -0.286 at s = -0.14' in outputs
        # both trainings, and the matches beside the book's
        assert outputs.count('Trained 3 batches') == 2
        assert outputs.count("Query Addresses: ['111 abbey ln', '271 doner cicle'") == 2
        assert outputs.count('Model Found Matches: [') == 2
        assert "The book printed:    ['123 abbey ln', '217 donner cir', '314 kings ave', " \
            "'tensorflow is so fun']" in outputs
    else:
        assert 'Trained 3 iterations' in outputs
        # the equations against the cell (03) and the heatmap's units (04)
        assert ('step 3: h from TensorFlow' in outputs) == (name == '03_implementing_lstm')
        assert ('with place in word' in outputs) == (name == '04_stacking_multiple_lstm')


def test_a_broken_cell_fails_the_run(tmp_path):
    notebook = short_run('bidirectional_lstm', tmp_path)
    [parameters] = [c for c in notebook.cells if 'parameters' in c.metadata.get('tags', [])]
    parameters.source += '\nraise RuntimeError("broken on purpose")'
    from nbclient.exceptions import CellExecutionError
    with pytest.raises(CellExecutionError, match='broken on purpose'):
        NotebookClient(notebook, timeout=300, kernel_name='python3',
                       resources={'metadata': {'path': str(NOTEBOOKS)}}).execute()


def cells_of(notebook):
    return [(c.cell_type, c.source) for c in notebook.cells]


@pytest.mark.parametrize('name', sorted(SHORT))
def test_the_executed_copy_is_of_the_same_code_with_its_outputs_and_no_error(name):
    notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
    copy = nbformat.read(COPIES / (name + '.ipynb'), as_version=4)
    assert cells_of(copy) == cells_of(notebook), \
        'run python notebooks/execute.py {} to make the copy again'.format(name)
    outputs = [o for c in copy.cells if c.cell_type == 'code' for o in c.outputs]
    assert [o for o in outputs if o.output_type == 'error'] == []
    assert all(c.execution_count for c in copy.cells if c.cell_type == 'code')
    figures = [o for o in outputs if 'image/png' in o.get('data', {})]
    # the loss curve (and the heatmap, 04); the accuracy curves (the classifier); the
    # loss against the score, and the two trainings' loss and accuracy (06); the test
    # loss and accuracy, and the states over two messages (02)
    assert len(figures) == (2 if name in ('02_implementing_rnn', '04_stacking_multiple_lstm',
                                          '06_siamese_similarity') else 1)
    assert copy.metadata['executed']['seconds'] > 0


def execute_module():
    """notebooks/execute.py as a module (its fingerprint and machine_paths)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('notebooks_execute', NOTEBOOKS / 'execute.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('name', sorted(SHORT))
def test_the_executed_copy_is_of_the_current_notebook_and_project_files(name):
    """The copy's fingerprint, recomputed: the notebook's code cells and every project
    source file its kernel imported (listed in the copy), as they are now. A printed
    setting added to a module, or any change to it, since the copy was made fails here."""
    execute = execute_module()
    notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
    executed = nbformat.read(COPIES / (name + '.ipynb'), as_version=4).metadata['executed']
    files = executed.get('sources')
    advice = 'run python notebooks/execute.py {} (from the project root) to make ' \
        'docs/notebooks/{}.ipynb again'.format(name, name)
    assert isinstance(files, list) and 'fingerprint' in executed, \
        'the copy of {} has no fingerprint: {}'.format(name, advice)
    assert 'lstm_model.py' in files or name in ('02_implementing_rnn', '06_siamese_similarity')
    assert any(f.startswith('cookbook_lstm/') for f in files)
    missing = [f for f in files if not (NOTEBOOKS.parent / f).is_file()]
    assert not missing, 'the copy of {} imported {}, gone: {}'.format(name, missing, advice)
    assert execute.fingerprint(notebook, files) == executed['fingerprint'], \
        'the copy of {} is stale: its notebook or a project file it imports changed: ' \
        '{}'.format(name, advice)


def test_the_fingerprint_changes_with_a_code_cell_or_an_imported_file(tmp_path):
    execute = execute_module()
    (tmp_path / 'module.py').write_text('x = 1\n')
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print(1)'),
                                               nbformat.v4.new_markdown_cell('prose')])
    before = execute.fingerprint(notebook, ['module.py'], tmp_path)
    notebook.cells[1].source = 'other prose'   # text cells: --text-only copies them
    assert execute.fingerprint(notebook, ['module.py'], tmp_path) == before
    (tmp_path / 'module.py').write_text('x = 1\nprint(x)\n')
    assert execute.fingerprint(notebook, ['module.py'], tmp_path) != before
    (tmp_path / 'module.py').write_text('x = 1\n')
    notebook.cells[0].source = 'print(2)'
    assert execute.fingerprint(notebook, ['module.py'], tmp_path) != before


@pytest.mark.parametrize('name', sorted(SHORT))
def test_the_executed_copy_shows_no_path_of_this_machine(name):
    """Not the project's absolute path, nor a home or temporary folder's: the notebooks
    print paths relative to the project."""
    text = (COPIES / (name + '.ipynb')).read_text()
    project = NOTEBOOKS.parent
    for path in {str(project), str(project.resolve())}:
        assert path not in text, name
    assert execute_module().machine_paths(text) == [], name
    assert execute_module().machine_paths('cache /home/me/x.txt and /tmp/y') == [
        '/home/me/x.txt', '/tmp/y']


def test_each_notebooks_time_is_the_same_everywhere():
    """The seconds the executed copy took, as the README (for the notebooks it
    names), docs/teaching.md and the notebook's settings cell give them."""
    readme = (NOTEBOOKS.parent / 'README.md').read_text()
    teaching = (NOTEBOOKS.parent / 'docs' / 'teaching.md').read_text()
    said = re.search(r'Run All took about (\d+), (\d+) and (\d+) seconds', readme).groups()
    for name, in_readme in zip(IN_README, said):
        seconds = round(nbformat.read(COPIES / (name + '.ipynb'), as_version=4)
                        .metadata['executed']['seconds'])
        assert int(in_readme) == seconds, name
    for name in sorted(SHORT):
        seconds = round(nbformat.read(COPIES / (name + '.ipynb'), as_version=4)
                        .metadata['executed']['seconds'])
        [row] = [line for line in teaching.splitlines() if '`notebooks/{}.ipynb`'.format(name)
                 in line and line.startswith('|')]
        assert row.rstrip(' |').endswith('| {} s'.format(seconds)), name
        notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
        [settings] = [c for c in notebook.cells if c.source.startswith('## Settings')]
        assert 'Run All takes about {} s on 2 cores'.format(seconds) in settings.source, name


@pytest.fixture
def execute(tmp_path, monkeypatch):
    """notebooks/execute.py, its COPIES a folder of tmp_path holding a copy of 03:
    the tests plant their links and pipes there, never in docs/notebooks."""
    monkeypatch.syspath_prepend(str(NOTEBOOKS))
    import execute
    copies = tmp_path / 'copies'
    copies.mkdir()
    shutil.copyfile(COPIES / '03_implementing_lstm.ipynb', copies / '03_implementing_lstm.ipynb')
    monkeypatch.setattr(execute, 'COPIES', copies)
    return execute


def test_making_the_copies_never_writes_through_a_link(execute, tmp_path):
    """A link planted where execute.py writes its temporary file is refused, its
    target untouched, and the copy stays as it was."""
    from cookbook_lstm import errors
    copy = execute.COPIES / '03_implementing_lstm.ipynb'
    before = copy.read_bytes()
    victim = tmp_path / 'victim'
    victim.write_text('mine')
    copy.with_name(copy.name + '.tmp').symlink_to(victim)
    with pytest.raises(errors.RunError, match='symbolic link'):
        execute.main(['--text-only', '03_implementing_lstm'])
    assert victim.read_text() == 'mine' and copy.read_bytes() == before


@pytest.mark.parametrize('planted', ['link', 'file'])
def test_a_copies_folder_that_is_no_folder_is_refused_before_writing(execute, tmp_path,
                                                                    planted):
    from cookbook_lstm import errors
    real = execute.COPIES
    before = sorted((p.name, p.read_bytes()) for p in real.iterdir())
    execute.COPIES = tmp_path / 'docs-notebooks'
    if planted == 'link':  # the copies would be written into the folder it names
        execute.COPIES.symlink_to(real, target_is_directory=True)
    else:
        execute.COPIES.write_text('mine')
    with pytest.raises(errors.RunError) as err:
        execute.main(['--text-only', '03_implementing_lstm'])
    assert str(err.value) == '{} is {}, where this project keeps a folder: move it away (it ' \
        'is not one of this project\'s files), then run again.'.format(
            execute.COPIES, 'a symbolic link' if planted == 'link' else 'a file')
    assert sorted((p.name, p.read_bytes()) for p in real.iterdir()) == before


def _write_once_read(pipe, stop):
    """Give a reader of pipe, if one comes before stop is set, a line that is no
    notebook: so that a read that opens the pipe ends, and fails, not waits."""
    import errno
    while not stop.wait(0.1):
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno == errno.ENXIO:  # no reader yet
                continue
            raise
        os.write(fd, b'not a notebook')
        os.close(fd)
        return


@pytest.mark.parametrize('planted, said', [
    ('pipe', 'is a named pipe, where this project keeps a file: move it away'),
    ('link', 'is a symbolic link, where this project keeps a file: move it away'),
    ('malformed', 'is not a notebook nbformat reads ('),
])
def test_text_only_reads_the_copy_as_a_file_of_a_notebook(execute, tmp_path, planted, said):
    """A pipe at the copy's name would make the read wait forever; a link to another
    file would print its first lines in a traceback; a malformed copy, a traceback."""
    from cookbook_lstm import errors
    copy = execute.COPIES / '03_implementing_lstm.ipynb'
    copy.unlink()
    stop = threading.Event()
    writer = threading.Thread(target=_write_once_read, args=(copy, stop))
    if planted == 'pipe':
        os.mkfifo(copy)
        writer.start()
    elif planted == 'link':
        secret = tmp_path / 'secret'
        secret.write_text('root:x:0:0:root:/root:/bin/bash\n')
        copy.symlink_to(secret)
    else:
        copy.write_text('{"cells": 5, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    try:
        with pytest.raises(errors.RunError) as err:
            execute.main(['--text-only', '03_implementing_lstm'])
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
    assert str(err.value).startswith('{} {}'.format(copy, said))
    assert str(err.value).endswith('then run again.' if planted != 'malformed' else
                                   'Run python notebooks/execute.py 03_implementing_lstm '
                                   'again to make it.')
    assert '\n' not in str(err.value) and 'root:x' not in str(err.value)


def test_the_kernel_starts_without_the_tcp_warning(execute, capfd):
    """execute.py's kernel talks over IPC: ipykernel's warning of TCP without
    encryption, printed on stderr at each start, is not printed."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print(6 * 7)')])
    NotebookClient(notebook, timeout=60, kernel_name='python3',
                   config=execute.kernel_config()).execute()
    assert notebook.cells[0].outputs[0]['text'] == '42\n'
    assert 'without encryption' not in capfd.readouterr().err
