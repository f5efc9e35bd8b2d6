"""Run the notebooks as a class would, and keep executed copies in docs/notebooks/.

    python notebooks/execute.py                         # all five
    python notebooks/execute.py 04_stacking_multiple_lstm
    python notebooks/execute.py --text-only             # after editing prose only

Each notebook runs headless from its first cell to its last (Run All, its
kernel started fresh: the time includes the start), offline, with its own
parameters. The copy, outputs and figures included, goes to
docs/notebooks/<name>.ipynb, so that the notebooks can be read in the
repository before they are run; its metadata holds how long the run took
and on what machine. The notebooks themselves stay without outputs.
Needs the test extra (nbclient, nbformat, ipykernel).
"""
import argparse
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


def execute(name, parameters='', after='', timeout=1800):
    """(notebook, seconds): notebooks/<name>.ipynb run from a fresh kernel.

    parameters: Python lines added to its parameters cell (the tests and the
    classroom measurements change settings so); after: a cell run after the
    last (the measurements print what a run reached). Raises nbclient's
    CellExecutionError, naming the cell, when one fails.
    """
    import nbformat
    from nbclient import NotebookClient
    notebook = read_notebook(NOTEBOOKS / (name + '.ipynb'))
    if parameters:
        [cell] = [c for c in notebook.cells if 'parameters' in c.metadata.get('tags', [])]
        cell.source += '\n' + parameters
    if after:
        notebook.cells.append(nbformat.v4.new_code_cell(after))
    started = time.monotonic()
    NotebookClient(notebook, timeout=timeout, kernel_name='python3', config=kernel_config(),
                   resources={'metadata': {'path': str(NOTEBOOKS)}}).execute()
    return notebook, time.monotonic() - started


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
            seconds = notebook.metadata.get('executed', {}).get('seconds')
            if not isinstance(seconds, (int, float)):
                raise errors.Refused('{}: the copy does not say how long its run took: run '
                                     'it again, without --text-only.'.format(name))
            done = 'its text copied in (its run took {:.0f} s)'.format(seconds)
        else:
            notebook, seconds = execute(name)
            notebook.metadata['executed'] = {
                'seconds': round(seconds, 1), 'machine': machine(),
                'date': time.strftime('%Y-%m-%d'), 'by': 'python notebooks/execute.py'}
            done = 'ran in {:.0f} s'.format(seconds)
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
