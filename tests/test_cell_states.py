"""What the cells learned: the rule that picks units, and the heatmap of a run."""
import numpy as np
import pytest

from cookbook_lstm import cell_states
from cookbook_lstm.errors import CorpusError
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


def test_a_unit_that_hardly_moves_is_not_picked_however_it_correlates():
    text = 'to be or not'
    place, space = cell_states.word_features(text)
    states = np.random.RandomState(1).uniform(-1, 1, (len(text), 4))
    states[:, 2] = -3 + 0.01 * place   # follows the place in the word, tanh(c) all but -1
    picked = cell_states.pick_units(states, text, per_feature=2)
    assert sorted(u for u, _, _ in picked) == [0, 1, 3]  # the three others
    assert cell_states.correlation(states[:, 2:3], place)[0] > 0.99


def test_a_feature_that_never_changes_picks_nothing_and_no_pick_is_an_error():
    text = 'abcd'  # one word: no space, the 'space' feature is flat
    place, _ = cell_states.word_features(text)
    states = np.random.RandomState(2).uniform(-1, 1, (len(text), 4))
    states[:, 1] = place / 4  # follows the place in the word; tanh(c) spans 0.5
    picked = cell_states.pick_units(states, text, per_feature=2)
    assert [(u, name) for u, name, _ in picked] == [(1, 'place in word'), (0, 'place in word')]
    with pytest.raises(CorpusError, match="'a': no unit's tanh.c. moves by 0.25 or more"):
        cell_states.pick_units(np.ones((1, 4)), 'a')  # nothing moves over one character


def test_the_heatmap_breaks_its_rows_at_spaces_and_names_its_colours():
    text = 'to be or not to be that is the question'
    lines = cell_states.wrapped(text, 12)
    assert lines == ['to be or ', 'not to be ', 'that is the ', 'question']
    assert cell_states.wrapped('abcdefghij', 4) == ['abcd', 'efgh', 'ij']  # no space: cut
    states = np.random.RandomState(0).uniform(-2, 2, (len(text), 3))
    figure = cell_states.draw_heatmap(states, text, cell_states.pick_units(states, text, 1),
                                      line_width=12)
    bar = figure.axes[-1]  # below the rows, its label inside the figure
    assert [t.get_text() for t in bar.get_xticklabels()] == ['-1 blue', '0 white', '+1 red']
    figure.canvas.draw()
    box = bar.xaxis.label.get_window_extent()
    assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= figure.bbox.width
    assert 'without the drift' in ' '.join(bar.xaxis.label.get_text().split())
    assert figure._suptitle.get_text().startswith('What the last LSTM layer holds')
    # each row's characters, in order, are the text
    drawn = ''.join(t.get_text() for t in figure.axes[0].texts)
    assert drawn == text
    assert [cell_states.strength(r) for r in (-0.9, 0.77, 0.5, -0.39)] == [
        'strong', 'strong', 'moderate', 'weak']


def test_the_heatmap_of_a_character_run(corpus, tmp_path):
    out = tmp_path / 'run'
    assert run_in_process('04', '--tiny', '--corpus', corpus, '--max-steps', 5, '--seed', 1,
                          '--out', out).returncode == 0
    drawn = run_in_process('heatmap', '--checkpoint', out, '--units', 2)
    assert drawn.returncode == 0, drawn.stderr[-3000:]
    lines = drawn.stdout.splitlines()
    assert len([l for l in lines if l.startswith('unit ')]) <= 4  # at most 2 per feature
    assert all('without the drift' in l for l in lines if l.startswith('unit '))
    assert (out / 'cell_states.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    for text in ('a', 'to'):  # one line, not a traceback, and nothing written
        short = run_in_process('heatmap', '--checkpoint', out, '--text', text,
                               '--out', tmp_path / 'short.png')
        assert short.returncode == 1
        assert short.stderr.startswith("Error: --text {!r}: no unit's tanh(c) moves".format(
            text)) and len(short.stderr.splitlines()) == 1
    assert not (tmp_path / 'short.png').exists()
    words = tmp_path / 'words'
    assert run_in_process('03', '--tiny', '--corpus', corpus, '--max-steps', 2,
                          '--out', words).returncode == 0
    refused = run_in_process('heatmap', '--checkpoint', words)
    assert refused.returncode == 1 and 'give a run of recipe 04' in refused.stderr


def test_each_letter_is_written_in_the_colour_that_reads_on_its_cell():
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap('bwr')
    assert cell_states.letter_colour(cmap(0.0)) == 'white'    # deep blue, -1
    assert cell_states.letter_colour(cmap(0.5)) == 'black'    # white, 0
    assert cell_states.letter_colour(cmap(0.75)) == 'black'   # pale red
    text = 'to be or not to be'
    states = np.zeros((len(text), 2))
    states[:, 0] = np.where(np.array(list(text)) == ' ', 3.0, -3.0)   # deep blue letters
    states[:, 1] = cell_states.word_features(text)[0] / 4
    figure = cell_states.draw_heatmap(states, text, [(0, 'space', 1.0), (1, 'place in word', 1.0)])
    colours = [t.get_color() for t in figure.axes[0].texts]
    assert colours == ['black' if ch == ' ' else 'white' for ch in text]


def test_a_unit_that_only_drifts_along_the_line_is_not_called_strong():
    # long words late in the text: a unit that only drifts up correlates with the place
    text = 'i a o to be the that which nothing question remembrances'
    place, _ = cell_states.word_features(text)
    drifting = np.linspace(-1, 1, len(text))
    following = place / 4 - 0.5
    states = np.stack([drifting, following], 1)
    r = cell_states.correlation(states, place)
    local = [cell_states.drift_free_r(states, text, u, 'place in word') for u in (0, 1)]
    assert r[0] > 0.7 and abs(local[0]) < 0.4   # strong by r alone: no longer
    assert cell_states.strength(r[0], local[0]) == 'weak'
    assert local[1] > 0.9 and cell_states.strength(r[1], local[1]) == 'strong'
    assert cell_states.strength(0.8, 0.3) == 'weak' and cell_states.strength(0.8, 0.5) == 'moderate'
    line = cell_states.tie(states, text, 1, 'place in word', r[1])
    assert line.startswith('unit 1: r = ') and 'without the drift (strong)' in line
