"""The book's steps from the Shakespeare text to its batches, in the order the
recipes 03 and 04 call them.

Clean the text; build the vocabulary (words seen more than min_word_freq
times, or every character); turn the text into indices; hold out its end
(--valid-fraction, not the book's); cut it into batches. Where the text
comes from is text_source's. The steps go through the text a piece at a
time, with no list of all its words or characters (memory).

Then the prime texts the recipes and the sampler start from: tokens splits
one text into the model's tokens, as every caller does.
"""
import collections
import math
import re
import string

import numpy as np

from cookbook_lstm.errors import CorpusError, Refused

# Every punctuation mark except hyphens and apostrophes
PUNCTUATION = ''.join(x for x in string.punctuation if x not in ['-', "'"])


CLEAN_PIECE = 2 ** 20  # characters cleaned at a time: a few MB of work, whatever the text
# Where a piece may end: just after a whitespace character or a punctuation
# mark, which both become a space, so that no word is cut
_PIECE_END = re.compile(r'[\s{}]'.format(re.escape(PUNCTUATION)))


def clean_text(s_text):
    """Punctuation but '-' and "'" to spaces, whitespace collapsed, lowercase.

    The book's steps, on a piece of the text at a time: re.sub on the whole
    text builds a list of every piece between two matches, about 60 bytes a
    word (memory). Pieces end after a space or a punctuation mark, so that the
    result is the book's to the character: runs of spaces across an end
    become one space, and lower() (whose Greek final sigma depends on the
    word it ends) sees whole words.

    Raises CorpusError when nothing is left.
    """
    pieces = []
    after_space = True  # the cleaned text so far ends in a space (none yet: strip it)
    start = 0
    while start < len(s_text):
        match = _PIECE_END.search(s_text, start + CLEAN_PIECE)
        stop = match.end() if match else len(s_text)
        piece = re.sub(r'[{}]'.format(re.escape(PUNCTUATION)), ' ', s_text[start:stop])
        # The book's text prints 's+'; the author's code has '\s+' (see errata).
        piece = re.sub(r'\s+', ' ', piece).lower()
        if after_space and piece.startswith(' '):
            piece = piece[1:]  # one run of spaces across the end of a piece: one space
        if piece:
            pieces.append(piece)
            after_space = piece.endswith(' ')
        start = stop
    if pieces and after_space:
        pieces[-1] = pieces[-1][:-1]  # the book's strip() of the last space
    s_text = ''.join(pieces)
    if not s_text:
        raise CorpusError('The corpus is empty once punctuation and whitespace are '
                          'removed: give a text file with words in it.')
    return s_text



def build_word_vocab(text, min_word_freq):
    """The book's word vocabulary: words seen more than min_word_freq times.

    Words are numbered from 1 in first-seen order, then 'unknown' is set to 0.
    'unknown' is itself a Shakespeare word: it then moves to 0 and its first
    index is left unused.

    Returns (ix2vocab, vocab2ix).
    """
    # the book's Counter(text.split(' ')), without the list of all the words
    word_counts = collections.Counter(split_words(text))
    # limit word counts to those more frequent than cutoff
    words = [key for key, val in word_counts.items() if val > min_word_freq]
    if not words:
        raise CorpusError(
            'No word occurs more than {} times (--min-word-freq), so the vocabulary '
            'would be empty: use a longer text or a lower '
            '--min-word-freq.'.format(min_word_freq))
    vocab2ix = {key: (ix + 1) for ix, key in enumerate(words)}
    vocab2ix['unknown'] = 0
    ix2vocab = {val: key for key, val in vocab2ix.items()}
    return ix2vocab, vocab2ix


def compact_word_vocab(ix2vocab, vocab2ix):
    """The corrected vocabulary: the same words, numbered 0..n-1 with no gap."""
    words = [ix2vocab[ix] for ix in sorted(ix2vocab)]
    vocab2ix = {word: ix for ix, word in enumerate(words)}
    return {ix: word for word, ix in vocab2ix.items()}, vocab2ix


