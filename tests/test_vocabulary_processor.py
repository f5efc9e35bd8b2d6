"""The port of TF1's VocabularyProcessor (cookbook_lstm/vocabulary_processor.py):
TF1's own test cases (text_test.py, categorical_vocabulary_test.py, rewritten),
then the tokenizer, the min_frequency rule, the tie order, padding and cropping,
unknown words, the vocabulary size, and the errors."""
import subprocess
import sys
import types

import numpy as np
import pytest

from cookbook_lstm.vocabulary_processor import (
    TOKENIZER_RE, CategoricalVocabulary, VocabularyProcessor, tokenizer)

from conftest import PROJECT_DIR


def ids(processor, documents):
    """transform's arrays as lists of ints."""
    return [row.tolist() for row in processor.transform(documents)]


# TF1's text_test.py

def test_tf1_tokenizer_case():
    got = list(tokenizer(['a b c', 'a\nb\nc', 'a, b - c', 'фыв выф', '你好 怎么样']))
    assert got == [['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', '-', 'c'],
                   ['фыв', 'выф'], ['你好', '怎么样']]


def test_tf1_vocabulary_processor_case():
    processor = VocabularyProcessor(max_document_length=4, min_frequency=1)
    got = [row.tolist() for row in processor.fit_transform(['a b c', 'a\nb\nc', 'a, b - c'])]
    # '-' is seen once, not more than min_frequency=1 times: unknown, 0
    assert got == [[1, 2, 3, 0], [1, 2, 3, 0], [1, 2, 0, 3]]
    assert len(processor.vocabulary_) == 4


def test_tf1_existing_vocabulary_case():
    vocab = CategoricalVocabulary()
    vocab.get('A')
    vocab.get('B')
    vocab.freeze()
    processor = VocabularyProcessor(max_document_length=4, vocabulary=vocab, tokenizer_fn=list)
    got = [row.tolist() for row in processor.fit_transform(['ABC', 'CBABAF'])]
    assert got == [[1, 2, 0, 0], [0, 2, 1, 2]]
    assert processor.vocabulary_ is vocab and len(vocab) == 3


# TF1's categorical_vocabulary_test.py

def test_tf1_int_vocabulary_case():
    vocab = CategoricalVocabulary()
    assert [vocab.get(1), vocab.get(3), vocab.get(2), vocab.get(3)] == [1, 2, 3, 2]
    assert vocab.get(float('nan')) == 4  # nan is not handled specially
    assert len(vocab) == 5


def test_tf1_word_vocabulary_case():
    vocab = CategoricalVocabulary()
    assert [vocab.get('a'), vocab.get('b'), vocab.get('a'), vocab.get('b')] == [1, 2, 1, 2]


def test_tf1_counts_trim_case():
    vocab = CategoricalVocabulary()
    vocab.get('c')
    vocab.add('c', 5)
    vocab.get('a')
    vocab.add('a', 10)
    vocab.add('b', 5)
    vocab.add('d', 12)
    vocab.trim(7, 11)  # c, b: 5 <= 7; d: 12 >= 11
    vocab.freeze()
    assert [vocab.get('b'), vocab.get('c'), vocab.get('d')] == [0, 0, 0]
    assert vocab.get('a') == 1 and len(vocab) == 2


# The tokenizer

@pytest.mark.parametrize('text, tokens', [
    ('CamelCase', ['Camel', 'Case']),
    ('camelCase iPhone', ['camelCase', 'iPhone']),  # no split after a small letter
    ('USAToday', ['USA', 'Today']),                 # capitals, then a capitalised word
    ('HTMLpage', ['HTM', 'Lpage']),                 # the last capital goes with the small letters
    ('NASA ok', ['NASA', 'ok']),
    ('ABC123 abc123', ['ABC', '123', 'abc123']),    # digits are word characters
    ("don't e-mail -- rock'n'roll", ["don't", 'e-mail', '--', "rock'n'roll"]),
    ('snake_case x2', ['snake_case', 'x2']),
    ('Hello, world! (ok?) 3.14', ['Hello', 'world', 'ok', '3', '14']),
    ('', []),
    (' \t\n', []),
])
def test_tokenizer(text, tokens):
    assert list(tokenizer([text])) == [tokens]
    assert TOKENIZER_RE.findall(text) == tokens


def test_tokenizer_is_a_generator_of_lists():
    got = tokenizer(['a b', 'c'])
    assert isinstance(got, types.GeneratorType)
    assert next(got) == ['a', 'b'] and next(got) == ['c']


# fit: the min_frequency rule and the order of ids

