"""The defence-diplomacy index (``dd_index``, 0-5): the number of distinct activities present in the
(non-directed) dyad-year among (1) agreements: any common ATOP alliance or a DCA in force; (2) joint
exercises; (3) arms transfers (TIV > 0 either way); (4) co-deployment in a UN peacekeeping mission;
(5) a visit either way. A component outside its coverage (or whose source is not in the store) is
left out of the count; the index is NA only when every component is NA. Its range therefore varies
with the years covered (only alliances before 1950): compare like with like.

Event layers (``ev_*``) and attaché posts do not enter the index, by design: machine-coded events are
noisy and their recall of the curated dyad-years is measured, not assumed (``defdip events validate``),
and a posting list covers only the states a researcher compiled. Mixing either in would make the index's
range depend on which files a user happened to load; use them as layers of their own beside it.
"""

from __future__ import annotations

from defdip.analysis.panels import arms, atop, dca, exercises, peacekeeping, visits
from defdip.analysis.panels.registry import ATOP_END, Layer, register

register(Layer(
    name="dd_index", columns=("dd_index",), source="defdip", first_year=1815, last_year=ATOP_END,
    description="Defence-diplomacy index 0-5: number of activities present among agreements (ATOP alliance or "
    "DCA), exercises, arms transfers, UN co-deployment and visits; components outside coverage are left out, NA "
    "only when all are. Event layers (ev_*) and attaché posts are not components.",
    citation_keys=("leeds_atop_2002", "kinne_dcad_2020", "dorazio_galambos_2021", "dorazio_2013_jme",
                   "milru_exercises_unofficial", "sipri_arms_transfers", "un_dpo_contributions",
                   "flynn_troopdata_visits"),
    role="derived", scale="index", tables=(),
    components=(("agreements", ((atop.TIE, "atop_any"), (dca.TIE, "dca_any"))),
                ("exercises", ((exercises.TIE, "exercises"),)),
                ("arms", ((arms.TIE, "arms_tiv"),)),
                ("pko", ((peacekeeping.TIE, "pko_codeployed"),)),
                ("visits", ((visits.TIE, "visits"),)))))
