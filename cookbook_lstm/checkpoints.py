"""Saving a checkpoint: the whole save, top to bottom, complete when save() returns.

The book saves with saver.save(sess, path, global_step=iteration) and keeps
the Saver's max_to_keep newest. Here a save writes, in this order, each file
whole or not at all (run_folder.write_atomically):

    model-N.index, model-N.data-*   the weights and Adam's slots (the book's Saver)
    model-N.meta                    the graph, as the book's Saver writes it
    record.json                     every loss and sample so far
    model-N.progress.npz            where the run stands, for --resume
    checkpoint                      the pointer: names model-N, the newest kept
    (model-M.*)                     the checkpoints beyond max_to_keep, removed

The pointer moves after everything it names is on disk, so a kill at any
point leaves the checkpoint it names complete; --resume takes the newest
complete checkpoint, which may be newer than the pointer (a save killed
after the progress file). The keeping is done here, not by the Saver, since
the pointer must move last: the Saver's own max_to_keep is read and obeyed.

Weights that are no longer finite are not saved (NotFinite), and a full disk
ends the save with the half-written checkpoint removed (DiskFull): either
way the last checkpoint stays the last good one.
"""
import os
import random
from pathlib import Path

import numpy as np

from cookbook_lstm import run_folder
from cookbook_lstm.run_folder import RECORD_FILE, checkpoint_prefix


class NotFinite(Exception):
    """The weights are no longer finite: nothing was saved."""


class DiskFull(Exception):
    """No space left while saving: the half-written checkpoint was removed."""


def _saving(step):
    """Called before each step of a save, named by step.

    Does nothing: the fault-injection tests replace it to kill the process
    (or fill the disk) at each step in turn (tests/kill_during_save.py).
    """


class Checkpoints:
    """The checkpoints of one run folder: saving the next, keeping the newest.

    kept: the iterations of the checkpoints kept, oldest first (for a resumed
    run, those already in the folder up to where it goes on from).
    """

    def __init__(self, run_dir, sess, saver, kept=()):
        import tensorflow as tf
        self.run_dir, self.sess, self.saver = Path(run_dir), sess, saver
        self.keep = saver.saver_def.max_to_keep  # the recipe's Saver(max_to_keep=5)
        self.kept = list(kept)
        trainable = sess.graph.get_collection(tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES)
        with sess.graph.as_default(), tf.name_scope('weights_finite'):  # one box in TensorBoard
            self._weights_finite = tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(w)) for w in trainable])

    @property
    def last(self):
        """The iteration of the newest checkpoint kept, or None."""
        return self.kept[-1] if self.kept else None

    def save(self, iteration, record, position, lstm_state):
        """Save checkpoint model-<iteration>, complete when this returns.

        record: record.json's contents; position: {'iteration', 'epoch',
        'batch', 'order'}, where the run stands; lstm_state: the LSTM state
        after the last batch, flattened. The random states are taken now.
        Raises NotFinite or DiskFull, having saved nothing.
        """
        import tensorflow as tf
        if not self.sess.run(self._weights_finite):
            raise NotFinite('the weights are no longer finite after iteration {}'.format(
                iteration))
        prefix = checkpoint_prefix(self.run_dir, iteration)
        try:
            run_folder.register(self.run_dir, prefix.name)  # listed before its files exist
            _saving('weights')
            self.saver.save(self.sess, str(self.run_dir / 'model'), global_step=iteration,
                            write_meta_graph=False, write_state=False)
            for path in self.run_dir.glob(prefix.name + '.[di]*'):
                run_folder.sync_file(path)
            _saving('graph')
            run_folder.write_atomically(str(prefix) + '.meta',
                                        self.saver.export_meta_graph().SerializeToString())
            _saving('record')
            run_folder.write_json_file(self.run_dir, RECORD_FILE, record)
            _saving('progress')
            run_folder.write_progress(prefix, position, lstm_state, random.getstate(),
                                      np.random.get_state())
            _saving('pointer')
            kept = [i for i in self.kept if i != iteration] + [iteration]
            run_folder.write_pointer(self.run_dir,
                                     ['model-{}'.format(i) for i in kept[-self.keep:]])
            self.kept = kept
            _saving('old checkpoints')
            for old in self.kept[:-self.keep]:
                run_folder.remove_checkpoint(checkpoint_prefix(self.run_dir, old))
            self.kept = self.kept[-self.keep:]
        except (OSError, tf.errors.OpError) as err:
            if not run_folder.is_disk_full(err):
                raise
            if iteration not in self.kept:
                run_folder.remove_checkpoint(prefix)
            run_folder.remove_leftovers(self.run_dir)
            raise DiskFull('no space left on device while saving iteration {}'.format(
                iteration)) from None

    def set_aside(self, iteration):
        """Rename checkpoint model-<iteration> to model-<iteration>.diverged.*; its name.

        The latest checkpoint becomes the one before it, so that --resume and
        the sampler take the last good weights; the set-aside files stay.
        """
        prefix = 'model-{}'.format(iteration)
        self.kept = [i for i in self.kept if i != iteration]
        if self.kept:
            run_folder.write_pointer(self.run_dir, ['model-{}'.format(i) for i in self.kept])
        else:
            (self.run_dir / run_folder.POINTER_FILE).unlink(missing_ok=True)
        for path in list(self.run_dir.glob(prefix + '.*')):
            if '.diverged' not in path.name:
                os.replace(path, self.run_dir / path.name.replace(
                    prefix, prefix + '.diverged', 1))
        return prefix + '.diverged'


def remove_unfinished(run_dir, iteration):
    """Before a resumed run writes: remove what a save cut short left (temporary
    files, checkpoints after iteration); return their names."""
    left = run_folder.remove_leftovers(run_dir)
    for i in run_folder.saved_iterations(run_dir):
        if i > iteration:
            run_folder.remove_checkpoint(checkpoint_prefix(run_dir, i))
            left.append('model-{}'.format(i))
    return left
