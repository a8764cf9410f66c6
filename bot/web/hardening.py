"""Request bodies the public web tier refuses before aiohttp parses them.

Rasa 3.6 pins aiohttp below 3.10, and the installed 3.9 lacks the fixes for request decompression bombs and for
multipart bodies that ignore `client_max_size` (CVE-2025-69223, CVE-2025-69228, CVE-2025-69229). The web app needs
neither: the chat and the contact form send JSON, the staff console sends url-encoded forms. So any request body
with a Content-Encoding other than identity, and any multipart body, is refused here with 415 before a handler
can read it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

ACCEPTED_ENCODINGS = frozenset({"", "identity"})


def refusal(request: web.Request) -> str | None:
    """Why this request's body is refused, or None when it may be read."""
    encodings = {part.strip().lower() for header in request.headers.getall("Content-Encoding", [])
                 for part in header.split(",")}
    if encodings - ACCEPTED_ENCODINGS:
        return "compressed request bodies are not accepted"
    if request.content_type.lower().startswith("multipart/"):
        return "multipart request bodies are not accepted"
    return None


@web.middleware
async def refuse_risky_bodies(request: web.Request, handler: Any) -> web.StreamResponse:
    reason = refusal(request)
    if reason is not None:
        # "messages" as every chat reply has, so a client that shows them has nothing to show.
        return web.json_response({"error": "unsupported_body", "message": reason, "messages": []}, status=415)
    response: web.StreamResponse = await handler(request)
    return response
