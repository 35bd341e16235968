"""Gap synthesis: calibrated, clearly flagged fills for missing bars. Pure: frames in, frames out, no I/O.

``find_gaps`` says what is missing (sessions in the listed life with no bar and no suspension);
``fill_gaps`` fills with a state-space model conditioned on reference series, or a Brownian bridge, scores
every fill and refuses per gap: a refused gap stays missing and its report names the cause ("too long",
"jump across the gap", ...), the series' other gaps are filled. ``refusals_text`` says which and why.
statsmodels (its robust regression, for the loadings) is imported on first use of the state-space method.
"""

from quantdb_lab.synthesis.fill import (
    DRAWS,
    METHODS,
    Synthesis,
    SynthesisConfig,
    fill_gaps,
    refusals_text,
)
from quantdb_lab.synthesis.gaps import Gap, find_gaps
from quantdb_lab.synthesis.validate import CAUSES, FillReport

__all__ = [
    "CAUSES",
    "DRAWS",
    "METHODS",
    "FillReport",
    "Gap",
    "Synthesis",
    "SynthesisConfig",
    "fill_gaps",
    "find_gaps",
    "refusals_text",
]
