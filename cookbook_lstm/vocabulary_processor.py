"""A port of TensorFlow 1.x's VocabularyProcessor, which recipe 02 of the book
("Implementing RNN for Spam Prediction") calls as
``tf.contrib.learn.preprocessing.VocabularyProcessor(max_document_length=25,
min_frequency=10)`` and which TensorFlow 2 no longer has.

Its behaviour is that of TF1's ``tf.contrib.learn`` preprocessing, whose
source and tests were read, not copied, to write this module:

    tensorflow/contrib/learn/python/learn/preprocessing/text.py
        TOKENIZER_RE, tokenizer, VocabularyProcessor
    tensorflow/contrib/learn/python/learn/preprocessing/categorical_vocabulary.py
        CategoricalVocabulary
    .../preprocessing/tests/text_test.py, tests/categorical_vocabulary_test.py

What the processor does, as TF1's did:

* tokenizer: ``TOKENIZER_RE.findall`` on each document. The pattern takes,
  in this order of preference, a run of two or more capitals not followed by a
  small letter ('HTML' in 'HTMLpage' is 'HTM', 'Lpage'), a capitalised word
  followed by a capital ('Camel' of 'CamelCase'), else a run of word
  characters (letters, digits, '_'), apostrophes and hyphens.
* fit: every token of every document is counted. With ``min_frequency > 0``
  the vocabulary is then trimmed: tokens in order of descending count, ties by
  the token itself (ascending; integers before strings), and only those seen
  MORE than ``min_frequency`` times kept, numbered from 1. With
  ``min_frequency == 0`` nothing is trimmed and ids are in order of first
  appearance. The vocabulary is then frozen.
* transform: each document's tokens as ids (0, '<UNK>', for a token not in the
  vocabulary), cut to ``max_document_length`` and padded with 0 at the end: one
  numpy int64 array of shape [max_document_length] per document, from a
  generator.
* ``len(processor.vocabulary_)`` counts '<UNK>': the book's "Vocabulary Size".

Not ported: ByteProcessor, and save/restore (pickles). Where this module
differs from TF1 it is only to refuse, with a TypeError or ValueError that says
what to do, what TF1 would crash on or silently get wrong: settings of the
wrong type or range, one string given where a list of documents is expected,
bytes documents for the default tokenizer, and a one-shot iterator given to
fit_transform (TF1's fit used it up and its transform then yielded nothing).

Pure Python and numpy: TensorFlow is not imported.
"""
import collections
import numbers
import operator
import re

import numpy as np

UNKNOWN_TOKEN = '<UNK>'

TOKENIZER_RE = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z][a-z]+(?=[A-Z])|[\'\w\-]+",
                          re.UNICODE)


def tokenizer(documents):
    """Yields, for each document (str) of ``documents``, its list of tokens:
    ``TOKENIZER_RE.findall(document)``.

    Raises TypeError for a document that is not a str (bytes, say), or when
    ``documents`` is itself a single string.
    """
    _check_not_one_string(documents)
    for number, document in enumerate(documents):
        if not isinstance(document, str):
            hint = (" decode it first, e.g. document.decode('utf-8')"
                    if isinstance(document, (bytes, bytearray)) else ' pass text')
            raise TypeError(f'document {number} is a {type(document).__name__}, '
                            f'not a str: the tokenizer reads text;{hint}')
        yield TOKENIZER_RE.findall(document)


def _check_not_one_string(documents):
    if isinstance(documents, (str, bytes, bytearray)):
        raise TypeError('expected an iterable of documents, got a single '
                        f'{type(documents).__name__}: pass a list of texts, e.g. [text]')


def _check_int(name, value, least):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f'{name} must be an int, got {value!r} '
                        f'({type(value).__name__}): pass a whole number')
    if value < least:
        raise ValueError(f'{name} must be at least {least}, got {value}')
    return int(value)


class CategoricalVocabulary:
    """Tokens (any hashable: words, integers) to ids, with a count of each.

    Id 0 is the unknown token ('<UNK>'); a new token gets the next id
    (``len(self)``) when first looked up with ``get`` or counted with ``add``,
    until the vocabulary is frozen, after which unknown tokens get 0.
    ``trim`` renumbers the counted tokens by frequency.
    """

    def __init__(self, unknown_token=UNKNOWN_TOKEN, support_reverse=True):
        self._unknown_token = unknown_token
        self._support_reverse = support_reverse
        self._frozen = False
        self._counts = collections.Counter()
        self._set_tokens([])

    def _set_tokens(self, tokens):
        """Ids 1..len(tokens) to ``tokens``, in their order; 0 to the unknown token."""
        self._ids = {self._unknown_token: 0}
        for token in tokens:
            self._ids[token] = len(self._ids)
        self._tokens = [self._unknown_token] + list(tokens) if self._support_reverse else None

    def __len__(self):
        """How many ids there are, the unknown token's included."""
        return len(self._ids)

    @property
    def frozen(self):
        """True once ``freeze()`` was called: unknown tokens then get id 0."""
        return self._frozen

    def freeze(self, freeze=True):
        """Stops (True) or restarts (False) the giving of ids to new tokens."""
        self._frozen = bool(freeze)

    def get(self, token):
        """The id (int) of ``token``. A new token gets the next id, unless the
        vocabulary is frozen: then 0, the unknown token's id."""
        token_id = self._ids.get(token)
        if token_id is None:
            if self._frozen:
                return 0
            token_id = len(self._ids)
            self._ids[token] = token_id
            if self._support_reverse:
                self._tokens.append(token)
        return token_id

    def add(self, token, count=1):
        """Counts ``token`` ``count`` more times, giving it an id first as ``get``
        does. The unknown token, and new tokens once frozen, are not counted."""
        if self.get(token) > 0:
            self._counts[token] += count

    def trim(self, min_frequency, max_frequency=-1):
        """Keeps only the tokens counted more than ``min_frequency`` times (and,
        with ``max_frequency > 0``, fewer than ``max_frequency`` times), and
        renumbers them from 1: by descending count, ties by the token
        (integers before strings, each ascending). Tokens given ids by ``get``
        but never counted are dropped."""
        ranked = sorted(self._counts.items(),
                        key=lambda item: (-item[1], isinstance(item[0], str), item[0]))
        kept = [(token, count) for token, count in ranked
                if count > min_frequency and not (max_frequency > 0 and count >= max_frequency)]
        self._set_tokens([token for token, _ in kept])
        self._counts = collections.Counter(dict(kept))

    def reverse(self, token_id):
        """The token whose id is ``token_id`` (an int, numpy's included), 0 giving
        the unknown token.

        Raises ValueError for an id outside 0..len(self)-1, or when the
        vocabulary was made with ``support_reverse=False``.
        """
        if not self._support_reverse:
            raise ValueError('this vocabulary keeps no id-to-token list: make it with '
                             'CategoricalVocabulary(support_reverse=True) to use reverse()')
        try:
            index = operator.index(token_id)
        except TypeError:
            raise TypeError(f'a token id must be an int, got {token_id!r} '
                            f'({type(token_id).__name__})') from None
        if not 0 <= index < len(self._tokens):
            raise ValueError(f'no token has id {index}: ids run from 0 to '
                             f'{len(self._tokens) - 1} in this vocabulary')
        return self._tokens[index]


