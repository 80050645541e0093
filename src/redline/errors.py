"""Redline's error tree: one class per failure, one HTTP status and one stable code each.

    RedlineError
    ├── RequestError (400)                     the client's request cannot be inspected
    │   ├── MalformedJSON        malformed_json
    │   ├── InvalidEncoding      invalid_encoding
    │   ├── InvalidField         invalid_field
    │   ├── TooDeep              too_deep
    │   └── TooManyItems         too_many_items
    ├── BodyTooLarge (413)       body_too_large
    ├── Unauthenticated (401)    unauthenticated
    ├── Forbidden (403)          forbidden              the principal lacks a role
    ├── UnknownModel (404)       model_not_found
    ├── NotFound (404)           not_found
    ├── UpstreamError (502)      upstream_unavailable
    ├── UpstreamTimeout (504)    upstream_timeout
    ├── AuthorisationRefused (403/409)           an approval or denial the rules forbid
    │   ├── WrongRole            wrong_role             (403) lacks the control's approver role
    │   ├── OwnHold              own_hold               (403) the requester's own action
    │   ├── SameUnit             same_unit              (403) the requester's unit may not approve
    │   ├── AlreadyApproved      already_approved       (409) one human, one approval
    │   ├── HoldExpired          hold_expired           (409)
    │   ├── HoldDenied           hold_denied            (409)
    │   ├── HoldApproved         hold_approved          (409) already fully approved
    │   ├── MalformedCall        malformed_call         (409) arguments not JSON: deny only
    │   └── Conflict             conflict               (409) another gateway changed the hold
    ├── LedgerUnavailable (503)  ledger_unavailable     fail closed: nothing leaves unrecorded
    └── CosignatureOverdue (503) cosignature_overdue    the pack's co-signing deadline has passed

Policy refusals are not errors: they are decisions, rendered by the gateway with HTTP 403 and the
red-line id as the code. Wire-format bodies for all of these are built in ``gateway.wire``.
"""

from __future__ import annotations

from typing import ClassVar


class RedlineError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    error_type: ClassVar[str] = "server_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class RequestError(RedlineError):
    status = 400
    code = "invalid_request"
    error_type = "invalid_request_error"


class MalformedJSON(RequestError):
    code = "malformed_json"


class InvalidEncoding(RequestError):
    code = "invalid_encoding"


class InvalidField(RequestError):
    code = "invalid_field"


class TooDeep(RequestError):
    code = "too_deep"


class TooManyItems(RequestError):
    code = "too_many_items"


class BodyTooLarge(RedlineError):
    status = 413
    code = "body_too_large"
    error_type = "invalid_request_error"


class Unauthenticated(RedlineError):
    status = 401
    code = "unauthenticated"
    error_type = "authentication_error"


class Forbidden(RedlineError):
    status = 403
    code = "forbidden"
    error_type = "permission_error"


class UnknownModel(RedlineError):
    status = 404
    code = "model_not_found"
    error_type = "invalid_request_error"


class NotFound(RedlineError):
    status = 404
    code = "not_found"
    error_type = "invalid_request_error"


class UpstreamError(RedlineError):
    status = 502
    code = "upstream_unavailable"
    error_type = "upstream_error"


class UpstreamTimeout(RedlineError):
    status = 504
    code = "upstream_timeout"
    error_type = "upstream_error"


class AuthorisationRefused(RedlineError):
    status = 403
    code = "authorisation_refused"
    error_type = "permission_error"


class WrongRole(AuthorisationRefused):
    code = "wrong_role"


class OwnHold(AuthorisationRefused):
    code = "own_hold"


class SameUnit(AuthorisationRefused):
    code = "same_unit"


class AlreadyApproved(AuthorisationRefused):
    status = 409
    code = "already_approved"


class HoldExpired(AuthorisationRefused):
    status = 409
    code = "hold_expired"


class HoldDenied(AuthorisationRefused):
    status = 409
    code = "hold_denied"


class HoldApproved(AuthorisationRefused):
    status = 409
    code = "hold_approved"


class MalformedCall(AuthorisationRefused):
    status = 409
    code = "malformed_call"


class Conflict(AuthorisationRefused):
    status = 409
    code = "conflict"


class LedgerUnavailable(RedlineError):
    status = 503
    code = "ledger_unavailable"
    error_type = "server_error"


class CosignatureOverdue(RedlineError):
    status = 503
    code = "cosignature_overdue"
    error_type = "server_error"


class ConfigurationError(Exception):
    """Settings or a policy pack that cannot be used; the message names the key and the fix."""
