"""How fast the book's model trains here, beside Keras 3 and PyTorch, and the roofline.

    python benchmarks/bench_training.py            # the full benchmark, about 20 min
    python benchmarks/bench_training.py --quick    # one repetition, a few steps

For both book configurations (word: 1 x 128 LSTM, vocabulary 8009, embedding
128; char: 3 x 128 LSTM with tied layers, vocabulary 40) at batch 100 x 50 it
measures, each implementation in its own process, after warm-up, with the
implementations interleaved over repetitions, and takes medians:

- the training step (ms, tokens per second) of LSTM_Model with the book's
  graph (--cell-impl basic, feeding the LSTM state each step as the recipes
  do), with the fused LSTM kernel (--cell-impl fused) and with each layer's
  input product done once for all steps (--cell-impl projected), and that
  with the softmax layer done in 5 blocks of rows (--softmax-blocks 5), and
  projected with the softmax layer and loss compiled by XLA (--xla-softmax);
- the same model written idiomatically in Keras 3 (Embedding, LSTM, Dense,
  Adam with global_clipnorm=4.5), with and without jit_compile, and in
  PyTorch (nn.Embedding, nn.LSTM, nn.Linear, Adam, clip_grad_norm_), all
  threads in use (PyTorch is the optional extra: pip install -e .[bench]);
- the roofline: the step's matrix-product arithmetic (forward and backward
  of the gate products and of the softmax layer) divided by the float32
  matrix-product throughput measured in the same run (the best of NumPy and
  TensorFlow on a 2048 x 2048 product);
- building the model plus its first step, peak memory (RSS) of each process,
  and text generation speed: the book's per-token sampler against the
  graph-side sampler (300 characters).

It prints one table and writes it as JSON and Markdown (temp/benchmarks/).
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / 'temp' / 'benchmarks'



def _recipe_config(name):
    """The Config of recipes/<name>.py: the book's values, as the recipe runs them."""
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm.settings import recipe_module
    return recipe_module(name).Config()


def book_configs():
    """The book's two models, from the recipes' own settings.

    vocab_size is what each recipe builds from the book's edition of the
    text (the published 'Vocabulary Length').
    """
    word = _recipe_config('03_implementing_lstm')
    char = _recipe_config('04_stacking_multiple_lstm')
    return {
        'word': dict(rnn_size=word.rnn_size, embedding_size=word.embedding_size,
                     num_layers=1, learning_rate=word.learning_rate, vocab_size=8009),
        'char': dict(rnn_size=char.rnn_size, embedding_size=char.rnn_size,
                     num_layers=char.num_layers, learning_rate=char.learning_rate,
                     vocab_size=40),
    }, (word.batch_size, word.training_seq_len)


CONFIGS, (BATCH, SEQ) = book_configs()
# ours-<cell impl>[-b<softmax blocks>][-xla]: --cell-impl, --softmax-blocks, --xla-softmax
OURS = ['ours-basic', 'ours-fused', 'ours-projected', 'ours-projected-b5',
        'ours-projected-xla']
IMPLEMENTATIONS = OURS + ['keras', 'keras-jit', 'torch']
PEERS = ['keras', 'keras-jit', 'torch']
GENERATE = 300  # characters generated in the generation benchmark


def step_flops(config, batch=BATCH, seq=SEQ):
    """Matrix-product FLOPs of one training step: forward, and backward twice that.

    Per time step and layer the gates take [batch, in + units] x [in + units,
    4 units]; the softmax layer takes [batch * seq, units] x [units, vocab].
    A product of m x k by k x n is 2mkn FLOPs; its backward pass (gradients
    for both operands) is two products of the same size.
    """
    units, layers = config['rnn_size'], config['num_layers']
    gates = 0
    for layer in range(layers):
        inputs = config['embedding_size'] if layer == 0 else units
        gates += 2 * batch * (inputs + units) * 4 * units * seq
    softmax = 2 * batch * seq * units * config['vocab_size']
    return 3 * (gates + softmax), {'gates': 3 * gates, 'softmax': 3 * softmax}


