"""Your backend: the identity token the webchat passes as `autoplayIdentityToken` (HS256 JWT).
Python 3, standard library only. The secret is the integration's identitySecret."""
import base64, hashlib, hmac, json, os, time

def _part(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def autoplay_identity(user_id, session_id=None, ttl_seconds=3600, secret=None):
    now = int(time.time())
    claims = {"sub": user_id, **({"sid": session_id} if session_id else {}), "iat": now, "exp": now + ttl_seconds}
    unsigned = _part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _part(json.dumps(claims).encode())
    key = (secret or os.environ["AUTOPLAY_IDENTITY_SECRET"]).encode()
    return unsigned + "." + _part(hmac.new(key, unsigned.encode(), hashlib.sha256).digest())