def test_min_frequency_boundary():
    # seen: 'kept' 3 times, 'edge' 2 times, 'rare' once; min_frequency=2
    processor = VocabularyProcessor(5, min_frequency=2).fit(
        ['kept edge rare', 'kept edge', 'kept'])
    vocab = processor.vocabulary_
    assert len(vocab) == 2
    assert [vocab.get('kept'), vocab.get('edge'), vocab.get('rare')] == [1, 0, 0]


def test_min_frequency_one_below_the_boundary_keeps_it():
    processor = VocabularyProcessor(5, min_frequency=1).fit(
        ['kept edge rare', 'kept edge', 'kept'])
    vocab = processor.vocabulary_
    assert [vocab.get('kept'), vocab.get('edge'), vocab.get('rare')] == [1, 2, 0]


def test_ids_by_descending_count_then_by_token():
    # counts: zeta 3, pear 2, apple 2, fig 2, Zed 2, mango 1; first seen: zeta, pear, ...
    documents = ['zeta pear apple', 'fig zeta Zed pear', 'apple fig zeta Zed mango']
    processor = VocabularyProcessor(8, min_frequency=1).fit(documents)
    order = [processor.vocabulary_.reverse(i) for i in range(len(processor.vocabulary_))]
    # ties in code-point order: capitals before small letters
    assert order == ['<UNK>', 'zeta', 'Zed', 'apple', 'fig', 'pear']


def test_trim_puts_integers_before_strings_in_a_tie():
    vocab = CategoricalVocabulary()
    for token in ['b', 10, 'a', 2]:
        vocab.add(token, 3)
    vocab.add('top', 4)
    vocab.trim(1)
    assert [vocab.reverse(i) for i in range(len(vocab))] == ['<UNK>', 'top', 2, 10, 'a', 'b']


def test_min_frequency_zero_keeps_every_token_in_order_of_first_appearance():
    processor = VocabularyProcessor(4).fit(['pear apple pear', 'fig apple'])
    vocab = processor.vocabulary_
    assert [vocab.reverse(i) for i in range(len(vocab))] == ['<UNK>', 'pear', 'apple', 'fig']


def test_fit_freezes_the_vocabulary():
    processor = VocabularyProcessor(3).fit(['a b'])
    assert processor.vocabulary_.frozen
    assert ids(processor, ['b new a']) == [[2, 0, 1]]
    assert processor.vocabulary_.get('new') == 0 and len(processor.vocabulary_) == 3


def test_a_second_fit_adds_to_the_kept_tokens_counts_and_renumbers():
    processor = VocabularyProcessor(3, min_frequency=2).fit(['x x x y y y z z'])
    vocab = processor.vocabulary_
    assert [vocab.get('x'), vocab.get('y'), vocab.get('z')] == [1, 2, 0]
    processor.min_frequency = 1
    processor.fit(['y z'])  # y: 4, x: 3; z, dropped and frozen out, is not counted again
    assert [vocab.get('y'), vocab.get('x'), vocab.get('z')] == [1, 2, 0]
    assert len(vocab) == 3


def test_the_unknown_token_is_never_counted():
    vocab = CategoricalVocabulary()
    vocab.add('<UNK>', 50)
    vocab.add('w', 2)
    vocab.trim(1)
    assert len(vocab) == 2 and vocab.get('<UNK>') == 0 and vocab.get('w') == 1


def test_trim_drops_tokens_looked_up_but_never_counted():
    vocab = CategoricalVocabulary()
    vocab.get('seen')
    vocab.add('counted', 2)
    vocab.trim(1)
    vocab.freeze()
    assert vocab.get('seen') == 0 and vocab.get('counted') == 1


# transform: shapes, padding, cropping, unknown words

def test_transform_pads_with_zeros_and_crops_to_max_document_length():
    processor = VocabularyProcessor(3).fit(['a b c d e'])
    got = list(processor.transform(['a', 'a b c', 'e d c b a', '']))
    assert [row.tolist() for row in got] == [[1, 0, 0], [1, 2, 3], [5, 4, 3], [0, 0, 0]]
    for row in got:
        assert row.dtype == np.int64 and row.shape == (3,)
    assert np.array(got).shape == (4, 3)


def test_unknown_words_are_zero():
    processor = VocabularyProcessor(4, min_frequency=1).fit(['x y', 'x y', 'z'])
    assert ids(processor, ['z x never y']) == [[0, 1, 0, 2]]


def test_transform_is_a_generator_and_takes_one():
    processor = VocabularyProcessor(2).fit(['a b'])
    got = processor.transform(text for text in ['b', 'a'])
    assert isinstance(got, types.GeneratorType)
    assert [row.tolist() for row in got] == [[2, 0], [1, 0]]