def batches(config, n, batch=BATCH, seq=SEQ):
    import numpy as np
    rng = np.random.RandomState(0)
    return [(rng.randint(1, config['vocab_size'], (batch, seq)).astype('int32'),
             rng.randint(1, config['vocab_size'], (batch, seq)).astype('int32'))
            for _ in range(n)]


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------- workers
# Each runs in its own process and prints one JSON line.

def import_ours():
    """Import TensorFlow as the recipes do, with op determinism on as they set it.

    Kept apart from build_ours so that, as for Keras and PyTorch, importing
    the library is not counted in the build time.
    """
    sys.path.insert(0, str(PROJECT_DIR))
    import lstm_model  # noqa: F401  (through tf1_setup: TF_USE_LEGACY_KERAS first)
    from cookbook_lstm import tf1_setup
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    tf.get_logger().setLevel('ERROR')
    tf1_setup.seed_everything(0)


def parse_ours(name):
    """'ours-projected-b5' -> ('projected', 5, False), 'ours-projected-xla' ->
    ('projected', 1, True): --cell-impl, --softmax-blocks and --xla-softmax."""
    parts = name.split('-')
    blocks = [int(p[1:]) for p in parts[2:] if p.startswith('b')]
    return parts[1], (blocks[0] if blocks else 1), 'xla' in parts[2:]


def build_ours(config, impl, batch, seq, blocks=1, threads=0, xla=False):
    """LSTM_Model's training graph, as the recipes build it, and a session on it.

    threads: 0, the recipes' session (TensorFlow's thread pools over every
    core); n, both pools of n threads (the profile's one-thread run).
    """
    from cookbook_lstm import fast_lstm
    from lstm_model import LSTM_Model
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.set_random_seed(0)
    with tf1.variable_scope('lstm_model'):
        model = LSTM_Model(config['rnn_size'], config['num_layers'], batch,
                           config['learning_rate'], seq, config['vocab_size'],
                           embedding_size=config['embedding_size'],
                           decoder=fast_lstm.DECODERS[impl],
                           loss_layer=fast_lstm.blocked_softmax_loss(blocks, xla))
    sess = tf1.Session(config=tf1.ConfigProto(intra_op_parallelism_threads=threads,
                                              inter_op_parallelism_threads=threads))
    sess.run(tf1.global_variables_initializer())
    return model, sess


def work_ours(config, steps, warmup, impl, batch, seq, blocks=1, xla=False):
    data = batches(config, steps + warmup + 1, batch, seq)
    import_ours()
    start = time.perf_counter()
    model, sess = build_ours(config, impl, batch, seq, blocks, xla=xla)
    state = sess.run(model.initial_state)

    def step(x, y, state):
        # as the recipes: the state of the last batch fed to the next
        feed = {model.x_data: x, model.y_output: y, model.initial_state: state}
        _, state, _ = sess.run([model.cost, model.final_state, model.train_op], feed)
        return state
    state = step(*data[0], state)
    first = time.perf_counter() - start
    times = []
    for i, (x, y) in enumerate(data[1:]):
        t = time.perf_counter()
        state = step(x, y, state)
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return {'build_and_first_step_s': first, 'step_s': times}


