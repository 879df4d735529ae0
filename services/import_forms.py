"""The upload form of the standards import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from core.forms import Form
from core.tabular import FileKind, file_kind
from services.importing import MAX_BYTES


class ImportUploadForm(Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8) or Excel workbook (.xlsx), at most 5 MB and 2,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies  # type: ignore[attr-defined]
        if agencies.count() == 1:
            self.fields["agency"].initial = agencies.first()
        self.kind: FileKind | None = None
        self.content = b""

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # The size is known before anything is read: refuse big files unread.
        if upload.size is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)d MB; split it into smaller files."),
                params={"max": MAX_BYTES // (1024 * 1024)},
                code="too_big",
            )
        kind = file_kind(upload.name or "")
        if kind is None:
            if (upload.name or "").lower().endswith(".xls"):
                raise forms.ValidationError(
                    _("The old Excel format (.xls) is not supported; save the file as .xlsx."),
                    code="xls",
                )
            raise forms.ValidationError(_("Upload a .csv or an .xlsx file."), code="file_type")
        self.kind = kind
        self.content = upload.read(MAX_BYTES + 1)
        return upload
