"""Where a whole recipe run's time goes: inside the training step, in other session
calls, and outside TensorFlow.

    python benchmarks/full_run.py 03_implementing_lstm --offline --out temp/full03
    python benchmarks/full_run.py 04_stacking_multiple_lstm --tiny --out temp/tiny04

Runs the recipe in this process, with the flags given after its name, exactly as
`python recipes/<name>.py ...` runs it, and times every `Session.run` by the line
that called it. At the end it prints the run's wall time, CPU time and peak memory
(RSS), and a table: each kind of session call (the training step, the samples,
the saves, ...) with its count, wall time, share of the run and cores busy, then
the time outside every session call, split into before the first training step
(imports, the text, building the graph), between training steps, and after the
last one. Timing a call costs about a microsecond.

It writes the table as JSON beside the run: <run folder>/../<folder name>.timing.json.
"""
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _caller(frame):
    """(file, function, line) of the first frame outside TensorFlow."""
    while frame is not None:
        path = frame.f_code.co_filename
        if os.sep + 'tensorflow' + os.sep not in path:
            return Path(path).name, frame.f_code.co_name, frame.f_lineno
        frame = frame.f_back
    return '?', '?', 0


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
        self.depth = 0

    def install(self, session_class):
        real_run = session_class.run
        clock = self

        def run(session, fetches, *args, **kwargs):
            if clock.depth:  # a call made from inside another (Saver.save)
                return real_run(session, fetches, *args, **kwargs)
            caller = _caller(sys._getframe(1))
            is_step = isinstance(fetches, (list, tuple)) and _has_train_op(fetches)
            wall, cpu = time.perf_counter(), time.process_time()
            clock.depth += 1
            try:
                return real_run(session, fetches, *args, **kwargs)
            finally:
                clock.depth -= 1
                now = time.perf_counter()
                kind = ('training step',) if is_step else caller
                entry = clock.calls[kind]
                entry[0] += 1
                entry[1] += now - wall
                entry[2] += time.process_time() - cpu
                if not is_step:
                    clock.others += now - wall
                elif clock.first_step is None:
                    clock.first_step, clock.others_at_first = wall, clock.others
                if is_step:
                    clock.last_step_end, clock.others_at_last = now, clock.others

        session_class.run = run


def _has_train_op(fetches):
    if isinstance(fetches, (list, tuple)):
        return any(_has_train_op(f) for f in fetches)
    # An Operation (a tensor has a dtype): the recipes fetch one only, the train_op
    return hasattr(fetches, 'node_def') and not hasattr(fetches, 'dtype')


def main(argv):
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return 0 if argv else 2
    name, recipe_argv = argv[0], argv[1:]
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm import settings
    if name not in settings.RECIPES:
        print('full_run.py: {!r} is not a recipe: give one of {}.'.format(
            name, ', '.join(settings.RECIPES)), file=sys.stderr)
        return 2
    started, started_cpu = time.perf_counter(), time.process_time()
    from lstm_model import tf1
    clock = SessionClock()
    clock.install(tf1.Session)
    module = settings.recipe_module(name)
    status = module.main(recipe_argv)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

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
              'peak_rss_mib': peak_mib, 'session_calls': rows,
              'outside_sessions': outside}
    print()
    print('{}: exit {}, wall {:.1f} s, CPU {:.1f} s ({:.2f} cores busy), peak RSS {:,.0f} MiB'
          .format(name, status, wall, cpu, cpu / wall, peak_mib))
    print('| what | count | seconds | of the run | cores busy |')
    print('|---|---|---|---|---|')
    for row in rows:
        print('| {} | {:,} | {:.1f} | {:.1%} | {:.2f} |'.format(
            row['what'], row['count'], row['seconds'], row['seconds'] / wall,
            row['cores_busy']))
    for what, seconds in report['outside_sessions'].items():
        print('| outside Session.run, {} | | {:.1f} | {:.1%} | |'.format(
            what, seconds, seconds / wall))
    out = _out_dir(recipe_argv)
    if out is not None and out.parent.is_dir():
        path = out.parent / (out.name + '.timing.json')
        with open(path, 'w') as f:
            json.dump(report, f, indent=1)
        print('Written:', path)
    return status


def _out_dir(argv):
    for i, arg in enumerate(argv):
        if arg == '--out' and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if arg.startswith('--out='):
            return Path(arg.split('=', 1)[1]).resolve()
    return None


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
