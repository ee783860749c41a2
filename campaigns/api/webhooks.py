"""The Lead Ads webhook (seed 001 section 3.2): ``/api/v1/webhooks/meta/leadgen``.

GET is Meta's verification handshake: ``hub.mode=subscribe``, ``hub.verify_token`` equal to
``META_VERIFY_TOKEN`` → 200 ``text/plain`` echoing ``hub.challenge``; anything else 403.
POST carries notifications signed with ``X-Hub-Signature-256: sha256=<HMAC-SHA256(raw body,
META_APP_SECRET)>``: a bad or missing signature → 403 and nothing stored; a valid one stores
the body's leadgen changes (one INSERT), publishes one task message for them and answers 200 at
once (Meta retries anything else for 36 hours): :func:`campaigns.services.leadgen_receive`.
A plain Django view: it must read the raw bytes Meta signed, and it needs no session, CSRF or JWT.
"""

import hmac
import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns import services
from crm.errors import ServiceError


def _handshake(request) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    expected = settings.META_VERIFY_TOKEN
    if mode == "subscribe" and expected and challenge and hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(challenge, content_type="text/plain")
    return JsonResponse({"detail": "Verification failed.", "code": "verification_failed"}, status=403)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def leadgen_webhook(request):
    """Meta Lead Ads webhook: handshake (GET) and signed notifications (POST)."""
    if request.method == "GET":
        return _handshake(request)
    raw = request.body
    if not services.verify_signature(raw, request.headers.get("X-Hub-Signature-256")):
        return JsonResponse({"detail": "Invalid or missing X-Hub-Signature-256.", "code": "invalid_signature"},
                            status=403)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "The body is not JSON.", "code": "invalid_json"}, status=400)
    try:
        leadgen_ids = services.leadgen_receive(payload)
    except ServiceError as exc:
        return JsonResponse({"detail": exc.detail, "code": exc.code}, status=400)
    return JsonResponse({"received": len(leadgen_ids)})
