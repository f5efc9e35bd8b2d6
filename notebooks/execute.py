"""Run the notebooks as a class would, and keep executed copies in docs/notebooks/.

    python notebooks/execute.py                         # all three
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
COPIES = PROJECT / 'docs' / 'notebooks'
NAMES = ('03_implementing_lstm', '04_stacking_multiple_lstm', 'bidirectional_lstm')


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


def execute(name, parameters='', after='', timeout=1800):
    """(notebook, seconds): notebooks/<name>.ipynb run from a fresh kernel.

    parameters: Python lines added to its parameters cell (the tests and the
    classroom measurements change settings so); after: a cell run after the
    last (the measurements print what a run reached). Raises nbclient's
    CellExecutionError, naming the cell, when one fails.
    """
    import nbformat
    from nbclient import NotebookClient
    notebook = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
    if parameters:
        [cell] = [c for c in notebook.cells if 'parameters' in c.metadata.get('tags', [])]
        cell.source += '\n' + parameters
    if after:
        notebook.cells.append(nbformat.v4.new_code_cell(after))
    started = time.monotonic()
    NotebookClient(notebook, timeout=timeout, kernel_name='python3',
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
    COPIES.mkdir(parents=True, exist_ok=True)
    for name in args.names or NAMES:
        path = COPIES / (name + '.ipynb')
        if args.text_only:
            notebook = nbformat.read(path, as_version=4)
            source = nbformat.read(NOTEBOOKS / (name + '.ipynb'), as_version=4)
            if [c.cell_type for c in source.cells] != [c.cell_type for c in notebook.cells] or \
                    [c.source for c in source.cells if c.cell_type == 'code'] != \
                    [c.source for c in notebook.cells if c.cell_type == 'code']:
                raise errors.Refused('{}: its code changed since the copy was made: run it '
                                     'again, without --text-only.'.format(name))
            for copy_cell, cell in zip(notebook.cells, source.cells):
                copy_cell.source = cell.source
            seconds = notebook.metadata['executed']['seconds']
            done = 'its text copied in (its run took {:.0f} s)'.format(seconds)
        else:
            notebook, seconds = execute(name)
            notebook.metadata['executed'] = {
                'seconds': round(seconds, 1), 'machine': machine(),
                'date': time.strftime('%Y-%m-%d'), 'by': 'python notebooks/execute.py'}
            done = 'ran in {:.0f} s'.format(seconds)
        # whole or not at all, never through a link (the project's atomic write)
        safe_files.write_atomically(path, nbformat.writes(notebook) + '\n')
        print('{}: {}, written to {}'.format(name, done, path.relative_to(PROJECT)))
    return 0


if __name__ == '__main__':
    from cookbook_lstm.command_line import exit_status_of
    sys.exit(exit_status_of(main))
