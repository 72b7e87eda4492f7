"""Unit tests of the Python modules embedded in the sleepy agent (``sleepy_runner.py`` and
``sleepy_inspect.py``). Run them with ``python3 -m unittest`` (see ``_support.py``)."""
