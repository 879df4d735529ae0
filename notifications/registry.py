"""What the outbox knows of the apps that hand it messages, registered at start-up.

notifications is a generic outbox: it knows recipients, channels, templates, attempts,
preferences and digests, and nothing of what a message is about. Each app that writes
messages (oversight; later feedback) registers, in its AppConfig.ready(), one
`MessageType` per event it writes: how a message is rendered, who hears of a fan-out row
(recipient ""), which staff accounts get it in their inbox, what a webhook carries, and
which kind a person may choose to hear or not (RecipientPreference.kinds). It also
registers the kinds a person can choose from, how the subjects of its messages are
loaded (select_related), and, for the one kind of message that may be held for the daily
digest, how the digest is rendered.

A message's subject is stored in its columns (`Notification.subject`, a generic
relation, and `subject_event_id`); the callables below read them, never the key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Prefetch, QuerySet

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass(frozen=True)
class Email:
    """A rendered email: the outbox adds the recipient, Message-ID and language headers."""

    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Compiled:
    """A message rendered through a template compiled once per kind, language and shape
    (notifications.compose): what a `MessageType.compile_email` returns for one row.

    shape: everything besides `values` that decides what the templates render (e.g. the
        level and which facts exist), hashable.
    values: the texts that vary per message or recipient (names, dates, the signed link),
        unescaped; each must reach the email as `{{ value }}` (escaped in HTML), through
        no filter, so that it can be substituted into the body rendered once.
    render(values): the email for these values (the full rendering: `render(values)` is
        what the message's `render_email` returns).
    """

    shape: Hashable
    values: Mapping[str, str]
    render: Callable[[Mapping[str, str]], Email]


@dataclass(frozen=True)
class InboxEntry:
    """How a row shows in a staff user's in-app inbox."""

    title: str
    url: str = ""
    detail: str = ""
    label: str = ""  # what the row is, in a few words (the mark-read button's label)
    # Extra data-* attributes of the row, e.g. (("breach", "12"),).
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MessageType:
    """One event an app writes to the outbox, and how the outbox handles it.

    render_email(notification, language): the email, rendered in `language` (raise
        notifications.channels.Unsubscribed or Moot to fail the row for good).
    recipients(fan_out_row): who hears, as tiers of addresses: the first tier that lists
        anyone hears; when every address of it is disabled, the next tier stands in.
    inapp_users(fan_out_row): staff accounts whose in-app inbox gets the message.
    webhook_payload(row): the JSON fields a webhook carries (None: no webhook rows).
    preference_kind(fan_out_row): the kind a person may choose to hear or not (a value of
        `kind_choices()`), or None if the row does not follow people's preferences.
    inbox_entry(row): how an in-app row shows in the inbox.
    compile_email(row, language): the row's email as a `Compiled` (optional: messages
        sent in bulk, such as new breaches, render once per kind, language and shape).
    personal_recipient: the recipient is a citizen's own address (masked for staff).
    label: what the event is, in a few words (the inbox's groups).
    """

    event: str
    render_email: Callable[[Notification, str], Email]
    recipients: Callable[[Notification], list[list[str]]] | None = None
    inapp_users: Callable[[Notification], list[Any]] | None = None
    webhook_payload: Callable[[Notification], dict[str, Any]] | None = None
    preference_kind: Callable[[Notification], str | None] | None = None
    inbox_entry: Callable[[Notification], InboxEntry] | None = None
    compile_email: Callable[[Notification, str], Compiled] | None = None
    personal_recipient: bool = False
    label: Any = ""


DigestRenderer = Callable[["Notification", list["Notification"], str], Email]

_types: dict[str, MessageType] = {}
_kinds: dict[str, Any] = {}
_subject_querysets: dict[str, Callable[[], QuerySet[Any]]] = {}
_sending_querysets: dict[str, Callable[[], QuerySet[Any]]] = {}
_digest: list[DigestRenderer] = []


def register(message_type: MessageType) -> None:
    """Register (or register again: ready() may run twice) how one event is handled."""
    _types[message_type.event] = message_type


def message_type(event: str) -> MessageType | None:
    return _types.get(event)


def event_label(event: str) -> str:
    """The event's registered label, else its name."""
    found = _types.get(event)
    return str(found.label) if found is not None and found.label else event


def register_kinds(choices: Iterable[tuple[str, Any]]) -> None:
    """The kinds a person may choose to hear about, as (value, label) choices."""
    for value, label in choices:
        _kinds[value] = label


def kind_choices() -> list[tuple[str, Any]]:
    return list(_kinds.items())


def kind_values() -> list[str]:
    return list(_kinds)


def register_subjects(
    model: type[Model],
    queryset: Callable[[], QuerySet[Any]],
    *,
    sending: Callable[[], QuerySet[Any]] | None = None,
) -> None:
    """How the subjects of one model are loaded with the rows (e.g. with select_related).

    `sending`: how the drainer loads them (defaults to `queryset`). It loads the subjects
    of a whole batch only to render its messages, so it may leave out columns that no
    message shows, and load rows that many subjects share (their agency, unit) once per
    batch with `prefetch_related` instead of once per subject with `select_related`.
    """
    label = model._meta.label_lower
    _subject_querysets[label] = queryset
    if sending is None:
        _sending_querysets.pop(label, None)
    else:
        _sending_querysets[label] = sending


def subject_prefetch(*, sending: bool = False) -> Prefetch | str:
    """Loads every row's subject in one query per model (for `prefetch_related`); with
    `sending`, as the drainer loads them (see `register_subjects`)."""
    from django.contrib.contenttypes.prefetch import GenericPrefetch

    querysets = [
        (_sending_querysets.get(label, queryset) if sending else queryset)()
        for label, queryset in _subject_querysets.items()
    ]
    return GenericPrefetch("subject", querysets) if querysets else "subject"


def register_digest(render: DigestRenderer) -> None:
    """How the daily digest is rendered, from its held items.

    One renderer for the whole digest: only one kind of message (the new-breach email)
    may be held for it today. A second one must teach the digest to mix them first.
    """
    if _digest and _digest[0] is not render:
        raise ImproperlyConfigured("The daily digest already has a renderer.")
    _digest[:] = [render]


def digest_renderer() -> DigestRenderer | None:
    return _digest[0] if _digest else None


def is_personal(event: str) -> bool:
    """Is the recipient of this event a citizen's own address?"""
    found = _types.get(event)
    return found is not None and found.personal_recipient
