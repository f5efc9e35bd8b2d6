"""Recipe 06 as printed and --corrected, side by side: what the book's mismatch of
targets and loss costs.

Trains the recipe with the book's settings for each seed, both ways, then
scores each run's final weights (keep probability 1.0, as the book matches)
on the same 2,000 fresh pairs, half an address and its typo, half mismatched,
made by the recipe's own get_batch from a seed of their own. Prints, per run
and as means: the accuracy when a pair is called similar above 0 (the book's
sign) and above the margin (--corrected's rule), the mean score of similar and
of dissimilar pairs, the matches of the book's four queries, and the time.

    python benchmarks/siamese_corrected.py --seeds 1 2 3 4 5 --out temp/bench06
"""
import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cookbook_lstm import resuming, settings  # noqa: E402

SCRIPT = settings.PROJECT_DIR / settings.RECIPES['06_siamese_similarity']
EVAL_SEED, EVAL_PAIRS = 12345, 2000
BOOK_MATCHES = ['123 abbey ln', '217 donner cir', '314 kings ave', 'tensorflow is so fun']


def train(out, seed, corrected):
    args = [sys.executable, str(SCRIPT), '--seed', str(seed), '--out', str(out), '--overwrite']
    started = time.perf_counter()
    done = subprocess.run(args + ['--corrected'] * corrected, capture_output=True, text=True,
                          env={'MPLBACKEND': 'Agg', **__import__('os').environ})
    if done.returncode != 0:
        sys.exit('{} failed: {}'.format(' '.join(args), done.stderr[-2000:]))
    return time.perf_counter() - started


def matcher(run_dir):
    """tools/match_addresses.py's Matcher for the run's final weights."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'match_addresses', settings.PROJECT_DIR / 'tools' / 'match_addresses.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    _, checkpoint, config, vocab2ix, _, _ = resuming.load_run(run_dir)
    return tool.Matcher(checkpoint, config, vocab2ix)


def evaluate(run_dir, margin):
    recipe = settings.recipe_module('06_siamese_similarity')
    random.seed(EVAL_SEED)
    np.random.seed(EVAL_SEED)
    batch = recipe.get_batch(EVAL_PAIRS, dissimilar=0)
    similar = np.array([t == 1 for _, t in batch])
    score = matcher(run_dir)
    s = score([pair for pair, _ in batch])
    matches = []
    for query in recipe.test_queries:
        q = score([(query, r) for r in recipe.test_references])
        matches.append(recipe.test_references[int(np.argmax(q))])
    record = json.loads((Path(run_dir) / 'record.json').read_text())
    last = [r[5] for r in record['iterations']['rows'][-100:]]
    return {'acc_above_0': float(np.mean((s > 0) == similar)),
            'acc_above_margin': float(np.mean((s > margin) == similar)),
            'similar_mean': float(s[similar].mean()), 'dissimilar_mean': float(s[~similar].mean()),
            'train_acc_last_100': float(np.mean(last)), 'matches': matches,
            'book_matches': sum(m == b for m, b in zip(matches, BOOK_MATCHES))}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3, 4, 5])
    parser.add_argument('--out', default=str(settings.TEMP_DIR / 'bench06'))
    args = parser.parse_args()
    results = {}
    for corrected in (False, True):
        name = 'corrected' if corrected else 'book'
        for seed in args.seeds:
            run_dir = Path(args.out) / '{}-{}'.format(name, seed)
            seconds = train(run_dir, seed, corrected)
            result = dict(evaluate(run_dir, 0.25), seconds=round(seconds, 1))
            results['{} {}'.format(name, seed)] = result
            print(name, seed, json.dumps(result), flush=True)
    for name in ('book', 'corrected'):
        rows = [r for k, r in results.items() if k.startswith(name + ' ')]
        print('{}: mean over {} seeds: {}'.format(name, len(rows), json.dumps({
            k: round(float(np.mean([r[k] for r in rows])), 3) for k in (
                'acc_above_0', 'acc_above_margin', 'similar_mean', 'dissimilar_mean',
                'train_acc_last_100', 'book_matches', 'seconds')})))


if __name__ == '__main__':
    main()
