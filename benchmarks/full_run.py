"""Where a whole recipe run's time goes: inside the training step, in other session
calls, and outside TensorFlow.

    python benchmarks/full_run.py 03_implementing_lstm --offline --out temp/full03
    python benchmarks/full_run.py --json temp/tiny04.json 04_stacking_multiple_lstm --tiny

Runs the recipe in this process, with the flags given after its name, exactly as
`python recipes/<name>.py ...` runs it, and times every `Session.run` by the line
that called it. At the end it prints the run's wall time, CPU time and peak memory
(RSS; and, read ten times a second, the highest of its two parts: pages of files,
TensorFlow's own libraries above all, and the process's anonymous memory), then a
table: each kind of session call (the training step, the samples, the saves, ...)
with its count, wall time, share of the run and cores busy, and the time outside
every session call, split into before the first training step (imports, the text,
building the graph), between training steps, and after the last one. Timing a call
costs about a microsecond.

It writes the figures as JSON (--json, or temp/benchmarks/full_run-<recipe>-<time>.json).
"""
import argparse
import json
import os
import resource
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / 'temp' / 'benchmarks'
BOOK_RECIPES = ('03_implementing_lstm', '04_stacking_multiple_lstm')  # settings.RECIPES' two


def _caller(frame):
    """(file, function, line) of the first frame outside TensorFlow."""
    while frame is not None:
        path = frame.f_code.co_filename
        if os.sep + 'tensorflow' + os.sep not in path:
            return Path(path).name, frame.f_code.co_name, frame.f_lineno
        frame = frame.f_back
    return '?', '?', 0


def memory_mib():
    """This process's resident memory now, in MiB: {'total', 'anonymous', 'files'}
    from /proc/self/status (Linux); {} where there is none."""
    keys = {'VmRSS:': 'total', 'RssAnon:': 'anonymous', 'RssFile:': 'files'}
    try:
        with open('/proc/self/status') as f:
            return {keys[line.split()[0]]: int(line.split()[1]) / 1024
                    for line in f if line.split()[:1] and line.split()[0] in keys}
    except OSError:
        return {}


class MemoryWatch:
    """The highest of each part of memory_mib(), read ten times a second."""

    def __init__(self):
        self.highest = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.wait(0.1):
            for part, mib in memory_mib().items():
                self.highest[part] = max(mib, self.highest.get(part, 0.0))

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.highest


class SessionClock:
    """Times each Session.run by its caller; knows which caller is the training step.

    The training step is the call whose list of fetches includes an operation,
    the model's train_op (the variables' initializer is fetched alone).
    """

    def __init__(self):
        self.calls = defaultdict(lambda: [0, 0.0, 0.0])  # caller: count, wall, cpu
        self.first_step = self.last_step_end = None
        self.others = 0.0  # wall time of the calls that are not the training step
        self.others_at_first = self.others_at_last = 0.0

    def install(self, session_class):
        real_run = session_class.run
        clock = self

        def run(session, fetches, *args, **kwargs):
            # an Operation has no dtype: the recipes fetch one, the train_op, in a list
            is_step = isinstance(fetches, (list, tuple)) and any(
                hasattr(f, 'node_def') and not hasattr(f, 'dtype') for f in fetches)
            kind = ('training step',) if is_step else _caller(sys._getframe(1))
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return real_run(session, fetches, *args, **kwargs)
            finally:
                now = time.perf_counter()
                entry = clock.calls[kind]
                entry[0] += 1
                entry[1] += now - wall
                entry[2] += time.process_time() - cpu
                if is_step:
                    if clock.first_step is None:
                        clock.first_step, clock.others_at_first = wall, clock.others
                    clock.last_step_end, clock.others_at_last = now, clock.others
                else:
                    clock.others += now - wall

        session_class.run = run


