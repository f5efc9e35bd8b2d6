"""Run the notebooks as a class would, and keep executed copies in docs/notebooks/.

    python notebooks/execute.py                         # all five
    python notebooks/execute.py 04_stacking_multiple_lstm
    python notebooks/execute.py --text-only             # after editing prose only

Each notebook runs headless from its first cell to its last (Run All, its
kernel started fresh: the time includes the start), offline, with its own
parameters. The copy, outputs and figures included, goes to
docs/notebooks/<name>.ipynb, so that the notebooks can be read in the
repository before they are run; its metadata holds how long the run took
and on what machine, and a fingerprint of what made it (fingerprint): the
sha256 of the notebook's code cells and of every project source file its
kernel had imported by the end of the run (the recipe script, lstm_model.py,
the cookbook_lstm modules...). tests/test_notebooks.py recomputes it, so a
copy made before a change to any of them fails the tests until it is made
again. The copies name no path of this machine: the notebooks print paths
relative to the project, and a copy that holds the project's absolute path
is refused. The notebooks themselves stay without outputs.
Needs the test extra (nbclient, nbformat, ipykernel).
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
PROJECT = NOTEBOOKS.parent
sys.path.insert(0, str(PROJECT))  # run from a clone
from cookbook_lstm import errors  # noqa: E402
from cookbook_lstm import safe_files  # noqa: E402
from cookbook_lstm.command_line import first_line  # noqa: E402
COPIES = PROJECT / 'docs' / 'notebooks'
NAMES = ('02_implementing_rnn', '03_implementing_lstm', '04_stacking_multiple_lstm',
         '06_siamese_similarity', 'bidirectional_lstm')
NOTEBOOK_LIMIT = 64 * 2 ** 20  # bytes: the copies, figures included, are below 1 MiB


# The cell execute() runs after the last, then removes: the project's source files the
# kernel imported (a module's __file__ under the project, outside a hidden folder such as
# .venv), relative to the project, one JSON line; execute() adds the recipe scripts
# (recipe_files), which settings.recipe_module loads without entering them in sys.modules
IMPORTED = r"""
import json as _json, sys as _sys
from pathlib import Path as _Path
_project = _Path({project!r}).resolve()
_files = set()
for _module in list(_sys.modules.values()):
    _file = getattr(_module, '__file__', None)
    if _file and _file.endswith('.py'):
        _path = _Path(_file).resolve()
        if _path.is_relative_to(_project):
            _relative = _path.relative_to(_project)
            if not any(part.startswith('.') for part in _relative.parts):
                _files.add(_relative.as_posix())
print('IMPORTED ' + _json.dumps(sorted(_files)))
"""


def recipe_files(notebook):
    """The recipe scripts the notebook's code loads with settings.recipe_module('NAME'),
    relative to the project: loaded from their files, they are not in sys.modules,
    where IMPORTED looks."""
    import re
    from cookbook_lstm import settings
    names = re.findall(r"recipe_module\(\s*['\"]([^'\"]+)['\"]\s*\)",
                       '\n'.join(c.source for c in notebook.cells if c.cell_type == 'code'))
    return sorted({settings.RECIPES[n] for n in names if n in settings.RECIPES})


def fingerprint(notebook, files, project=None):
    """sha256 (hex) of the notebook's code cells and of files (paths relative to the
    project, as the copy's metadata lists them), each file's path and bytes.

    A change to a code cell or to one of the files, or a file gone, changes it."""
    project = Path(project or PROJECT)
    digest = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == 'code':
            digest.update(b'cell\0' + cell.source.encode('utf-8') + b'\0')
    for name in sorted(files):
        path = project / name
        data = path.read_bytes() if path.is_file() else b'(missing)'
        digest.update(b'file\0' + name.encode('utf-8') + b'\0' +
                      hashlib.sha256(data).hexdigest().encode('ascii') + b'\0')
    return digest.hexdigest()


def machine_paths(text, project=None):
    """The absolute paths of this machine text shows: the project's, a home folder's
    or a temporary folder's (sorted, each once)."""
    import re
    project = Path(project or PROJECT)
    found = {str(p) for p in (project, project.resolve()) if str(p) in text}
    found.update(re.findall(r'(?<![\w.+/])/(?:home|root|tmp|var/tmp|Users)/[^\s"\'\\]*', text))
    return sorted(found)


def machine():
    """The processor and core count, as the copies and the timings name them."""
    model = platform.machine()
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            model = next(line.split(':', 1)[1].strip() for line in cpuinfo
                         if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return '{}, {} cores'.format(model, os.cpu_count())


def read_notebook(path):
    """The notebook at path, as nbformat version 4.

    Read as the project reads a run's files (safe_files.read_bytes): a regular
    file only, never through a link, at most NOTEBOOK_LIMIT bytes. Raises
    RunError, one line, for those and for a file that is not a notebook.
    """
    import nbformat
    advice = 'Run python notebooks/execute.py {} again to make it.'.format(Path(path).stem)
    data = safe_files.read_bytes(path, NOTEBOOK_LIMIT, advice)
    try:
        return nbformat.reads(data.decode('utf-8'), as_version=4)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError,
            nbformat.ValidationError) as err:  # what a malformed file raises there
        raise errors.RunError('{} is not a notebook nbformat reads ({}). {}'.format(
            path, first_line(err), advice)) from None


