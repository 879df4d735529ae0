"""Forms for login, the TOTP code step, enrollment and invitation sign-up (thin: services decide)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.forms import Form

_CODE_RE = re.compile(r"^\d{6}$")


class LoginForm(Form):
    username = forms.CharField(label=_("Username or email"), max_length=254)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        username, password = cleaned.get("username"), cleaned.get("password")
        if username and password:
            self.user = authenticate(self.request, username=username.strip(), password=password)
            if self.user is None:
                self.add_error(
                    "password",
                    _("The username or email and the password do not match an active account."),
                )
        return cleaned


class CodeForm(Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        help_text=_("The code shown by your authenticator app."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not _CODE_RE.match(code):
            raise forms.ValidationError(_("Enter the 6 digits shown by your authenticator app."))
        return code


class InvitationSignupForm(Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("Letters, digits and @/./+/-/_ only."),
        error_messages={"invalid": _("Use only letters, digits and @/./+/-/_.")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput, min_length=1
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput, min_length=1
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned
