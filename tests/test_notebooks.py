"""The notebooks run, offline, a few steps each; the committed ones hold no outputs;
their executed copies in docs/notebooks/ are of the same code, and their times are
the ones the README, docs/teaching.md and the notebooks give."""
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / 'notebooks'
COPIES = NOTEBOOKS.parent / 'docs' / 'notebooks'
# What the tests change in each notebook's parameters cell: a few steps only
SHORT = {'03_implementing_lstm': 'max_steps = 3\ndata_dir = {tmp!r}',
         '04_stacking_multiple_lstm': 'max_steps = 3\ndata_dir = {tmp!r}',
         'bidirectional_lstm': 'max_examples = 64\nepochs = 1'}


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
    # the loss curve (and the heatmap, 04); the accuracy curves (the classifier)
    assert len(figures) == (2 if name == '04_stacking_multiple_lstm' else 1)
    assert copy.metadata['executed']['seconds'] > 0


def test_each_notebooks_time_is_the_same_everywhere():
    """The seconds the executed copy took, as the README, docs/teaching.md and the
    notebook's parameters cell give them."""
    readme = (NOTEBOOKS.parent / 'README.md').read_text()
    teaching = (NOTEBOOKS.parent / 'docs' / 'teaching.md').read_text()
    said = re.search(r'Run All took about (\d+), (\d+) and (\d+) seconds', readme).groups()
    for name, in_readme in zip(sorted(SHORT), said):
        seconds = round(nbformat.read(COPIES / (name + '.ipynb'), as_version=4)
                        .metadata['executed']['seconds'])
        assert int(in_readme) == seconds, name
        [row] = [line for line in teaching.splitlines() if '`notebooks/{}.ipynb`'.format(name)
                 in line and line.startswith('|')]
        assert row.rstrip(' |').endswith('| {} s'.format(seconds)), name
        notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
        [settings] = [c for c in notebook.cells if c.source.startswith('## Settings')]
        assert 'Run All takes about {} s on 2 cores'.format(seconds) in settings.source, name


def test_making_the_copies_never_writes_through_a_link(tmp_path):
    """A link planted where execute.py writes its temporary file is refused, its
    target untouched, and the copy stays as it was."""
    import sys
    sys.path.insert(0, str(NOTEBOOKS))
    import execute
    from cookbook_lstm import errors
    copy = COPIES / '03_implementing_lstm.ipynb'
    before = copy.read_bytes()
    victim = tmp_path / 'victim'
    victim.write_text('mine')
    planted = copy.with_name(copy.name + '.tmp')
    planted.symlink_to(victim)
    try:
        with pytest.raises(errors.RunError, match='symbolic link'):
            execute.main(['--text-only', '03_implementing_lstm'])
    finally:
        planted.unlink()
    assert victim.read_text() == 'mine' and copy.read_bytes() == before