def copies_folder():
    """COPIES, made if it is missing; anything but a real folder (a link) refused."""
    if safe_files.check_kind(COPIES, folder=True) is None:
        COPIES.mkdir(parents=True, exist_ok=True)
    safe_files.check_kind(COPIES, folder=True)  # made by another meanwhile
    return COPIES


def kernel_config():
    """The kernel over IPC (socket files in a new temporary folder) rather than TCP
    on the loopback: ipykernel warns of TCP without encryption at each start. The
    sockets' path is absolute: a relative one is found by the kernel in the
    notebook's folder and by the client in the caller's, which never meet."""
    import tempfile
    from traitlets.config import Config
    config = Config()
    config.KernelManager.transport = 'ipc'
    config.KernelManager.ip = str(Path(tempfile.mkdtemp(prefix='notebook-ipc-')) / 'kernel')
    return config


def execute(name, parameters='', after='', timeout=1800, imported=None):
    """(notebook, seconds): notebooks/<name>.ipynb run from a fresh kernel.

    parameters: Python lines added to its parameters cell (the tests and the
    classroom measurements change settings so); after: a cell run after the
    last (the measurements print what a run reached). imported: a list, given
    the project's source files the kernel imported (IMPORTED, run after the
    rest and then removed). Raises nbclient's CellExecutionError,
    naming the cell, when one fails.
    """
    import nbformat
    from nbclient import NotebookClient
    notebook = read_notebook(NOTEBOOKS / (name + '.ipynb'))
    if parameters:
        [cell] = [c for c in notebook.cells if 'parameters' in c.metadata.get('tags', [])]
        cell.source += '\n' + parameters
    if after:
        notebook.cells.append(nbformat.v4.new_code_cell(after))
    if imported is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(IMPORTED.format(project=str(PROJECT))))
    started = time.monotonic()
    NotebookClient(notebook, timeout=timeout, kernel_name='python3', config=kernel_config(),
                   resources={'metadata': {'path': str(NOTEBOOKS)}}).execute()
    seconds = time.monotonic() - started
    if imported is not None:
        listing = notebook.cells.pop()
        text = ''.join(o.get('text', '') for o in listing.outputs)
        [line] = [l for l in text.splitlines() if l.startswith('IMPORTED ')]
        imported.extend(sorted(set(json.loads(line[len('IMPORTED '):])) |
                               set(recipe_files(notebook))))
    return notebook, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help='notebooks to run (default: all): ' + ', '.join(NAMES))
    parser.add_argument('--text-only', action='store_true',
                        help="copy the notebooks' text cells into the executed copies, without "
                             'running anything (after editing a notebook\'s prose)')
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error('no notebook {}: give one of {}'.format(unknown[0], ', '.join(NAMES)))
    import nbformat
    copies_folder()  # refused before anything runs, not after
    for name in args.names or NAMES:
        path = COPIES / (name + '.ipynb')
        if args.text_only:
            notebook = read_notebook(path)
            source = read_notebook(NOTEBOOKS / (name + '.ipynb'))
            if [c.cell_type for c in source.cells] != [c.cell_type for c in notebook.cells] or \
                    [c.source for c in source.cells if c.cell_type == 'code'] != \
                    [c.source for c in notebook.cells if c.cell_type == 'code']:
                raise errors.Refused('{}: its code changed since the copy was made: run it '
                                     'again, without --text-only.'.format(name))
            for copy_cell, cell in zip(notebook.cells, source.cells):
                copy_cell.source = cell.source
            executed = notebook.metadata.get('executed', {})
            files = executed.get('sources')
            if not isinstance(files, list) or \
                    executed.get('fingerprint') != fingerprint(source, files):
                raise errors.Refused('{}: the copy was made from other code (its notebook or '
                                     'the project files it imports changed): run it again, '
                                     'without --text-only.'.format(name))
            seconds = executed.get('seconds')
            if not isinstance(seconds, (int, float)):
                raise errors.Refused('{}: the copy does not say how long its run took: run '
                                     'it again, without --text-only.'.format(name))
            done = 'its text copied in (its run took {:.0f} s)'.format(seconds)
        else:
            source = read_notebook(NOTEBOOKS / (name + '.ipynb'))
            files = []
            notebook, seconds = execute(name, imported=files)
            notebook.metadata['executed'] = {
                'seconds': round(seconds, 1), 'machine': machine(),
                'date': time.strftime('%Y-%m-%d'), 'by': 'python notebooks/execute.py',
                'fingerprint': fingerprint(source, files), 'sources': files}
            done = 'ran in {:.0f} s'.format(seconds)
        shown = machine_paths(nbformat.writes(notebook))
        if shown:
            raise errors.Refused('{}: the copy would show paths of this machine ({}): make '
                                 'the notebook print them relative to the project, then run '
                                 'it again.'.format(name, ', '.join(shown[:3])))
        # whole or not at all, never through a link (the project's atomic write),
        # nor into a folder a link stands for
        copies_folder()
        safe_files.write_atomically(path, nbformat.writes(notebook) + '\n')
        print('{}: {}, written to {}'.format(
            name, done, path.relative_to(PROJECT) if path.is_relative_to(PROJECT) else path))
    return 0


if __name__ == '__main__':
    from cookbook_lstm.command_line import exit_status_of
    sys.exit(exit_status_of(main))