def drawable(ix2vocab, vocab_size):
    """The indices a sampler's draw can take: those below vocab_size that name
    a token, but 0 ('unknown', which stands for every rare word, or for
    nothing in a character text). The book's word vocabulary has one class
    more than its words, which names nothing (docs/errata.md)."""
    return [ix for ix in range(1, vocab_size) if ix in ix2vocab]


def build_char_vocab(characters):
    """The book's character vocabulary: every character seen, from 1, and
    'unknown' at 0. characters: a list, or the text itself (no list of its
    characters, 8 bytes each). Returns (ix2vocab, vocab2ix)."""
    character_counts = collections.Counter(characters)
    vocab2ix = {key: (ix + 1) for ix, key in enumerate(character_counts)}
    vocab2ix['unknown'] = 0
    ix2vocab = {val: key for key, val in vocab2ix.items()}
    return ix2vocab, vocab2ix


WORD_PIECE = 2 ** 18  # characters split into words at a time


def split_words(text):
    """text.split(' '), its words read a piece of the text at a time.

    The same words in the same order, with len() and iteration (again and
    again), but no list of them all: a list takes about 60 bytes a word.
    """
    return Words(text)


class Words:
    """The words of a text, as split_words gives them."""

    def __init__(self, text):
        self.text = text

    def __len__(self):
        return self.text.count(' ') + 1

    def __iter__(self):
        text, start = self.text, 0
        while True:
            # cut at a space, which split(' ') drops: the pieces' words are the text's
            stop = text.find(' ', start + WORD_PIECE)
            if stop < 0:
                yield from text[start:].split(' ')
                return
            yield from text[start:stop].split(' ')
            start = stop + 1



def text_to_indices(tokens, vocab2ix):
    """Indices of the tokens, 0 for those outside the vocabulary.

    tokens: anything with len() that gives the tokens in order: a list,
    split_words(text) (the words), the text itself (its characters).
    int32, the placeholders' type, with no Python list on the way. The
    book's np.array of a list gives int64: for recipe 04's 4.7 million
    characters its indices and batches take 57 MB more.
    """
    return np.fromiter((vocab2ix.get(x, 0) for x in tokens), dtype=np.int32,
                       count=len(tokens))


def hold_out(s_text_ix, fraction, batch_size, training_seq_len):
    """Keep the last fraction of the text out of training: (train_ix, held_out_batches).

    train_ix: the indices before the cut, to batch as the book does.
    held_out_batches: the rest in whole batches (make_batches(exact=True):
    consecutive tokens, each target the one that follows), never trained on;
    [] for fraction 0, which leaves the text whole (the book).
    """
    if fraction == 0:
        return s_text_ix, []
    n = len(s_text_ix)
    held = int(round(n * fraction))
    need = batch_size * training_seq_len + 1
    if need >= n:  # no fraction below 1 holds out a whole batch and leaves text to train
        raise CorpusError(
            'The text has {} tokens, too few to hold out one batch of {} x {} + 1 and train '
            'on the rest: give a longer text, or a smaller --batch-size or --seq-len, or '
            'drop --valid-fraction.'.format(n, batch_size, training_seq_len))
    if held < need:
        raise CorpusError(
            'A held-out fraction of {} keeps {} of the {} tokens out of training, too few '
            'for one batch of {} x {} + 1: give a --valid-fraction of at least {}, or a '
            'smaller --batch-size or --seq-len.'.format(
                fraction, held, n, batch_size, training_seq_len, _rounded_up(need / n)))
    if held >= n:
        raise CorpusError('A held-out fraction of {} leaves nothing to train on.'.format(
            fraction))
    return s_text_ix[:n - held], make_batches(s_text_ix[n - held:], batch_size,
                                              training_seq_len, exact=True)