def work_keras(config, steps, warmup, jit, batch, seq):
    os.environ.pop('TF_USE_LEGACY_KERAS', None)
    os.environ['KERAS_BACKEND'] = 'tensorflow'
    import keras
    data = batches(config, steps + warmup + 1, batch, seq)
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((seq,), batch_size=batch, dtype='int32')
    x = keras.layers.Embedding(config['vocab_size'], config['embedding_size'])(inputs)
    for _ in range(config['num_layers']):
        x = keras.layers.LSTM(config['rnn_size'], return_sequences=True)(x)
    logits = keras.layers.Dense(config['vocab_size'])(x)
    model = keras.Model(inputs, logits)
    model.compile(optimizer=keras.optimizers.Adam(config['learning_rate'], global_clipnorm=4.5),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    model.train_on_batch(*data[0])
    first = time.perf_counter() - start
    times = []
    for i, (x, y) in enumerate(data[1:]):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return {'build_and_first_step_s': first, 'step_s': times,
            'keras': keras.__version__}


def work_torch(config, steps, warmup, batch, seq):
    try:
        import torch
    except ImportError:
        return {'missing': 'PyTorch is not installed: pip install -e .[bench]'}
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    data = [(torch.from_numpy(x).long(), torch.from_numpy(y).long())
            for x, y in batches(config, steps + warmup + 1, batch, seq)]
    start = time.perf_counter()

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(config['vocab_size'], config['embedding_size'])
            self.lstm = torch.nn.LSTM(config['embedding_size'], config['rnn_size'],
                                      num_layers=config['num_layers'], batch_first=True)
            self.out = torch.nn.Linear(config['rnn_size'], config['vocab_size'])

        def forward(self, x):
            h, _ = self.lstm(self.embedding(x))
            return self.out(h)

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=config['learning_rate'])

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config['vocab_size']),
                                                 y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 4.5)
        optimizer.step()
        return loss
    step(*data[0])
    first = time.perf_counter() - start
    times = []
    for i, (x, y) in enumerate(data[1:]):
        t = time.perf_counter()
        step(x, y)
        if i >= warmup:
            times.append(time.perf_counter() - t)
    return {'build_and_first_step_s': first, 'step_s': times, 'torch': torch.__version__,
            'threads': torch.get_num_threads()}


def work_profile(config, impl, batch, seq, steps=5, threads=0, blocks=1, xla=False):
    """Where a training step's time goes: op time by op type, from TF's step stats.

    Op times overlap where ops run in parallel, so the shares are of the summed
    op time, not of the wall time. threads: as build_ours (0: the recipes').
    """
    data = batches(config, steps + 2, batch, seq)
    import_ours()
    model, sess = build_ours(config, impl, batch, seq, blocks, threads, xla)
    import tensorflow as tf
    tf1 = tf.compat.v1
    fetches = [model.cost, model.final_state, model.train_op]
    for x, y in data[:2]:
        sess.run(fetches, {model.x_data: x, model.y_output: y})
    by_type, total, wall = {}, 0.0, []
    options = tf1.RunOptions(trace_level=tf1.RunOptions.FULL_TRACE)
    types = {op.name: op.type for op in tf1.get_default_graph().get_operations()}
    for x, y in data[2:]:
        metadata = tf1.RunMetadata()
        t = time.perf_counter()
        sess.run(fetches, {model.x_data: x, model.y_output: y}, options=options,
                 run_metadata=metadata)
        wall.append(time.perf_counter() - t)
        for device in metadata.step_stats.dev_stats:
            for node in device.node_stats:
                kind = types.get(node.node_name.split(':')[0], node.node_name)
                if node.node_name.endswith('/xla_run'):  # ops XLA compiled into one
                    kind = 'XLA cluster (_XlaRun)'
                micros = node.all_end_rel_micros
                by_type[kind] = by_type.get(kind, 0) + micros / steps
                total += micros / steps
    ops = sorted(by_type.items(), key=lambda kv: -kv[1])
    counts = {}
    for kind in types.values():
        counts[kind] = counts.get(kind, 0) + 1
    return {'wall_ms_traced': 1000 * statistics.median(wall), 'op_ms_total': total / 1000,
            'ops': [[k, v / 1000, v / total, counts.get(k, 0)] for k, v in ops],
            'op_count': sum(1 for _ in types)}


