"""Suite-wide settings. Hypothesis' per-example deadline measures the machine's load, not the code: on a shared
CI machine an example that takes 12 ms alone took 347 ms, so property tests run without it (their sizes are
bounded by max_examples and the strategies instead)."""

from hypothesis import settings

settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