class VocabularyProcessor:
    """Documents (strings) to fixed-length sequences of word ids, as TF1's
    ``tf.contrib.learn.preprocessing.VocabularyProcessor``.

    max_document_length: the length (int >= 1) of every sequence: longer
        documents are cut, shorter ones padded with 0 at the end.
    min_frequency: with an int > 0, ``fit`` keeps only the tokens seen more than
        this many times; 0 keeps all.
    vocabulary: a CategoricalVocabulary to start from (it is used, not copied),
        or None for a new, empty one.
    tokenizer_fn: a function from an iterable of documents to an iterable of
        token lists, one per document; None for ``tokenizer`` (TOKENIZER_RE).

    Attribute ``vocabulary_``: the CategoricalVocabulary; ``len()`` of it is the
    vocabulary size, '<UNK>' (id 0) included.
    """

    def __init__(self, max_document_length, min_frequency=0, vocabulary=None,
                 tokenizer_fn=None):
        self.max_document_length = _check_int('max_document_length', max_document_length, 1)
        self.min_frequency = _check_int('min_frequency', min_frequency, 0)
        if vocabulary is None:
            vocabulary = CategoricalVocabulary()
        elif not isinstance(vocabulary, CategoricalVocabulary):
            raise TypeError('vocabulary must be a CategoricalVocabulary (from '
                            'cookbook_lstm.vocabulary_processor) or None, got '
                            f'{type(vocabulary).__name__}')
        self.vocabulary_ = vocabulary
        if tokenizer_fn is not None and not callable(tokenizer_fn):
            raise TypeError('tokenizer_fn must be a function from documents to token '
                            f'lists, or None for the default; got {tokenizer_fn!r}')
        self._tokenizer = tokenizer if tokenizer_fn is None else tokenizer_fn

    def _token_lists(self, raw_documents):
        _check_not_one_string(raw_documents)
        return self._tokenizer(raw_documents)

    def fit(self, raw_documents, unused_y=None):
        """Counts every token of ``raw_documents`` (an iterable of n strings),
        trims the vocabulary to ``min_frequency`` when it is > 0, and freezes it.
        Returns self."""
        for tokens in self._token_lists(raw_documents):
            for token in tokens:
                self.vocabulary_.add(token)
        if self.min_frequency > 0:
            self.vocabulary_.trim(self.min_frequency)
        self.vocabulary_.freeze()
        return self

    def transform(self, raw_documents):
        """Yields, for each of the n documents of ``raw_documents``, a numpy int64
        array of shape [max_document_length]: its first max_document_length
        tokens' ids (0 for a token not in the vocabulary), then 0s.
        ``np.array(list(...))`` makes the [n, max_document_length] matrix.

        Before ``fit`` the vocabulary is not frozen, and, as in TF1, new tokens
        get new ids here (only those within max_document_length of their
        document's start).
        """
        length = self.max_document_length
        for tokens in self._token_lists(raw_documents):
            ids = np.zeros(length, dtype=np.int64)
            # zip stops on range's end before taking a token past the cut
            for position, token in zip(range(length), tokens):
                ids[position] = self.vocabulary_.get(token)
            yield ids

    def fit_transform(self, raw_documents, unused_y=None):
        """``fit`` then ``transform`` on the same documents, which are read twice:
        give a list (or another re-readable collection), not an iterator.
        Returns the generator of int64 arrays of shape [max_document_length]."""
        _check_not_one_string(raw_documents)
        if iter(raw_documents) is raw_documents:
            raise TypeError('fit_transform reads the documents twice, and an iterator '
                            'or generator would be used up by fit: pass a list, '
                            'e.g. fit_transform(list(documents))')
        self.fit(raw_documents)
        return self.transform(raw_documents)

    def reverse(self, documents):
        """Yields, for each sequence of ids in ``documents`` (shape [n, length]),
        its tokens joined by single spaces; id 0, padding included, gives '<UNK>'."""
        for ids in documents:
            yield ' '.join(self.vocabulary_.reverse(token_id) for token_id in ids)