def work_gemm(size=2048, repeats=10):
    """float32 matrix-product throughput, GFLOP/s: the best of NumPy and TensorFlow.

    Also the word step's softmax products and the char step's gate products,
    each timed alone at their own shapes.
    """
    import numpy as np
    sys.path.insert(0, str(PROJECT_DIR))
    import lstm_model  # noqa: F401  (the same TensorFlow set-up as the model)
    import tensorflow as tf
    a = np.random.RandomState(0).rand(size, size).astype(np.float32)
    b = np.random.RandomState(1).rand(size, size).astype(np.float32)
    ta, tb = tf.constant(a), tf.constant(b)
    mm = tf.function(lambda: tf.matmul(ta, tb))
    ms = best_ms({'numpy': lambda: a @ b, 'tensorflow': lambda: mm().numpy()}, repeats)
    gflop = 2 * size ** 3 / 1e9
    return {'numpy_gflops': gflop / (ms['numpy'] / 1000),
            'tensorflow_gflops': gflop / (ms['tensorflow'] / 1000),
            'word_softmax_products_ms': softmax_products(CONFIGS['word'],
                                                         repeats=min(repeats, 5)),
            'char_gate_products_ms': gate_products(CONFIGS['char'], repeats=min(repeats, 5))}


def gate_products(config, batch=BATCH, seq=SEQ, repeats=5):
    """The char step's gate products alone, at their own shapes: ms, by NumPy and TF.

    Per time step and layer, forward [batch, in + units] x [in + units, 4 units]
    and the backward pass's two products of the same size: 3 x seq x layers
    products (450 for the book's 3 x 50). Each has its own operands, so none
    waits for another: TensorFlow may run them in parallel, which the
    recurrence of a real step does not allow, so this is a lower bound.
    """
    import numpy as np
    import tensorflow as tf
    units = config['rnn_size']
    rng = np.random.RandomState(0)
    cases = []
    for layer in range(config['num_layers']):
        width = (config['embedding_size'] if layer == 0 else units) + units
        for _ in range(seq):
            x = rng.rand(batch, width).astype(np.float32)
            w = rng.rand(width, 4 * units).astype(np.float32)
            g = rng.rand(batch, 4 * units).astype(np.float32)
            cases += [(x, w, False, False), (g, w, False, True), (x, g, True, False)]

    def numpy_products():
        for a, b, ta, tb in cases:
            (a.T if ta else a) @ (b.T if tb else b)
    constants = [(tf.constant(a), tf.constant(b), ta, tb) for a, b, ta, tb in cases]
    tf_products = tf.function(lambda: tf.add_n([
        tf.matmul(a, b, transpose_a=ta, transpose_b=tb)[0, 0] for a, b, ta, tb in constants]))
    return best_ms({'numpy': numpy_products, 'tensorflow': lambda: tf_products().numpy()},
                   repeats) | {'products': len(cases)}


def best_ms(runs, repeats):
    """{library: best ms of repeats} for {library: function}, one library at a time.

    OpenBLAS's threads spin on after a product and would slow a TensorFlow
    product run straight after it, so each library runs all its repeats
    alone, with a pause between.
    """
    result = {}
    for library, run in runs.items():
        run()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        result[library] = 1000 * min(times)
        time.sleep(0.5)
    return result


def softmax_products(config, batch=BATCH, seq=SEQ, repeats=5):
    """The word step's three softmax-layer products alone, at their own shapes.

    Forward [rows, units] x [units, vocab], and the backward pass's two:
    [rows, vocab] x [units, vocab]^T and [rows, units]^T x [rows, vocab].
    Nine tenths of the word step's arithmetic; ms each, best of repeats, by
    NumPy and by TensorFlow: what the step cannot beat in either.
    """
    import numpy as np
    import tensorflow as tf
    rows, units, vocab = batch * seq, config['rnn_size'], config['vocab_size']
    rng = np.random.RandomState(0)
    out = rng.rand(rows, units).astype(np.float32)
    w = rng.rand(units, vocab).astype(np.float32)
    grad = rng.rand(rows, vocab).astype(np.float32)
    cases = {'forward': (out, w, False, False), 'input_gradient': (grad, w, False, True),
             'weight_gradient': (out, grad, True, False)}
    result = {}
    for name, (a, b, ta, tb) in cases.items():
        a_np, b_np = (a.T if ta else a), (b.T if tb else b)
        a_tf, b_tf = tf.constant(a), tf.constant(b)
        product = tf.function(lambda: tf.reduce_sum(
            tf.matmul(a_tf, b_tf, transpose_a=ta, transpose_b=tb)[:1, :1]))
        result[name] = best_ms({'numpy': lambda: a_np @ b_np,
                                'tensorflow': lambda: product().numpy()}, repeats)
    return result


