"""The open licences an agency may choose for its open data (issue 16: "with its licence,
CC BY 4.0 unless the agency chose otherwise"): the one home of their identifiers (SPDX),
names and canonical addresses. The bulk datasets carry the identifier per row; the open data
page and the DCAT-AP catalogue name the default and the agencies that chose otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpenDataLicence(models.TextChoices):
    """SPDX identifiers of open licences (opendefinition.org conformant)."""

    CC_BY_4_0 = "CC-BY-4.0", _("Creative Commons Attribution 4.0 (CC BY 4.0)")
    CC_BY_SA_4_0 = "CC-BY-SA-4.0", _("Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0)")
    CC0_1_0 = "CC0-1.0", _("Creative Commons Zero 1.0: public domain dedication (CC0 1.0)")
    ODBL_1_0 = "ODbL-1.0", _("Open Database License 1.0 (ODbL 1.0)")


@dataclass(frozen=True)
class Licence:
    id: str
    name: str  # the short name, the same in every language
    url: str


LICENCES: dict[str, Licence] = {
    licence.id: licence
    for licence in (
        Licence(
            OpenDataLicence.CC_BY_4_0, "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"
        ),
        Licence(
            OpenDataLicence.CC_BY_SA_4_0,
            "CC BY-SA 4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
        Licence(
            OpenDataLicence.CC0_1_0,
            "CC0 1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        Licence(
            OpenDataLicence.ODBL_1_0, "ODbL 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"
        ),
    )
}

DEFAULT_LICENCE = LICENCES[OpenDataLicence.CC_BY_4_0]


def licence(licence_id: str) -> Licence:
    """The licence of an identifier; the default for an unknown one."""
    return LICENCES.get(licence_id, DEFAULT_LICENCE)
