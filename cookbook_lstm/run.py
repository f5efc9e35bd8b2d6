"""The run every recipe runs on: its settings, its folder, its record, its figure.

Run reads the flags, imports TensorFlow in graph mode, takes --resume's
folder or checks a new run's, seeds everything, takes the folder (locked,
--overwrite) and writes config.json, the record and the figure. The
classifier runs on it as it is; training_run.TrainingRun adds, for the two
language-model recipes, where the run stands in the book's loop and when it
stops.
"""
import contextlib
import dataclasses
import io
import os
import signal
import sys
from pathlib import Path

from cookbook_lstm import command_line
from cookbook_lstm import record
from cookbook_lstm import resuming
from cookbook_lstm import run_folder
from cookbook_lstm.errors import Refused, RunError
from cookbook_lstm.run_folder import CONFIG_FILE
from cookbook_lstm.safe_files import is_disk_full
from cookbook_lstm.settings import TEMP_DIR
from cookbook_lstm.tf1_setup import import_tensorflow, seed_everything


def has_display():
    """True where plt.show() can open a window."""
    import matplotlib
    backend = matplotlib.get_backend().lower()
    return not any(name in backend for name in ('agg', 'pdf', 'ps', 'svg', 'cairo', 'template'))


def pyplot():
    """matplotlib.pyplot, drawing into files where no screen is (a server, a test)."""
    if 'MPLBACKEND' not in os.environ and sys.platform.startswith('linux') \
            and not (os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        import matplotlib
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


class Run:
    """A recipe's run: its settings, its folder (locked while it writes) and its record."""

    def __init__(self, recipe, run_dir, config, options, resumed=None):
        self.recipe, self.run_dir, self.config = recipe, Path(run_dir), config
        self.options = options
        # The text to train on: --corpus PATH (recipe 02: --data PATH) or None, and
        # whether to skip the download (--offline); a resumed run's own
        # (resuming.open_resumed)
        self.corpus, self.offline = (options.corpus or options.data, options.offline) \
            if resumed is None else (resumed.corpus, resumed.offline)
        self._resumed = resumed
        self._lock = None
        self._versions = record.library_versions()

    @classmethod
    def open(cls, recipe, config_class, tiny, description, argv=None,
             options=command_line.OPTIONS):
        """(config, run): the recipe's settings as the flags give them, and its run.

        Reads the flags (those of options), imports TensorFlow (quietly) in
        TF1 graph mode, takes --resume's folder and settings or checks the
        new run's folder, and seeds everything: config.seed is the seed used.
        Nothing is written yet (take_folder).
        """
        config, options = command_line.parse(description, config_class, tiny, argv, options)
        tf = import_tensorflow(options.verbose)
        tf.compat.v1.disable_eager_execution()
        resumed = None
        if options.resume is not None:
            resumed, config = resuming.open_resumed(options, config, recipe, TEMP_DIR)
            run_dir = resumed.run_dir
        else:
            run_dir = run_folder.new_run_dir(options.out, TEMP_DIR / recipe, options.overwrite)
        cls.check_settings(recipe, config)
        config = dataclasses.replace(config, seed=seed_everything(config.seed))
        print('Run folder: {}'.format(run_dir))
        return config, cls(recipe, run_dir, config, options, resumed)

    @staticmethod
    def check_settings(recipe, config):
        """Refuse settings that cannot go together (none, for a recipe of its own checks)."""

    def take_folder(self, run_settings):
        """The folder, locked, and config.json (run_settings) in it.

        A new run's folder is created; with --overwrite the files an earlier
        run of this project wrote are removed first, and listed. A resumed
        run keeps the lock it opened the folder with.
        """
        if self._resumed is not None:
            self._lock = self._resumed.lock
        else:
            try:
                self._lock, removed = run_folder.take_folder(self.run_dir,
                                                             self.options.overwrite)
            except RunError as err:
                raise Refused(str(err)) from None
            if removed:
                print('--overwrite: removed the earlier run\'s {} files: {}'.format(
                    len(removed), ', '.join(removed)))
        self._lock.claim()
        with self.first_writes():
            run_folder.write_json_file(self.run_dir, CONFIG_FILE, run_settings)

    @contextlib.contextmanager
    def first_writes(self):
        """Around the writes that begin a run (config.json, the vocabulary): a full
        disk there is a refusal whose advice works, the folder now holding a
        run's first files."""
        try:
            yield
        except OSError as err:
            if not is_disk_full(err):
                raise
            self.release()
            raise Refused('No space left on device while {} began its run. Free some space, '
                          'then run the same command again{}.'.format(
                              self.run_dir, '' if self._resumed is not None else
                              ', adding --overwrite (it replaces what this run began)')) \
                from None

    def record(self, status, run_settings, **fields):
        """record.json's contents (record.new_record): its status, then fields."""
        return record.new_record(status, self.recipe, run_settings, self.config.seed,
                                 self._versions, **fields)

    def write_record(self, status, run_settings, **fields):
        record.write_record(self.run_dir, self.record(status, run_settings, **fields))

    @contextlib.contextmanager
    def recording(self, run_settings, fields):
        """For a run that stops at its first Ctrl-C: the block runs with the folder
        locked; then the record is written with fields (a dict the block fills
        in), its status 'finished', 'interrupted' (Ctrl-C or SIGTERM) or 'failed'."""
        def stop(signum, frame):
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGTERM, stop)
        status = 'failed'
        try:
            yield fields
            status = 'finished'
        except KeyboardInterrupt:
            status = 'interrupted'
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
            try:
                self.write_record(status, run_settings, **fields)
            finally:
                self.release()

    def save_figure(self, figure, name=run_folder.LOSS_FIGURE, what='Loss', show=True):
        """Save figure (matplotlib) in the run folder as name (the book's loss.png);
        show it where a screen is. what: the figure, in the line that says where it is.
        """
        image = io.BytesIO()
        figure.savefig(image, format='png')
        run_folder.write_file(self.run_dir, name, image.getvalue())
        path = self.run_dir / name
        print('{} figure saved to: {}'.format(what, path))
        import matplotlib.pyplot as plt
        if show and has_display():
            plt.show()
        plt.close(figure)
        return path

    def release(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None
