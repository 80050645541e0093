"""Human authorisation of force-related tool calls.

The gateway withholds such a call as a *hold*; accountable humans approve it; on the final
approval the gateway issues a signed authorisation token binding that exact call (``tokens``),
with a key from its keyring (``keys``); the effector checks the token offline before acting
(``verifier``).
"""

from redline.authorisation.keys import Keyring, SigningKey, load_jwks
from redline.authorisation.tokens import (
    TOKEN_TYPE,
    TokenClaims,
    arguments_digest,
    canonical_arguments,
    issue_token,
    new_claims,
)
from redline.authorisation.verifier import ReplayGuard, TokenRefused, UsedTokens, verify

__all__ = [
    "TOKEN_TYPE",
    "Keyring",
    "ReplayGuard",
    "SigningKey",
    "TokenClaims",
    "TokenRefused",
    "UsedTokens",
    "arguments_digest",
    "canonical_arguments",
    "issue_token",
    "load_jwks",
    "new_claims",
    "verify",
]