def main(argv=None):
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm import command_line, settings
    command_line.enable_ctrl_c()  # also while TensorFlow is imported
    assert set(BOOK_RECIPES) <= set(settings.RECIPES)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--json', metavar='PATH', type=Path,
                        help='where the figures go, a file not already there (default '
                             'temp/benchmarks/full_run-<recipe>-<time>.json)')
    parser.add_argument('recipe', choices=BOOK_RECIPES,
                        help='the recipe to run')
    parser.add_argument('recipe_args', nargs=argparse.REMAINDER, metavar='...',
                        help="the recipe's own flags, as it takes them")
    args = parser.parse_args(argv)
    name, recipe_argv = args.recipe, args.recipe_args
    path = args.json or OUT_DIR / 'full_run-{}-{}.json'.format(
        name, time.strftime('%Y%m%d-%H%M%S'))
    # The file is made now, empty, so that a path it cannot be is refused before the run
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        parser.error('--json {}: its folder cannot be made ({}); give another path.'.format(
            path, err.strerror))
    try:
        out = open(path, 'x')  # a new file: never one already there, nor through a link
    except FileExistsError:
        parser.error('--json {}: there is a file there already; give a new name.'.format(path))
    except OSError as err:
        parser.error('--json {}: {}; give another path.'.format(path, err.strerror))
    with out:
        try:
            status = _measure(name, recipe_argv, out)
        except BaseException:
            os.remove(path)  # the empty file made above, and nothing else
            raise
        if out.tell() == 0:  # the run stopped before training: nothing to write
            os.remove(path)
        return status


def _measure(name, recipe_argv, out):
    """Run the recipe as its script would, then print and write (to out) the figures."""
    from cookbook_lstm import command_line, settings
    started, started_cpu = time.perf_counter(), time.process_time()
    watch = MemoryWatch()
    clock = SessionClock()
    at_import = {}

    def run(argv):
        from lstm_model import tf1
        at_import.update(memory_mib())
        clock.install(tf1.Session)
        return settings.recipe_module(name).main(argv)
    # as `python recipes/<name>.py`: its refusals in one line, Ctrl-C gives 130
    status = command_line.exit_status_of(run, recipe_argv)
    if clock.first_step is None and status != 0:
        return status  # refused or stopped before its first step: the recipe said so
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    highest = watch.stop()

    rows = []
    for kind, (count, call_wall, call_cpu) in sorted(clock.calls.items(),
                                                      key=lambda kv: -kv[1][1]):
        label = kind[0] if len(kind) == 1 else '{}:{} line {}'.format(*kind)
        rows.append({'what': 'Session.run, ' + label, 'count': count, 'seconds': call_wall,
                     'cores_busy': call_cpu / call_wall if call_wall else 0.0})
    if clock.first_step is None:
        clock.first_step = clock.last_step_end = started + wall
        clock.others_at_first = clock.others_at_last = clock.others
    steps = clock.calls[('training step',)][1] if ('training step',) in clock.calls else 0.0
    outside = {
        'before the first step': clock.first_step - started - clock.others_at_first,
        'between steps': (clock.last_step_end - clock.first_step - steps
                          - (clock.others_at_last - clock.others_at_first)),
        'after the last step': (started + wall - clock.last_step_end
                                - (clock.others - clock.others_at_last))}
    report = {'recipe': name, 'argv': recipe_argv, 'exit_status': status,
              'wall_seconds': wall, 'cpu_seconds': cpu, 'cores_busy': cpu / wall,
              'peak_rss_mib': peak_mib, 'highest_mib_sampled': highest,
              'mib_after_importing_tensorflow': at_import, 'session_calls': rows,
              'outside_sessions': outside}
    print()
    print('{}: exit {}, wall {:.1f} s, CPU {:.1f} s ({:.2f} cores busy), peak RSS {:,.0f} MiB'
          .format(name, status, wall, cpu, cpu / wall, peak_mib))
    if highest and at_import:
        print('Memory (MiB), after importing TensorFlow: {:,.0f} ({:,.0f} of files, {:,.0f} '
              'anonymous); highest seen: {:,.0f} ({:,.0f} of files, {:,.0f} anonymous)'.format(
                  at_import['total'], at_import['files'], at_import['anonymous'],
                  highest['total'], highest['files'], highest['anonymous']))
    print('| what | count | seconds | of the run | cores busy |')
    print('|---|---|---|---|---|')
    for row in rows:
        print('| {} | {:,} | {:.1f} | {:.1%} | {:.2f} |'.format(
            row['what'], row['count'], row['seconds'], row['seconds'] / wall,
            row['cores_busy']))
    for what, seconds in report['outside_sessions'].items():
        print('| outside Session.run, {} | | {:.1f} | {:.1%} | |'.format(
            what, seconds, seconds / wall))
    json.dump(report, out, indent=1)
    print('Written:', out.name)
    return status


if __name__ == '__main__':
    sys.exit(main())
