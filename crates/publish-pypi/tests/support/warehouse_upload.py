"""A Warehouse-like upload endpoint for publish-pypi's attestation tests.

It does what PyPI's upload does with the `attestations` form field
(warehouse/forklift/legacy.py and warehouse/attestations/services.py), with the real
`pypi-attestations` models and verifier: the field is taken only from an upload made
with a trusted publisher's minted token; it must parse as a JSON list of attestations,
be non-empty and hold at most two; each one is verified against the trusted publisher's
identity (`GitHubPublisher` / `GitLabPublisher`, built from the registered publisher as
Warehouse builds `attestation_identity`) and `Distribution(name=filename,
digest=sha256)`, its predicate type must be one PyPI supports, and no predicate type may
come twice. Every refusal is Warehouse's message, answered as Pyramid answers
`_exc_with_message(HTTPBadRequest, message)`: the message is the status line's reason,
and the body is HTML, JSON or plain text after the Accept header.

Sigstore's production verifier is replaced by one over the test stack's trust root
(`--trust-root`), which is the only difference from PyPI's verification.

The trusted-publishing endpoints answer as Warehouse's do (warehouse/oidc/views.py):
`GET /_/oidc/audience`, and `POST /_/oidc/mint-token`, which verifies the identity
token's signature against the issuer's JWKS (`--jwks-url`), its audience and expiry,
refuses a reused `jti`, and matches the registered publisher the way Warehouse's
GitHub and GitLab publishers do (`job_workflow_ref` / `ci_config_ref_uri`).

`GET /_/test/state` tells the test what arrived: every upload request (file name, the
form fields sent, the answer) and every accepted file with the attestations verified for
it, as Warehouse's provenance object.

Usage: python warehouse_upload.py --trust-root FILE --jwks-url URL --publisher JSON
       [--audience pypi] [--password USER:PASSWORD]
The first line on stdout is `{"port": N}` once the server listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import sys
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from pydantic import TypeAdapter, ValidationError
from pypi_attestations import (
    Attestation,
    AttestationBundle,
    AttestationType,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    Provenance,
    VerificationError,
)
from sigstore.models import TrustedRoot
from sigstore.verify import Verifier

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
SUPPORTED_ATTESTATION_TYPES = {
    AttestationType.PYPI_PUBLISH_V1,
    AttestationType.SLSA_PROVENANCE_V1,
}
BAD_REQUEST_EXPLANATION = (
    "The server could not comply with the request since it is either malformed "
    "or otherwise incorrect."
)


class Refused(Exception):
    """An upload refused with Warehouse's status and message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def bad_request(message: str) -> Refused:
    return Refused(400, "Bad Request", message)


class AttestationUploadError(Exception):
    """warehouse.attestations.errors.AttestationUploadError."""


class Publisher:
    """A registered trusted publisher and the claims it is matched on."""

    def __init__(self, spec: dict) -> None:
        self.kind = spec["kind"]
        self.repository = spec["repository"]
        self.workflow = spec.get("workflow") or spec.get("workflow_filepath")
        self.environment = spec.get("environment")
        # False: a publisher kind Warehouse has no attestation identity for.
        self.attests = spec.get("attests", True)

    @property
    def issuer(self) -> str:
        return GITHUB_ISSUER if self.kind == "GitHub" else GITLAB_ISSUER

    def matches(self, claims: dict) -> bool:
        if self.kind == "GitHub":
            # GitHubPublisher: `repository`, then the workflow the job runs in.
            prefix = f"{self.repository}/.github/workflows/{self.workflow}@"
            return claims.get("repository") == self.repository and str(
                claims.get("job_workflow_ref", "")
            ).startswith(prefix)
        prefix = f"gitlab.com/{self.repository}//{self.workflow}@"
        return claims.get("project_path") == self.repository and str(
            claims.get("ci_config_ref_uri", "")
        ).startswith(prefix)

    @property
    def publisher_name(self) -> str:
        return self.kind

    @property
    def attestation_identity(self):
        if not self.attests:
            return None
        if self.kind == "GitHub":
            return GitHubPublisher(
                repository=self.repository,
                workflow=self.workflow,
                environment=self.environment,
            )
        return GitLabPublisher(
            repository=self.repository,
            workflow_filepath=self.workflow,
            environment=self.environment,
        )


class State:
    def __init__(self, args: argparse.Namespace) -> None:
        self.lock = threading.Lock()
        self.audience = args.audience
        self.publisher = Publisher(json.loads(args.publisher))
        self.password = args.password
        self.jwks = jwt.PyJWKClient(args.jwks_url) if args.jwks_url else None
        self.used_jtis: set[str] = set()
        self.minted: dict[str, float] = {}
        self.files: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.mints = 0


