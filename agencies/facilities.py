"""Facilities for vulnerable groups (component 8; PermenPANRB on services friendly to
vulnerable groups), in their one stored shape, and the words citizens search them by.

A unit and a location each keep a list of `AccessFacility` keys (in the choices' order, each
once) and a free-text note. The public search finds services given at a unit, or at a
location the unit serves at, with a facility: by the filter `?facility=lactation_room`, or
by the facility's name in the query ("layanan dengan ruang laktasi").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from agencies.models import AccessFacility
from core.errors import ApplicationError

ORDER = {key: n for n, key in enumerate(AccessFacility.values)}

# What a citizen may type for each facility, in Indonesian and English (lower case, no
# accents). The longest phrase found in a query wins.
PHRASES: dict[str, tuple[str, ...]] = {
    AccessFacility.RAMP: ("ramp", "ramps", "bidang miring", "jalur landai", "landai"),
    AccessFacility.ACCESSIBLE_TOILET: (
        "toilet disabilitas",
        "toilet difabel",
        "toilet ramah disabilitas",
        "toilet khusus disabilitas",
        "accessible toilet",
        "accessible toilets",
    ),
    AccessFacility.PRIORITY_COUNTER: (
        "loket prioritas",
        "loket khusus",
        "priority counter",
        "priority counters",
    ),
    AccessFacility.LACTATION_ROOM: (
        "ruang laktasi",
        "ruang menyusui",
        "pojok laktasi",
        "laktasi",
        "menyusui",
        "lactation room",
        "lactation",
        "nursing room",
        "breastfeeding",
    ),
    AccessFacility.CHILDREN_AREA: (
        "ruang bermain anak",
        "area bermain anak",
        "tempat bermain anak",
        "arena bermain",
        "play area",
        "children's play area",
        "childrens play area",
        "play room",
    ),
    AccessFacility.SIGN_LANGUAGE_BRAILLE: (
        "bahasa isyarat",
        "juru bahasa isyarat",
        "braille",
        "sign language",
    ),
    AccessFacility.WHEELCHAIR: ("kursi roda", "wheelchair", "wheelchairs"),
}

# Words around a facility's name that ask for nothing more ("layanan dengan ruang laktasi").
FILLER_WORDS = frozenset(
    {
        "layanan",
        "pelayanan",
        "dengan",
        "yang",
        "ada",
        "punya",
        "memiliki",
        "tersedia",
        "fasilitas",
        "kantor",
        "tempat",
        "service",
        "services",
        "with",
        "a",
        "an",
        "that",
        "has",
        "have",
        "offices",
        "office",
        "facility",
        "facilities",
    }
)


def facilities_clean(value: Any, *, field: str = "facilities") -> list[str]:
    """Known facility keys, each once, in the choices' order; anything else is refused."""
    if not isinstance(value, list | tuple | set | frozenset):
        raise ApplicationError(_("The facilities are not in the expected form."), field=field)
    keys = {str(v) for v in value}
    unknown = keys - set(ORDER)
    if unknown:
        raise ApplicationError(
            _("Unknown facility: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            field=field,
        )
    return sorted(keys, key=ORDER.__getitem__)


@dataclass(frozen=True)
class FacilityItem:
    key: str
    label: str


def facility_items(keys: Any) -> list[FacilityItem]:
    """The facilities to show, with their labels in the active language."""
    labels = dict(AccessFacility.choices)
    return [FacilityItem(k, str(labels[k])) for k in keys or [] if k in labels]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().replace("’", "'").split())


_PHRASE_LIST = sorted(
    ((phrase, key) for key, phrases in PHRASES.items() for phrase in phrases),
    key=lambda item: -len(item[0]),
)
# Each phrase as a whole word or words, longest first; and all of them at once, to tell in
# one pass that a query names no facility (most queries).
_PHRASE_PATTERNS = [
    (re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)"), key) for phrase, key in _PHRASE_LIST
]
_ANY_PHRASE = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(phrase) for phrase, _key in _PHRASE_LIST) + r")(?!\w)"
)


def facility_in_query(query: str) -> tuple[str, str]:
    """(facility key, the rest of the query) when the query names a facility; else ("", query).

    "layanan dengan ruang laktasi" -> ("lactation_room", ""): the filler words around the
    facility's name go too, so that the rest does not narrow the search to services named
    "layanan".
    """
    plain = _plain(query)
    if _ANY_PHRASE.search(plain) is None:
        return "", query
    for pattern, key in _PHRASE_PATTERNS:
        match = pattern.search(plain)
        if match is None:
            continue
        rest = (plain[: match.start()] + " " + plain[match.end() :]).split()
        rest = [word for word in rest if word not in FILLER_WORDS]
        return str(key), " ".join(rest)
    return "", query


def has_facility(key: str, *, field: str = "facilities") -> Q:
    """Rows whose facility list holds `key` (a known key: never user text as such)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [key]})
    # SQLite has no JSON containment: the stored list is JSON text, and a key is a plain
    # identifier, so its quoted form appears in it exactly when the list holds it.
    return Q(**{f"{field}__icontains": f'"{key}"'})


def units_with_facility(key: str) -> QuerySet[Any]:
    """The ids of the units that have this facility, themselves or at an open location where
    they have a counter (a subquery, for `unit__in`)."""
    from agencies.models import Counter, Location, Unit

    if key not in ORDER:
        return Unit.objects.none().values("pk")
    places = Location.objects.filter(has_facility(key), is_active=True).values("pk")
    at_places = Counter.objects.filter(location__in=places).values("unit_id")
    return Unit.objects.filter(has_facility(key) | Q(pk__in=at_places)).values("pk")