def test_fit_transform_equals_fit_then_transform():
    documents = ['one two two', 'three two one', 'two']
    together = VocabularyProcessor(4, min_frequency=1)
    got = [row.tolist() for row in together.fit_transform(documents)]
    apart = VocabularyProcessor(4, min_frequency=1).fit(documents)
    assert got == ids(apart, documents) == [[2, 1, 1, 0], [0, 1, 2, 0], [1, 0, 0, 0]]


def test_transform_before_fit_gives_new_ids_as_tf1_did():
    processor = VocabularyProcessor(2)
    assert ids(processor, ['p q r', 'r q']) == [[1, 2], [3, 2]]  # 'r' of the first is cut
    assert len(processor.vocabulary_) == 4


def test_custom_tokenizer():
    processor = VocabularyProcessor(3, tokenizer_fn=lambda docs: (d.split(',') for d in docs))
    got = [row.tolist() for row in processor.fit_transform(['a b,c', 'c,a b'])]
    assert got == [[1, 2, 0], [2, 1, 0]]


# The vocabulary size, reverse

def test_vocabulary_size_counts_unk():
    documents = ['spam spam spam eggs', 'spam eggs ham', 'eggs ham']
    assert len(VocabularyProcessor(4).fit(documents).vocabulary_) == 4
    assert len(VocabularyProcessor(4, min_frequency=1).fit(documents).vocabulary_) == 4
    assert len(VocabularyProcessor(4, min_frequency=2).fit(documents).vocabulary_) == 3
    assert len(VocabularyProcessor(4, min_frequency=3).fit(documents).vocabulary_) == 2
    assert len(VocabularyProcessor(4, min_frequency=4).fit(documents).vocabulary_) == 1


def test_reverse():
    processor = VocabularyProcessor(4, min_frequency=1)
    rows = list(processor.fit_transform(['go home now', 'go home', 'stay']))
    assert list(processor.reverse(rows)) == [
        'go home <UNK> <UNK>', 'go home <UNK> <UNK>', '<UNK> <UNK> <UNK> <UNK>']
    assert processor.vocabulary_.reverse(np.int64(2)) == 'home'


# Errors

@pytest.mark.parametrize('kwargs, error, words', [
    ({'max_document_length': 0}, ValueError, 'at least 1'),
    ({'max_document_length': -3}, ValueError, 'at least 1'),
    ({'max_document_length': 2.5}, TypeError, 'must be an int'),
    ({'max_document_length': True}, TypeError, 'must be an int'),
    ({'max_document_length': 5, 'min_frequency': -1}, ValueError, 'at least 0'),
    ({'max_document_length': 5, 'min_frequency': '10'}, TypeError, 'must be an int'),
    ({'max_document_length': 5, 'vocabulary': {'a': 1}}, TypeError, 'CategoricalVocabulary'),
    ({'max_document_length': 5, 'tokenizer_fn': 'split'}, TypeError, 'tokenizer_fn'),
])
def test_bad_settings(kwargs, error, words):
    with pytest.raises(error, match=words):
        VocabularyProcessor(**kwargs)


def test_numpy_ints_are_settings():
    processor = VocabularyProcessor(np.int64(3), min_frequency=np.int32(0))
    assert processor.max_document_length == 3 and type(processor.max_document_length) is int


def test_one_string_is_not_a_list_of_documents():
    processor = VocabularyProcessor(3)
    for call in (processor.fit, processor.fit_transform,
                 lambda text: list(processor.transform(text))):
        with pytest.raises(TypeError, match=r'pass a list of texts, e\.g\. \[text\]'):
            call('a whole message')


def test_bytes_documents_are_refused():
    with pytest.raises(TypeError, match=r"document 1 is a bytes.*decode it first"):
        VocabularyProcessor(3).fit(['fine', b'raw bytes'])


def test_fit_transform_refuses_an_iterator():
    processor = VocabularyProcessor(3)
    with pytest.raises(TypeError, match=r'pass a list'):
        processor.fit_transform(text for text in ['a', 'b'])
    assert len(processor.vocabulary_) == 1  # nothing was read


def test_reverse_errors():
    vocab = CategoricalVocabulary()
    vocab.get('a')
    with pytest.raises(ValueError, match='ids run from 0 to 1'):
        vocab.reverse(2)
    with pytest.raises(ValueError, match='ids run from 0 to 1'):
        vocab.reverse(-1)
    with pytest.raises(TypeError, match='must be an int'):
        vocab.reverse(1.0)
    with pytest.raises(ValueError, match='support_reverse=True'):
        CategoricalVocabulary(support_reverse=False).reverse(0)


def test_the_module_does_not_import_tensorflow():
    code = ('import sys; import cookbook_lstm.vocabulary_processor; '
            "sys.exit('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, '-c', code], cwd=PROJECT_DIR).returncode == 0
