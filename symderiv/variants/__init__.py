"""Per-student variants: one spec with draws, many ordinary specs with their sheets and keys.

A spec's number may be a draw (``"randint(-3, 3)"``, see :mod:`.draws`); ``[variants]``
tables give constraints the drawn answers must meet (see :mod:`.constraints`).
:func:`load_template` reads such a spec, :func:`draw_variant` draws one variant
(deterministically from a seed and the variant's index or student id, by rejection), and
:func:`build_batch` draws and renders many across processes for ``symderiv variants``.
"""
from __future__ import annotations

from symderiv.variants.batch import Batch as Batch
from symderiv.variants.batch import build_batch as build_batch
from symderiv.variants.drawing import Variant as Variant
from symderiv.variants.drawing import VariantKey as VariantKey
from symderiv.variants.drawing import draw_variant as draw_variant
from symderiv.variants.index import spec_for_student as spec_for_student
from symderiv.variants.roster import read_roster as read_roster
from symderiv.variants.template import Template as Template
from symderiv.variants.template import load_template as load_template