def work_generate(config, num):
    """Characters per second: the book's per-token sampler and the graph-side one."""
    sys.path.insert(0, str(PROJECT_DIR))
    from cookbook_lstm import fast_lstm
    from cookbook_lstm import sampling
    from lstm_model import LSTM_Model
    import numpy as np
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    tf.get_logger().setLevel('ERROR')
    tf1.set_random_seed(0)
    with tf1.variable_scope('lstm_model') as scope:
        step_model = LSTM_Model(config['rnn_size'], config['num_layers'], 1, None, 1,
                                config['vocab_size'], infer_sample=True,
                                embedding_size=config['embedding_size'])
        scope.reuse_variables()
        generators, result = {}, {}
        for impl in ('basic', 'fused'):
            t = time.perf_counter()
            generators[impl] = LSTM_Model(
                config['rnn_size'], config['num_layers'], 1, None, num, config['vocab_size'],
                infer_sample=True, embedding_size=config['embedding_size'],
                decoder=fast_lstm.DECODERS[impl])
            result['graph_build_s' + ('' if impl == 'basic' else '_fused')] = \
                time.perf_counter() - t
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    state = sess.run(step_model.initial_state)
    # the book's sampler: one session call per character
    for label in ('first', 'timed'):
        x = np.ones((1, 1), dtype=np.int32)
        s = state
        t = time.perf_counter()
        for _ in range(num):
            probs, s = sess.run([step_model.model_output, step_model.final_state],
                                {step_model.x_data: x, step_model.initial_state: s})
            x[0, 0] = int(np.argmax(probs[0]))
        result['per_token_{}_s'.format(label)] = time.perf_counter() - t
    for impl, generator in generators.items():
        key = 'graph_side' + ('' if impl == 'basic' else '_fused')
        for label in ('first', 'timed'):
            t = time.perf_counter()
            sampling.generate(generator, sess, state, 1)
            result['{}_{}_s'.format(key, label)] = time.perf_counter() - t
        result[key + '_tokens_per_s'] = num / result[key + '_timed_s']
    result['per_token_tokens_per_s'] = num / result['per_token_timed_s']
    return result


def worker(args):
    config = dict(CONFIGS[args.config]) if args.config else None
    impl = args.worker
    if impl in OURS:
        cell_impl, blocks, xla = parse_ours(impl)
        result = work_ours(config, args.steps, args.warmup, cell_impl, args.batch, args.seq,
                           blocks, xla)
    elif impl in ('keras', 'keras-jit'):
        result = work_keras(config, args.steps, args.warmup, impl == 'keras-jit',
                            args.batch, args.seq)
    elif impl == 'torch':
        result = work_torch(config, args.steps, args.warmup, args.batch, args.seq)
    elif impl == 'gemm':  # --steps 1: --quick, one repetition of each product
        result = work_gemm(repeats=1 if args.steps == 1 else 10)
    elif impl.startswith('profile-'):  # profile-<threads>-<one of OURS without ours->
        _, threads, ours = impl.split('-', 2)
        cell_impl, blocks, xla = parse_ours('ours-' + ours)
        result = work_profile(config, cell_impl, args.batch, args.seq, threads=int(threads),
                              blocks=blocks, xla=xla)
    elif impl == 'generate':
        result = work_generate(CONFIGS['char'], args.generate)
    else:
        raise SystemExit('unknown worker {}'.format(impl))
    result['peak_rss_mib'] = peak_rss_mib()
    print('RESULT ' + json.dumps(result))
    return 0


