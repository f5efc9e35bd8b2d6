"""The recipes' settings: one Config per recipe, its flags, --tiny, and what the flags gave."""
import dataclasses

import pytest

from cookbook_lstm import command_line
from cookbook_lstm import settings
from conftest import script_module


def parse(recipe, *argv):
    module = script_module(recipe)
    return command_line.parse(module.__doc__, module.Config, module.TINY, list(argv))


def test_the_book_blocks_are_the_printed_values():
    # typed from the book's two hyperparameter blocks
    word = script_module('03').Config()
    assert (word.min_word_freq, word.rnn_size, word.embedding_size, word.epochs,
            word.batch_size, word.learning_rate, word.training_seq_len, word.save_every,
            word.eval_every) == (5, 128, 128, 10, 100, 0.001, 50, 500, 50)
    char = script_module('04').Config()
    assert (char.num_layers, char.rnn_size, char.epochs, char.batch_size,
            char.learning_rate, char.training_seq_len, char.save_every,
            char.eval_every) == (3, 128, 10, 100, 0.0005, 50, 500, 50)
    for book in (word, char):
        assert book.prime_texts == ('thou art more', 'to be or not to', 'wherefore art thou')
        # what the book does not do is off
        assert (book.exact_batches, book.cell_impl, book.softmax_blocks, book.max_steps,
                book.seed) == (False, 'basic', 1, 0, None)


def test_no_flags_give_the_book_block_and_no_setting_counts_as_given():
    config, options = parse('03')
    assert config == script_module('03').Config()
    assert options.given == [] and options.resume is None and not options.tiny


def test_tiny_starts_from_TINY_and_a_flag_beside_it_wins():
    config, options = parse('04', '--tiny', '--rnn-size', '32', '--separate-layers')
    assert (config.rnn_size, config.batch_size, config.training_seq_len, config.epochs) == \
        (32, 4, 8, 2)
    assert config.separate_layers is True and config.num_layers == 3
    assert options.given == ['rnn_size', 'separate_layers']


@pytest.mark.parametrize('flag', ['--seq-len', '--training-seq-len'])
def test_the_sequence_length_has_the_books_name_and_the_short_flag(flag):
    config, options = parse('03', flag, '7')
    assert config.training_seq_len == 7 and options.given == ['training_seq_len']


def test_every_setting_but_the_prime_texts_is_a_flag():
    for recipe in ('03', '04'):
        names = {f.name for f in dataclasses.fields(script_module(recipe).Config)}
        assert {n for n in names if not settings.SETTINGS[n].flag} == {'prime_texts'}


def test_a_flag_of_the_other_recipe_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse('04', '--min-word-freq', '3')
    assert 'unrecognized arguments: --min-word-freq 3' in capsys.readouterr().err
