"""Gap synthesis: calibrated, clearly flagged fills for missing bars. Pure: frames in, frames out, no I/O.

``find_gaps`` says what is missing (sessions in the listed life with no bar and no suspension);
``fill_gaps`` fills with a state-space model conditioned on a reference series, or a Brownian bridge, and
scores every fill; ``synthesize`` does the same but refuses (``QualityGateError``) when any fill is poor.
statsmodels is imported on first use of the state-space method.
"""

from quantdb_lab.synthesis.fill import (
    DRAWS,
    METHODS,
    Synthesis,
    SynthesisConfig,
    fill_gaps,
    refusal_error,
    synthesize,
)
from quantdb_lab.synthesis.gaps import Gap, find_gaps
from quantdb_lab.synthesis.validate import FillReport

__all__ = [
    "DRAWS",
    "METHODS",
    "FillReport",
    "Gap",
    "Synthesis",
    "SynthesisConfig",
    "fill_gaps",
    "find_gaps",
    "refusal_error",
    "synthesize",
]
