"""API authentication by agency API key (kept apart from the viewsets: DRF's settings
import this module while the viewsets' modules are still loading)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from agencies.api_keys import ApiKeyActor, ApiKeyRefused, api_key_authenticate
from agencies.models import AgencyApiKey
from core.client_ip import client_ip


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>`: an agency API key (see agencies.api_keys).

    Listed first, so that an anonymous write is answered 401 with this scheme in
    `WWW-Authenticate` (RFC 9110), not 403.
    """

    keyword = "Api-Key"
    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[ApiKeyActor, AgencyApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        secret = self.parser.get_from_authorization(request)
        if secret is None:
            # Another scheme (e.g. the per-person tokens this API no longer takes) is
            # refused, never silently read as anonymous.
            raise exceptions.AuthenticationFailed(
                _("Use an agency API key: Authorization: Api-Key <key>."),
                code="unsupported_authorization",
            )
        try:
            actor = api_key_authenticate(secret.strip(), ip=client_ip(request))
        except ApiKeyRefused:
            # One answer for every reason, so a caller learns nothing about which keys
            # exist; the reason goes to the key's audit trail and the log.
            raise exceptions.AuthenticationFailed(
                _("This API key is not valid (unknown, revoked or expired)."),
                code="api_key_invalid",
            ) from None
        return actor, actor.key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _("An agency API key, sent as `Authorization: Api-Key <prefix>.<secret>`.")
            ),
        }