def extract_attestations(publisher: Publisher | None, field: str) -> list[Attestation]:
    """What `_extract_attestations_from_request` does with the form field."""
    if publisher is None:
        raise AttestationUploadError(
            "Attestations are only supported when using Trusted Publishing"
        )
    if publisher.attestation_identity is None:
        raise AttestationUploadError(
            "Attestations are not currently supported with "
            f"{publisher.publisher_name} publishers"
        )
    try:
        attestations = TypeAdapter(list[Attestation]).validate_json(field)
    except ValidationError as e:
        raise AttestationUploadError(f"Malformed attestations: {e}")
    if not attestations:
        raise AttestationUploadError(
            "Malformed attestations: an empty attestation set is not permitted"
        )
    most = len(SUPPORTED_ATTESTATION_TYPES)
    if len(attestations) > most:
        raise AttestationUploadError(
            f"A maximum of {most} attestations per file are supported"
        )
    return attestations


def parse_attestations(
    publisher: Publisher | None, field: str, distribution: Distribution
) -> list[Attestation]:
    """What `IntegrityService.parse_attestations` does: every attestation verified."""
    attestations = extract_attestations(publisher, field)
    seen: set[AttestationType] = set()
    for attestation in attestations:
        try:
            predicate_type, _ = attestation.verify(
                publisher.attestation_identity, distribution
            )
        except VerificationError as e:
            raise AttestationUploadError(
                "Could not verify the uploaded artifact using the included "
                f"attestation: {e}"
            )
        except Exception as e:  # noqa: BLE001 - Warehouse reports any other error too
            raise AttestationUploadError(
                f"Unknown error while trying to verify included attestations: {e}"
            )
        if predicate_type not in SUPPORTED_ATTESTATION_TYPES:
            raise AttestationUploadError(
                f"Attestation with unsupported predicate type: {predicate_type}"
            )
        predicate = AttestationType(predicate_type)
        if predicate in seen:
            raise AttestationUploadError(
                "Multiple attestations for the same file with the same "
                f"predicate type ({predicate.value}) are not supported"
            )
        seen.add(predicate)
    return attestations


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict]:
    """The multipart form: text fields by name, and the `content` file part."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields: dict[str, list[str]] = {}
    content = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            content = {"filename": part.get_filename(), "data": payload}
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8"))
    return fields, content


class Handler(BaseHTTPRequestHandler):
    server_version = "warehouse-like/1"
    state: State

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base's name
        sys.stderr.write("%s\n" % (format % args))

    def answer(self, status: int, reason: str, body: bytes, content_type: str) -> None:
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer_json(self, status: int, value) -> None:
        body = json.dumps(value).encode()
        self.answer(status, self.responses.get(status, ("",))[0], body, "application/json")

    def refuse(self, refused: Refused) -> None:
        """Pyramid's rendering of `_exc_with_message(exc, message)`."""
        status = f"{refused.status} {refused.message}"
        status = status.encode("iso-8859-1", "replace").decode("iso-8859-1")
        accept = self.headers.get("Accept", "")
        explanation = BAD_REQUEST_EXPLANATION if refused.status == 400 else ""
        if "html" in accept or "*/*" in accept:
            body = (
                f"<html>\n <head>\n  <title>{status}</title>\n </head>\n <body>\n"
                f"  <h1>{status}</h1>\n  {explanation}<br/><br/>\n"
                f"{html.escape(refused.message)}\n\n\n </body>\n</html>"
            )
            content_type = "text/html; charset=UTF-8"
        elif "json" in accept:
            body = json.dumps(
                {
                    "message": f"{explanation}\n\n\n{refused.message}\n\n",
                    "code": status,
                    "title": refused.title,
                }
            )
            content_type = "application/json"
        else:
            body = f"{status}\n\n{explanation}\n\n\n{refused.message}\n\n"
            content_type = "text/plain; charset=UTF-8"
        reason = status.split(" ", 1)[1]
        self.answer(refused.status, reason, body.encode("utf-8"), content_type)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - the base's name
        state = self.state
        if self.path == "/_/oidc/audience":
            self.answer_json(200, {"audience": state.audience})
        elif self.path == "/_/test/state":
            with state.lock:
                value = {
                    "requests": state.requests,
                    "files": list(state.files.values()),
                    "mints": state.mints,
                }
            self.answer_json(200, value)
        else:
            self.answer_json(404, {"message": "Not Found"})

    def do_POST(self) -> None:  # noqa: N802 - the base's name
        if self.path == "/_/oidc/mint-token":
            self.mint(self.body())
        else:
            self.upload(self.body())

    def mint(self, body: bytes) -> None:
        state = self.state

        def refused(code: str, description: str) -> None:
            self.answer_json(
                422,
                {
                    "message": "Token request failed",
                    "errors": [{"code": code, "description": description}],
                },
            )

        try:
            token = json.loads(body)["token"]
        except (ValueError, KeyError, TypeError):
            return refused("invalid-payload", "token is missing")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return refused("invalid-payload", "malformed JWT")
        if unverified.get("iss") != state.publisher.issuer:
            return refused("invalid-payload", "unknown trusted publishing issuer")
        try:
            key = state.jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256", "ES256"],
                audience=state.audience,
                issuer=state.publisher.issuer,
                options={"require": ["iss", "exp", "iat", "aud", "jti"]},
            )
        except jwt.PyJWTError:
            return refused("invalid-token", "malformed or invalid token")
        with state.lock:
            if claims["jti"] in state.used_jtis:
                return refused("invalid-reuse-token", "invalid token: already used")
            if not state.publisher.matches(claims):
                return refused(
                    "invalid-publisher",
                    "valid token, but no corresponding publisher "
                    "(Publisher with matching claims was not found)",
                )
            state.used_jtis.add(claims["jti"])
            state.mints += 1
            minted = f"pypi-minted-{state.mints}-{int(time.time())}"
            state.minted[minted] = time.time() + 900
        self.answer_json(
            200, {"success": True, "token": minted, "expires": int(time.time()) + 900}
        )

    def authenticated(self) -> tuple[bool, Publisher | None]:
        """Whether the upload may go on, and the trusted publisher it was made as."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False, None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        state = self.state
        with state.lock:
            if user == "__token__" and state.minted.get(password, 0) > time.time():
                return True, state.publisher
        return f"{user}:{password}" == state.password, None

    def upload(self, body: bytes) -> None:
        state = self.state
        record = {"path": self.path, "fields": [], "filename": None}
        with state.lock:
            state.requests.append(record)
        try:
            ok, publisher = self.authenticated()
            if not ok:
                raise Refused(
                    403,
                    "Forbidden",
                    "Invalid or non-existent authentication information. "
                    "See https://pypi.org/help/#invalid-auth for more information.",
                )
            fields, content = parse_form(self.headers.get("Content-Type", ""), body)
            record["fields"] = sorted(fields)
            record["attestations"] = fields.get("attestations", [None])[0]
            self.take(publisher, fields, content, record)
        except Refused as refused:
            record["answer"] = f"{refused.status} {refused.message}"
            self.refuse(refused)
            return
        record["answer"] = "200 OK"
        self.answer(200, "OK", b"OK", "text/plain")

    def take(self, publisher, fields: dict, content: dict | None, record: dict) -> None:
        """The file checks Warehouse makes before attestations, then the attestations."""
        if content is None:
            raise bad_request("Upload payload does not have a file.")
        filename = content["filename"]
        record["filename"] = filename
        sha256 = hashlib.sha256(content["data"]).hexdigest()
        blake2 = hashlib.blake2b(content["data"], digest_size=32).hexdigest()
        if fields.get("sha256_digest", [""])[0] != sha256:
            raise bad_request(
                "The digest supplied does not match a digest calculated "
                "from the uploaded file."
            )
        state = self.state
        with state.lock:
            existing = state.files.get(filename)
        if existing is not None:
            if existing["sha256"] == sha256:
                return  # Warehouse answers an identical re-upload with 200.
            raise bad_request(
                f"File already exists ('{filename}', with blake2_256 hash "
                f"'{blake2}'). See https://pypi.org/help/#file-name-reuse for more "
                "information."
            )
        attestations: list[Attestation] = []
        if "attestations" in fields:
            try:
                attestations = parse_attestations(
                    publisher,
                    fields["attestations"][0],
                    Distribution(name=filename, digest=sha256),
                )
            except AttestationUploadError as e:
                raise bad_request(f"Invalid attestations supplied during upload: {e}")
        accepted = {"filename": filename, "sha256": sha256, "provenance": None}
        if attestations:
            bundle = AttestationBundle(
                publisher=publisher.attestation_identity, attestations=attestations
            )
            accepted["provenance"] = Provenance(
                attestation_bundles=[bundle]
            ).model_dump(mode="json")
            accepted["predicate_types"] = [a.statement["predicateType"] for a in attestations]
        with state.lock:
            state.files[filename] = accepted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trust-root", required=True)
    parser.add_argument("--jwks-url", required=True)
    parser.add_argument("--publisher", required=True)
    parser.add_argument("--audience", default="pypi")
    parser.add_argument("--password", default="custody:s3cret-upload-pw")
    args = parser.parse_args()

    trusted_root = TrustedRoot.from_file(args.trust_root)
    # The one difference from PyPI: the test stack's root instead of the public-good one.
    Verifier.production = classmethod(  # type: ignore[method-assign]
        lambda cls, *, offline=False: cls(trusted_root=trusted_root)
    )

    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
