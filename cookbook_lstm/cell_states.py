"""What the cells learned: a trained model's cell states over a text, and a heatmap.

In the style of "Visualizing and Understanding Recurrent Networks" (Karpathy,
Johnson and Fei-Fei, 2015): each chosen unit of the last layer's cell
state c, one coloured cell per character, the character written in it.
The recipes clean their text of punctuation but '-' and "'", of line ends
and of case, so no unit can track line ends or quotation marks, which the
paper found; what is left to find is the words. The rule that picks the
units, stated once and used by tools/cell_heatmap.py and the notebooks:
the units whose state correlates most (largest |Pearson r| over the text)
with the character's place in its word (1 for a word's first letter, 0
for a space), and those that correlate most with "this character is a
space", three of each unless asked otherwise.
"""
import numpy as np


def states_over(sess, model, indices):
    """The sampling model's last-layer cell state c after each index.

    model: the sampling model unrolled one step (batch_size=1,
    training_seq_len=1), of an LSTM cell. Returns c [len(indices), units].
    """
    state = sess.run(model.initial_state)
    x = np.zeros((1, 1), dtype=np.int32)
    rows = []
    for ix in indices:
        x[0, 0] = ix
        state = sess.run(model.final_state,
                         feed_dict={model.x_data: x, model.initial_state: state})
        last = state[-1] if isinstance(state, tuple) and not hasattr(state, 'c') else state
        if not hasattr(last, 'c'):
            raise ValueError('The cell states of an LSTM are drawn; this model\'s cell has '
                             'no c (a GRU or basic RNN run).')
        rows.append(last.c[0])
    return np.array(rows)


def word_features(text):
    """(place in word, is a space) for each character of text, as float arrays."""
    place, at = [], 0
    for ch in text:
        at = 0 if ch == ' ' else at + 1
        place.append(at)
    return np.array(place, float), np.array([ch == ' ' for ch in text], float)


def correlation(states, feature):
    """Pearson r of each unit's state [steps, units] with feature [steps]; 0 where flat."""
    s = states - states.mean(0)
    f = feature - feature.mean()
    denominator = np.sqrt((s ** 2).sum(0) * (f ** 2).sum())
    with np.errstate(invalid='ignore', divide='ignore'):
        r = (s * f[:, None]).sum(0) / denominator
    return np.where(denominator > 0, r, 0.0)


def pick_units(states, text, per_feature=3):
    """The rule: [(unit, feature name, r)], per_feature units per feature.

    For each feature of word_features, the units with the largest |r|,
    a unit picked once only (for the first feature it tops).
    """
    picked, seen = [], set()
    for name, feature in zip(('place in word', 'space'), word_features(text)):
        r = correlation(states, feature)
        order = [u for u in np.argsort(-np.abs(r)) if u not in seen][:per_feature]
        seen.update(order)
        picked += [(int(u), name, float(r[u])) for u in order]
    return picked


def draw_heatmap(states, text, picked, line_width=60, title=None):
    """The chosen units' tanh(c) under the text, one block of rows per unit.

    Each unit: the text in lines of line_width characters, each character on
    a cell coloured by tanh(c) (blue -1, white 0, red +1). Returns the
    matplotlib figure.
    """
    import matplotlib.pyplot as plt
    lines = [text[k:k + line_width] for k in range(0, len(text), line_width)]
    fig, axes = plt.subplots(len(picked), 1, figsize=(line_width * 0.2, 0.42 * len(lines)
                                                      * len(picked) + 1.0), squeeze=False)
    for ax, (unit, feature, r) in zip(axes[:, 0], picked):
        grid = np.full((len(lines), line_width), np.nan)
        values = np.tanh(states[:, unit])
        for k, value in enumerate(values):
            grid[k // line_width, k % line_width] = value
        ax.imshow(grid, cmap='bwr', vmin=-1, vmax=1, aspect='auto')
        for k, ch in enumerate(text):
            ax.text(k % line_width, k // line_width, ch, ha='center', va='center',
                    fontsize=8, family='monospace')
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel('unit {}'.format(unit), rotation=0, ha='right', va='center',
                      fontsize=8)
        ax.set_title('unit {}: r = {:+.2f} with {}'.format(unit, r, feature), fontsize=8,
                     loc='left')
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
