"""A project that uses a dependency installed in its virtualenv."""
import importlib.metadata
import sys

import tinydep
from report import describe

readings = [3.0, 5.5, 4.5, 7.0]
average = tinydep.mean(readings)
width = tinydep.spread(readings)
print(describe(average, width))
print("tinydep", importlib.metadata.version("tinydep"), "from", tinydep.__file__.startswith(sys.prefix))
