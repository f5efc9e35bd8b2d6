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
space", three of each unless asked otherwise (at most: see pick_units).

How strong a tie is, in words (strength, tie), is judged on two r: the
plain Pearson r over the text, and the r that is left once the slow drift
of both the state and the feature is taken out (each less its centred
moving average over DRIFT_WINDOW characters, about two words). A unit that
only drifts along the line (a tiny model's state filling up, say) can show a
large plain r on one text, since long words come late or early; it does not
follow the feature from character to character, and its drift-free r is
small. A tie is called strong only where both |r| are 0.7 or more, moderate
where both are 0.4 or more, weak otherwise.
"""
import numpy as np

from cookbook_lstm.errors import CorpusError


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


DRIFT_WINDOW = 9  # characters: the moving average taken out of a state and a feature


def without_drift(values, window=DRIFT_WINDOW):
    """values [steps] or [steps, units], each less its centred moving average over
    window steps (fewer at the ends): what moves from character to character."""
    v = np.asarray(values, float)
    flat = v.reshape(len(v), -1)
    kernel = np.ones(min(window, len(v)))
    counts = np.convolve(np.ones(len(v)), kernel, 'same')
    smooth = np.stack([np.convolve(col, kernel, 'same') for col in flat.T], 1) / counts[:, None]
    return (flat - smooth).reshape(v.shape)


def drift_free_r(states, text, unit, feature_name):
    """Pearson r of the unit's state with the named feature of word_features, both
    without their drift (without_drift)."""
    feature = dict(zip(FEATURES, word_features(text)))[feature_name]
    return float(correlation(without_drift(states[:, unit:unit + 1]),
                             without_drift(feature))[0])


FEATURES = ('place in word', 'space')
MIN_SPREAD = 0.25  # a unit whose tanh(c) moves less over the text is one colour: not drawn


def pick_units(states, text, per_feature=3):
    """The rule: [(unit, feature name, r)], at most per_feature units per feature.

    For each feature of word_features, the units with the largest |r|,
    a unit picked once only (for the first feature it tops), among the units
    whose tanh(c) spans at least MIN_SPREAD over the text (a unit that hardly
    moves can correlate and still show one colour). A feature that does not
    change over the text (the spaces of one word) ties no unit to it: every
    r would be 0. So fewer than per_feature units of a feature are picked
    where fewer units move enough, or where units were taken by the first
    feature. Raises CorpusError when no unit is picked (a text of a
    character or a word, say): there would be nothing to draw.
    """
    spread = np.ptp(np.tanh(states), axis=0)
    picked, seen = [], set(np.flatnonzero(spread < MIN_SPREAD).tolist())
    for name, feature in zip(FEATURES, word_features(text)):
        if np.ptp(feature) == 0:
            continue
        r = correlation(states, feature)
        order = [u for u in np.argsort(-np.abs(r)) if u not in seen][:per_feature]
        seen.update(order)
        picked += [(int(u), name, float(r[u])) for u in order]
    if not picked:
        raise CorpusError(
            '{!r}: no unit\'s tanh(c) moves by {} or more over it while the place in a '
            'word or the spaces change, so there is nothing to draw. Read a longer text, '
            'of several words.'.format(text, MIN_SPREAD))
    return picked


def strength(r, r_without_drift=None):
    """How strongly a unit is tied to its feature, in words: strong from |r| = 0.7,
    moderate from 0.4, weak below (the usual reading of a correlation); given
    the drift-free r as well, the smaller of the two |r| decides (the module's
    docstring says why)."""
    size = abs(r) if r_without_drift is None else min(abs(r), abs(r_without_drift))
    return 'strong' if size >= 0.7 else 'moderate' if size >= 0.4 else 'weak'


def tie(states, text, unit, feature, r):
    """One line for a picked unit: its r, its drift-free r and the word for both."""
    local = drift_free_r(states, text, unit, feature)
    return 'unit {}: r = {:+.2f} with {}, {:+.2f} without the drift ({})'.format(
        unit, r, feature, local, strength(r, local))


STRENGTH_RULE = ('strong: |r| >= 0.7 both over the text and without the drift (each less its '
                 'moving average over {} characters); moderate: both >= 0.4'.format(DRIFT_WINDOW))


def wrapped(text, width):
    """text in lines of at most width characters, broken after a space where one
    is (a word longer than a line is cut); joined, the lines are text again."""
    lines = []
    while len(text) > width:
        cut = text.rfind(' ', 0, width) + 1 or width
        lines.append(text[:cut])
        text = text[cut:]
    return lines + [text] if text else lines


def draw_heatmap(states, text, picked, line_width=60, title=None):
    """The chosen units' tanh(c) under the text, one block of rows per unit.

    Each unit: the text in lines of at most line_width characters, broken at
    spaces, each character on a cell coloured by tanh(c) (blue -1, white 0,
    red +1), with a colour bar that says so. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    lines = wrapped(text, line_width)
    starts = np.cumsum([0] + [len(line) for line in lines])
    # constrained layout: the titles, the colour bar below and its label all inside
    fig, axes = plt.subplots(len(picked), 1, figsize=(line_width * 0.2 + 1.5, (0.42 * len(lines)
                                                      + 0.35) * len(picked) + 1.9),
                             squeeze=False, layout='constrained')
    values = np.tanh(states)
    cmap = plt.get_cmap('bwr')
    for ax, (unit, feature, r) in zip(axes[:, 0], picked):
        grid = np.full((len(lines), line_width), np.nan)
        for row, line in enumerate(lines):
            grid[row, :len(line)] = values[starts[row]:starts[row] + len(line), unit]
            for col, ch in enumerate(line):
                ax.text(col, row, ch, ha='center', va='center', fontsize=8, family='monospace',
                        color=letter_colour(cmap((grid[row, col] + 1) / 2)))
        image = ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, aspect='auto')
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(tie(states, text, unit, feature, r), fontsize=8, loc='left')
    bar = fig.colorbar(image, ax=axes[:, 0].tolist(), orientation='horizontal',
                       location='bottom', fraction=0.9 / fig.get_figheight(), aspect=60,
                       shrink=0.5)
    bar.set_ticks([-1, 0, 1])
    bar.set_ticklabels(['-1 blue', '0 white', '+1 red'])
    import textwrap
    width = int(fig.get_figwidth() * 14)  # characters of 8 points across the figure
    bar.set_label('\n'.join(textwrap.fill(part, width) for part in (
        'tanh(c), the cell state of the unit after each character', STRENGTH_RULE)),
        fontsize=8)
    fig.suptitle(title or 'What the last LSTM layer holds after each character: tanh(c) of '
                 'the units most tied to the place in a word and to the spaces', fontsize=9)
    return fig


def letter_colour(rgba):
    """Black or white, whichever reads better on a cell of colour rgba: white where
    the colour's relative luminance (WCAG's, of its linear sRGB) is below 0.18,
    the level at which both contrast ratios are equal."""
    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 'white' if luminance < 0.18 else 'black'