def _rounded_up(x):
    """x (above 0) rounded up to two significant digits, as text: a value that is
    enough where x is the least that is (0.0000337 -> '0.000034')."""
    exponent = math.floor(math.log10(x)) - 1
    digits = math.ceil(round(x / 10.0 ** exponent, 9))
    return '{:.{}f}'.format(digits * 10.0 ** exponent, max(0, -exponent))


def make_batches(s_text_ix, batch_size, training_seq_len, exact=False):
    """Cut the indices into (inputs, targets) pairs of [batch_size, training_seq_len].

    The book (exact=False): int(N / (batch_size * seq_len)) + 1 pieces by
    np.array_split, each np.resize'd to the batch shape, which repeats the
    piece's start to fill it, and targets np.roll(x, -1, axis=1), so each
    row's last target is its own first token. The book rolls after every
    shuffle; rolling once is the same, as a roll depends on its batch alone.

    exact=True: N // (batch_size * seq_len) whole batches of consecutive
    indices, the rest dropped, each target the index that really follows.
    """
    n = len(s_text_ix)
    per_batch = batch_size * training_seq_len
    if batch_size < 1 or training_seq_len < 1:
        raise CorpusError('batch size and sequence length must be at least 1; got '
                          '{} and {}.'.format(batch_size, training_seq_len))
    if exact:
        num_batches = (n - 1) // per_batch
        if num_batches < 1:
            raise CorpusError(
                'The text has {} tokens, too few for one whole batch of {} x {} + 1: '
                'use a longer text or a smaller --batch-size or '
                '--seq-len.'.format(n, batch_size, training_seq_len))
        stream = np.asarray(s_text_ix)
        x = stream[:num_batches * per_batch].reshape(num_batches, batch_size, training_seq_len)
        y = stream[1:num_batches * per_batch + 1].reshape(num_batches, batch_size,
                                                          training_seq_len)
        return list(zip(x, y))
    if n == 0:
        raise CorpusError('The text has no tokens: nothing to train on.')
    num_batches = int(n / per_batch) + 1
    # Split up text indices into subarrays, of equal size
    batches = np.array_split(s_text_ix, num_batches)
    # Reshape each split into [batch_size, training_seq_len]
    batches = [np.resize(x, [batch_size, training_seq_len]) for x in batches]
    return [(x, np.roll(x, -1, axis=1)) for x in batches]


# ---------------------------------------------------------------- prime texts

def tokens(text, char_level):
    """A prime text's tokens, as the model reads them: its characters
    (char_level), or its words, split at whitespace."""
    return list(text) if char_level else text.split()


def check_prime_texts(prime_texts, vocab2ix, char_level):
    """Refuse, before training, prime texts the sampler could not read."""
    for text in prime_texts:
        missing = [t for t in tokens(text, char_level) if t not in vocab2ix]
        if missing:
            raise Refused(
                'Prime text {!r} has {} outside the vocabulary: {}. The samples '
                'printed during training need them: train on a text where they '
                'occur{}.'.format(
                    text, 'characters' if char_level else 'words',
                    ', '.join(repr(t) for t in missing),
                    '' if char_level else ' more than --min-word-freq times'))



def prime_tokens(prime_text, vocab2ix, char_level):
    """A prime text cleaned like the training text and cut into tokens.

    Returns (tokens, unknown): the tokens, with those outside the vocabulary
    replaced by 'unknown', and the list of those replaced. Raises
    CorpusError when nothing is left after cleaning.
    """
    try:
        cleaned = clean_text(prime_text)
    except CorpusError:
        raise CorpusError('The prime text {!r} is empty once punctuation and whitespace '
                          'are removed, as they are from the training text: give at '
                          'least one word.'.format(prime_text)) from None
    split = tokens(cleaned, char_level)
    unknown = [t for t in split if t not in vocab2ix]
    return [t if t in vocab2ix else 'unknown' for t in split], unknown
