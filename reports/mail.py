"""The digest as an email: subject, plain-text and HTML parts; pure, nothing is sent here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from jinja2 import Environment
from markupsafe import Markup, escape

from diffs.text import WordOp
from reports.digest import Digest
from reports.render import environment, neutralize
from storage.outbox import Message

# A sentence longer than this is cut: a page with one enormous line must not make an email
# nobody can read (the full text stays on the reviewer site).
PLAIN_LIMIT = 600
_DEL_STYLE = "background:#ffe1e1;color:#7a0010;text-decoration:line-through"
_INS_STYLE = "background:#d9f3d9;color:#0b4a17;text-decoration:underline"


def plain(text: str, limit: int = PLAIN_LIMIT) -> str:
    """Page text as one inert line of plain text: no controls, no bidi, no line breaks."""
    one_line = " ".join(neutralize(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def words_plain(ops: Iterable[WordOp]) -> str:
    """Word ops as one line: deletions as [-…-], insertions as {+…+} (git's word diff)."""
    parts: list[str] = []
    for op in ops:
        text = " ".join(neutralize(op.text).split())
        lead = " " if op.text[:1].isspace() else ""
        trail = " " if op.text[-1:].isspace() else ""
        if op.tag == "delete" and text:
            text = f"[-{text}-]"
        elif op.tag == "insert" and text:
            text = f"{{+{text}+}}"
        parts.append(f"{lead}{text}{trail}")
    joined = re.sub(r" {2,}", " ", "".join(parts))
    # A replaced word reads as one edit, as in git: "[-do not-]{+may+}", no space between.
    return plain(joined.replace("-] {+", "-]{+"), PLAIN_LIMIT * 2)


def words_mail(ops: Iterable[WordOp]) -> Markup:
    """Word ops as escaped HTML with inline-styled <del>/<ins> (mail clients drop <style>)."""
    parts: list[Markup] = []
    for op in ops:
        if op.tag == "equal":
            parts.append(escape(op.text))
        elif op.tag == "delete":
            parts.append(Markup('<del style="{}">{}</del>').format(_DEL_STYLE, op.text))
        else:
            parts.append(Markup('<ins style="{}">{}</ins>').format(_INS_STYLE, op.text))
    return Markup("").join(parts)


def _mail_environment() -> Environment:
    """The report environment plus the mail filters, without changing the shared one."""
    env = environment().overlay()
    env.filters = {
        **env.filters,
        "plain": plain,
        "words_plain": words_plain,
        "words_mail": words_mail,
    }
    return env


_ENV = _mail_environment()


def subject(digest: Digest) -> str:
    """One line that says what needs doing first: the most urgent rating, else the rest."""
    first = next((d for t in digest.tools for d in t.flags), None)
    if first is not None:
        more = f" (+{digest.flag_count - 1} more)" if digest.flag_count > 1 else ""
        text = f"Re-review {first.flag.tool_name}: {first.flag.criterion_label}{more}"
    elif digest.change_count:
        text = f"{digest.change_count} significant change(s) in cited sources"
    elif digest.new_failure_count:
        text = f"{digest.new_failure_count} cited source(s) broken"
    else:
        text = "nothing new"
    return plain(f"[citewatch] {text}", 200)


def render_text(digest: Digest) -> str:
    """The plain-text part."""
    return _ENV.get_template("email.txt").render(digest=digest)


def render_html(digest: Digest) -> str:
    """The HTML part (autoescaped, inline styles, no scripts)."""
    return _ENV.get_template("email.html").render(digest=digest)


def compose(digest: Digest) -> Message:
    """The notification for a digest, rendered once (it is stored as is in the outbox)."""
    return Message(subject(digest), render_text(digest), render_html(digest))


def email_message(
    message: Message, sender: str, recipients: Sequence[str], date: datetime | None = None
) -> EmailMessage:
    """A multipart/alternative email: plain text first, HTML preferred by capable clients."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Message-ID"] = make_msgid(domain="citewatch.invalid")
    if date is not None:
        mail["Date"] = format_datetime(date)
    mail.set_content(message.text, subtype="plain", charset="utf-8")
    mail.add_alternative(message.html, subtype="html", charset="utf-8")
    return mail