def run_worker(impl, config=None, steps=0, warmup=0, batch=BATCH, seq=SEQ,
               generate=GENERATE):
    command = [sys.executable, str(Path(__file__).resolve()), '--worker', impl,
               '--steps', str(steps), '--warmup', str(warmup), '--batch', str(batch),
               '--seq', str(seq), '--generate', str(generate)]
    if config:
        command += ['--config', config]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    return {'failed': (done.stderr.strip().splitlines() or ['no output'])[-1][:300]}


# ---------------------------------------------------------------- the report

def measure(args):
    impls = args.impls.split(',')
    configs = args.configs.split(',')
    gemm = run_worker('gemm', steps=1 if args.quick else 0)
    peak = max(gemm['numpy_gflops'], gemm['tensorflow_gflops'])
    results = {c: {i: {'step_s': [], 'build_and_first_step_s': [], 'peak_rss_mib': []}
                   for i in impls} for c in configs}
    notes = {c: {} for c in configs}
    for rep in range(args.repeats):
        for config in configs:
            order = impls[rep % len(impls):] + impls[:rep % len(impls)]  # interleaved
            for impl in order:
                r = run_worker(impl, config, args.steps, args.warmup, args.batch, args.seq)
                print('  rep {} {} {}: {}'.format(rep + 1, config, impl, (
                    '{:.0f} ms'.format(1000 * statistics.median(r['step_s']))
                    if 'step_s' in r else r.get('missing') or r.get('failed'))),
                    flush=True)
                if 'step_s' not in r:
                    notes[config][impl] = r.get('missing') or 'failed: ' + r.get('failed', '')
                    continue
                for key in ('step_s', 'build_and_first_step_s', 'peak_rss_mib'):
                    value = r[key]
                    results[config][impl][key] += value if isinstance(value, list) else [value]
                for key in ('keras', 'torch', 'threads'):
                    if key in r:
                        notes[config].setdefault('versions', {})[key] = r[key]
    generation = run_worker('generate', generate=args.generate) \
        if 'ours-basic' in impls else None

    table = {}
    for config in configs:
        flops, parts = step_flops(CONFIGS[config], args.batch, args.seq)
        roofline_s = flops / (peak * 1e9)
        rows = {}
        for impl in impls:
            r = results[config][impl]
            if not r['step_s']:
                rows[impl] = {'missing': notes[config].get(impl, 'no result')}
                continue
            step = statistics.median(r['step_s'])
            rows[impl] = {
                'step_ms': 1000 * step,
                'tokens_per_s': args.batch * args.seq / step,
                'roofline_fraction': roofline_s / step,
                'build_and_first_step_s': statistics.median(r['build_and_first_step_s']),
                'peak_rss_mib': max(r['peak_rss_mib']),
                'steps_measured': len(r['step_s']),
            }
        keras_rows = [k for k in ('keras', 'keras-jit') if 'step_ms' in rows.get(k, {})]
        best_keras = min(keras_rows, key=lambda k: rows[k]['step_ms']) if keras_rows else None
        for impl in OURS:
            if 'step_ms' not in rows.get(impl, {}):
                continue
            for peer in PEERS:
                if 'step_ms' in rows.get(peer, {}):
                    rows[impl]['speedup_vs_' + peer] = rows[peer]['step_ms'] / rows[impl]['step_ms']
        table[config] = {'gflop_per_step': flops / 1e9,
                         'gflop_parts': {k: v / 1e9 for k, v in parts.items()},
                         'roofline_ms': 1000 * roofline_s, 'best_keras': best_keras,
                         'rows': rows, 'notes': notes[config]}
    return {
        'when': datetime.datetime.now().isoformat(timespec='seconds'),
        'machine': '{} {}, {} cores, Python {}'.format(
            platform.system(), platform.machine(), os.cpu_count(),
            platform.python_version()),
        'method': 'batch {} x {}; {} repetitions, implementations interleaved, each in '
                  'its own process; {} warm-up then {} timed steps per process; medians'
                  .format(args.batch, args.seq, args.repeats, args.warmup, args.steps),
        'gemm_gflops': gemm, 'peak_gflops': peak,
        'configs': table, 'generation': generation, 'generated_tokens': args.generate,
    }


