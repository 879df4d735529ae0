"""The nine elements (unsur) of the SKM questionnaire and their answer wording.

PermenPANRB 14/2017: each element is answered on a 1..4 scale, and each has its own words
for the four answers (the annex's sample questionnaire), e.g. cost runs from "sangat
mahal" (1) to "gratis" (4). The order here is the regulation's list of elements (U1..U9),
which is the order of the nine scores everywhere (models, `feedback.skm`, forms).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Element:
    code: str  # U1..U9
    field: str  # the model field holding its score
    name: Promise
    question: Promise
    answers: tuple[Promise, Promise, Promise, Promise]  # for scores 1, 2, 3, 4


ELEMENTS: tuple[Element, ...] = (
    Element(
        "U1",
        "score_requirements",
        _("Requirements"),
        _("How well do the requirements fit the service?"),
        (_("Not suitable"), _("Less suitable"), _("Suitable"), _("Very suitable")),
    ),
    Element(
        "U2",
        "score_procedure",
        _("Systems, mechanisms and procedures"),
        _("How easy is the service procedure at this unit?"),
        (_("Not easy"), _("Less easy"), _("Easy"), _("Very easy")),
    ),
    Element(
        "U3",
        "score_time",
        _("Completion time"),
        _("How fast was the service delivered?"),
        (_("Not fast"), _("Less fast"), _("Fast"), _("Very fast")),
    ),
    Element(
        "U4",
        "score_cost",
        _("Cost or tariff"),
        _("How fair is the cost or tariff of the service?"),
        (_("Very expensive"), _("Fairly expensive"), _("Cheap"), _("Free of charge")),
    ),
    Element(
        "U5",
        "score_product",
        _("Product specifications"),
        _("How well does the product you received match what the service standard states?"),
        (_("Not suitable"), _("Less suitable"), _("Suitable"), _("Very suitable")),
    ),
    Element(
        "U6",
        "score_competence",
        _("Staff competence"),
        _("How competent were the staff who served you?"),
        (_("Not competent"), _("Less competent"), _("Competent"), _("Very competent")),
    ),
    Element(
        "U7",
        "score_behaviour",
        _("Staff behaviour"),
        _("How polite and friendly were the staff?"),
        (
            _("Not polite and friendly"),
            _("Less polite and friendly"),
            _("Polite and friendly"),
            _("Very polite and friendly"),
        ),
    ),
    Element(
        "U8",
        "score_complaints",
        _("Handling of complaints, suggestions and feedback"),
        _("How are users' complaints handled?"),
        (
            _("There is none"),
            _("There is, but it does not work"),
            _("It works, but not fully"),
            _("Well managed"),
        ),
    ),
    Element(
        "U9",
        "score_facilities",
        _("Facilities and infrastructure"),
        _("What is the quality of the facilities and infrastructure?"),
        (_("Poor"), _("Adequate"), _("Good"), _("Very good")),
    ),
)

SCORE_FIELDS: tuple[str, ...] = tuple(element.field for element in ELEMENTS)
