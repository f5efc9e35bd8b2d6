"""What the cells learned: the rule that picks units, and the heatmap of a run."""
import numpy as np

from cookbook_lstm import cell_states
from conftest import run_in_process


def test_word_features_count_the_place_in_each_word():
    place, space = cell_states.word_features('ab c')
    assert place.tolist() == [1, 2, 0, 1] and space.tolist() == [0, 0, 1, 0]


def test_the_rule_picks_the_units_that_follow_each_feature():
    text = 'to be or not'
    place, space = cell_states.word_features(text)
    rng = np.random.RandomState(0)
    states = rng.uniform(-0.1, 0.1, (len(text), 5))
    states[:, 3] += place          # unit 3 follows the place in the word
    states[:, 1] -= 2 * space      # unit 1 follows the spaces, the other way
    picked = cell_states.pick_units(states, text, per_feature=1)
    assert [(u, name) for u, name, _ in picked] == [(3, 'place in word'), (1, 'space')]
    assert picked[0][2] > 0.9 and picked[1][2] < -0.9
    assert cell_states.correlation(np.ones((4, 1)), place[:4]).tolist() == [0.0]  # flat


def test_the_heatmap_of_a_character_run(corpus, tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('04', '--tiny', '--corpus', corpus, '--max-steps', 5, '--seed', 1,
                          '--out', out).returncode == 0
    drawn = run_in_process('heatmap', '--checkpoint', out, '--units', 2)
    assert drawn.returncode == 0, drawn.stderr[-3000:]
    lines = drawn.stdout.splitlines()
    assert len([l for l in lines if l.startswith('unit ')]) == 4
    assert (out / 'cell_states.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    words = tmp_path / 'words'
    assert run_in_process('03', '--tiny', '--corpus', corpus, '--max-steps', 2,
                          '--out', words).returncode == 0
    refused = run_in_process('heatmap', '--checkpoint', words)
    assert refused.returncode == 1 and 'give a run of recipe 04' in refused.stderr