def markdown(report):
    lines = ['Benchmark of {} on {}. {}. Matrix-product peak {:.1f} GFLOP/s '
             '(NumPy {:.1f}, TensorFlow {:.1f}).'.format(
                 report['when'], report['machine'], report['method'], report['peak_gflops'],
                 report['gemm_gflops']['numpy_gflops'],
                 report['gemm_gflops']['tensorflow_gflops']), '']
    for config, t in report['configs'].items():
        lines.append('**{}** ({:.1f} GFLOP per step; roofline {:.0f} ms):'.format(
            config, t['gflop_per_step'], t['roofline_ms']))
        lines.append('')
        lines.append('| implementation | ms / step | tokens / s | of roofline | build + first '
                     'step (s) | peak RSS (MiB) | its time / ours-basic |')
        lines.append('|---|---|---|---|---|---|---|')
        basic = t['rows'].get('ours-basic', {})
        for impl, r in t['rows'].items():
            if 'step_ms' not in r:
                lines.append('| {} | {} | | | | | |'.format(impl, r['missing']))
                continue
            ratio = ''
            if impl != 'ours-basic' and 'step_ms' in basic:
                ratio = '{:.2f}x'.format(r['step_ms'] / basic['step_ms'])
            lines.append('| {}{} | {:.0f} | {:,.0f} | {:.0%} | {:.1f} | {:.0f} | {} |'.format(
                impl, ' (faster Keras)' if impl == t['best_keras'] else '', r['step_ms'],
                r['tokens_per_s'], r['roofline_fraction'], r['build_and_first_step_s'],
                r['peak_rss_mib'], ratio))
        lines.append('')
    products = report['gemm_gflops'].get('word_softmax_products_ms')
    if products and 'word' in report['configs']:
        lines.append("The word step's three softmax-layer products alone, at their own shapes "
                     '(forward, input gradient, weight gradient): NumPy {} = {:.0f} ms, '
                     'TensorFlow {} = {:.0f} ms; the word roofline is {:.0f} ms.'.format(
                         ' + '.join('{:.0f}'.format(p['numpy']) for p in products.values()),
                         sum(p['numpy'] for p in products.values()),
                         ' + '.join('{:.0f}'.format(p['tensorflow']) for p in products.values()),
                         sum(p['tensorflow'] for p in products.values()),
                         report['configs']['word']['roofline_ms']))
        lines.append('')
    gates = report['gemm_gflops'].get('char_gate_products_ms')
    if gates and 'char' in report['configs']:
        lines.append("The char step's {} gate products alone, at their own shapes (forward and "
                     'backward, none waiting for another): NumPy {:.0f} ms, TensorFlow {:.0f} '
                     'ms; the char roofline is {:.0f} ms.'.format(
                         gates['products'], gates['numpy'], gates['tensorflow'],
                         report['configs']['char']['roofline_ms']))
        lines.append('')
    g = report.get('generation')
    if g and 'per_token_tokens_per_s' in g:
        per_token = g['per_token_tokens_per_s']
        lines.append('Generation, {} characters, 3 x 128 model: per-token sampler {:,.0f} '
                     'tokens/s; graph-side {:,.0f} tokens/s ({:.1f}x), its unrolled graph '
                     '{:.1f} s to build and {:.2f} s for its first call; graph-side with '
                     '--cell-impl fused {:,.0f} tokens/s ({:.1f}x), {:.1f} s and {:.2f} s.'.format(
                         report['generated_tokens'], per_token, g['graph_side_tokens_per_s'],
                         g['graph_side_tokens_per_s'] / per_token, g['graph_build_s'],
                         g['graph_side_first_s'], g['graph_side_fused_tokens_per_s'],
                         g['graph_side_fused_tokens_per_s'] / per_token,
                         g['graph_build_s_fused'], g['graph_side_fused_first_s']))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--repeats', type=int, default=3,
                        help='repetitions, each running every implementation (default 3)')
    parser.add_argument('--steps', type=int, default=10,
                        help='timed steps per process (default 10)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps after the first (default 3)')
    parser.add_argument('--quick', action='store_true',
                        help='1 repetition, 3 timed steps, 1 warm-up: a smoke run')
    parser.add_argument('--impls', default=','.join(IMPLEMENTATIONS),
                        help='comma-separated, from ' + ', '.join(IMPLEMENTATIONS))
    parser.add_argument('--configs', default='word,char', help='word, char or both')
    parser.add_argument('--batch', type=int, default=BATCH, help=argparse.SUPPRESS)
    parser.add_argument('--seq', type=int, default=SEQ, help=argparse.SUPPRESS)
    parser.add_argument('--generate', type=int, default=GENERATE, help=argparse.SUPPRESS)
    parser.add_argument('--out', metavar='DIR', default=str(OUT_DIR),
                        help='where the JSON and Markdown go (default %(default)s)')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--config', help=argparse.SUPPRESS)
    parser.add_argument('--profile', metavar='IMPL',
                        choices=[impl[len('ours-'):] for impl in OURS],
                        help='instead: where one step of LSTM_Model spends its time, by '
                             'op type, for each of --configs; IMPL is one of ours without '
                             '"ours-": ' + ', '.join(impl[len('ours-'):] for impl in OURS))
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.profile:
        for config in args.configs.split(','):
            # the recipes' session (every core), then one thread: an op type whose
            # time halves with the second core ran on both
            both, one = (run_worker('profile-{}-{}'.format(threads, args.profile), config,
                                    batch=args.batch, seq=args.seq) for threads in (0, 1))
            for r in (both, one):
                if 'ops' not in r:
                    raise SystemExit('The profile failed: {}'.format(r.get('failed')))
            single = {kind: ms for kind, ms, _, _ in one['ops']}
            print('{} ({} graph ops): traced step {:.0f} ms on every core, {:.0f} ms on one '
                  'thread; summed op time {:.0f} ms and {:.0f} ms.'.format(
                      config, both['op_count'], both['wall_ms_traced'], one['wall_ms_traced'],
                      both['op_ms_total'], one['op_ms_total']))
            print('| op type | ops in the graph | ms a step, every core | share | ms, one thread '
                  '| one thread / every core |')
            print('|---|---|---|---|---|---|')
            for kind, ms, share, count in both['ops']:
                if share < 0.005:
                    continue
                alone = single.get(kind)
                print('| {} | {} | {:.1f} | {:.1%} | {} | {} |'.format(
                    kind, count, ms, share, '{:.1f}'.format(alone) if alone else '-',
                    '{:.2f}'.format(alone / ms) if alone and ms else '-'))
        return 0
    if args.quick:
        args.repeats, args.steps, args.warmup = 1, 3, 1
    for impl in args.impls.split(','):
        if impl not in IMPLEMENTATIONS:
            parser.error('--impls: {!r} is not one of {}'.format(impl, ', '.join(IMPLEMENTATIONS)))
    for config in args.configs.split(','):
        if config not in CONFIGS:
            parser.error('--configs: {!r} is not word or char'.format(config))
    report = measure(args)
    text = markdown(report)
    print()
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    (out / 'bench-{}.json'.format(stamp)).write_text(json.dumps(report, indent=1) + '\n')
    (out / 'bench-{}.md'.format(stamp)).write_text(text)
    print('Wrote {}'.format(out / 'bench-{}.json/.md'.format(stamp)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
