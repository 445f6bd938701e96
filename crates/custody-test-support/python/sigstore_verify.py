"""Verifies a Sigstore bundle or a PEP 740 attestation with the tools that define the
truth, sigstore-python and pypi-attestations, against a given trusted root, and prints
one JSON verdict per tool.

Run with the sigstore virtualenv's Python (target/sigstore-venv/bin/python):

    sigstore_verify.py --trust-root ROOT.json|public-good
                       (--attestation FILE | --bundle FILE)
                       [--dist-name NAME --dist-digest SHA256 | --artifact FILE]
                       (--github REPOSITORY WORKFLOW | --gitlab PROJECT CI_CONFIG_PATH
                        | --email ADDRESS ISSUER | --any)

Output (stdout): {"sigstore": VERDICT, "pypi_attestations": VERDICT | null,
"payload_type": str | null, "statement": object | null}, where VERDICT is
{"verified": bool, "error": str | null}. pypi-attestations judges PEP 740 attestations
(and DSSE bundles turned into one) against the distribution; a message-signature bundle
has no attestation, so its verdict there is null. The exit status is 0 whenever a
verdict was printed, 2 on a usage error.

pypi-attestations always verifies with `Verifier.production()` (or `.staging()`); this
script swaps in a verifier made from the given trusted root, so the same code path runs
with the root of trust under test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pypi_attestations._impl as pypi_impl
import sigstore.verify
from pypi_attestations import Attestation, Distribution, GitHubPublisher, GitLabPublisher
from sigstore.hashes import Hashed
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.verify import policy
from sigstore_models.common.v1 import HashAlgorithm


def trusted_root(spec: str) -> TrustedRoot:
    if spec == "public-good":
        return ClientTrustConfig.production(offline=True).trusted_root
    return TrustedRoot.from_file(spec)


def use_root_in_pypi_attestations(root: TrustedRoot) -> None:
    """Makes pypi-attestations' `Verifier.production()`/`.staging()` use `root`."""

    class LocalVerifier(sigstore.verify.Verifier):
        @classmethod
        def production(cls, *, offline: bool = False) -> sigstore.verify.Verifier:
            return cls(trusted_root=root)

        @classmethod
        def staging(cls, *, offline: bool = False) -> sigstore.verify.Verifier:
            return cls(trusted_root=root)

    pypi_impl.Verifier = LocalVerifier


def identity(args: argparse.Namespace):
    """The expected signer: a pypi-attestations publisher, or a sigstore policy."""
    if args.github:
        return GitHubPublisher(repository=args.github[0], workflow=args.github[1])
    if args.gitlab:
        return GitLabPublisher(repository=args.gitlab[0], workflow_filepath=args.gitlab[1])
    if args.email:
        return policy.Identity(identity=args.email[0], issuer=args.email[1])
    return policy.UnsafeNoOp()


def as_policy(expected) -> policy.VerificationPolicy:
    if isinstance(expected, (GitHubPublisher, GitLabPublisher)):
        return expected._as_policy()  # noqa: SLF001
    return expected


def verdict(run) -> dict:
    try:
        run()
    except Exception as error:  # noqa: BLE001 - every refusal is a verdict
        return {"verified": False, "error": f"{type(error).__name__}: {error}"}
    return {"verified": True, "error": None}


def distribution(args: argparse.Namespace) -> Distribution | None:
    if args.artifact:
        return Distribution.from_file(Path(args.artifact))
    if args.dist_name:
        return Distribution(name=args.dist_name, digest=args.dist_digest)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trust-root", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--attestation")
    source.add_argument("--bundle")
    parser.add_argument("--dist-name")
    parser.add_argument("--dist-digest")
    parser.add_argument("--artifact")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--github", nargs=2, metavar=("REPOSITORY", "WORKFLOW"))
    who.add_argument("--gitlab", nargs=2, metavar=("PROJECT", "CI_CONFIG_PATH"))
    who.add_argument("--email", nargs=2, metavar=("ADDRESS", "ISSUER"))
    who.add_argument("--any", action="store_true")
    args = parser.parse_args()

    root = trusted_root(args.trust_root)
    use_root_in_pypi_attestations(root)
    verifier = sigstore.verify.Verifier(trusted_root=root)
    expected = identity(args)
    result = {"sigstore": None, "pypi_attestations": None, "payload_type": None, "statement": None}

    if args.attestation:
        attestation = Attestation.model_validate_json(Path(args.attestation).read_bytes())
        bundle = attestation.to_bundle()
    else:
        bundle = Bundle.from_json(Path(args.bundle).read_bytes())
        attestation = Attestation.from_bundle(bundle) if bundle._dsse_envelope else None  # noqa: SLF001

    if bundle._dsse_envelope is not None:  # noqa: SLF001
        def dsse() -> None:
            payload_type, payload = verifier.verify_dsse(bundle, as_policy(expected))
            result["payload_type"] = payload_type
            result["statement"] = json.loads(payload)

        result["sigstore"] = verdict(dsse)
        dist = distribution(args)
        if attestation is not None and dist is not None:
            result["pypi_attestations"] = verdict(lambda: attestation.verify(expected, dist))
    else:
        if args.artifact:
            artifact = Path(args.artifact).read_bytes()
        elif args.dist_digest:
            artifact = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(args.dist_digest))
        else:
            parser.error("a message-signature bundle needs --artifact or --dist-digest")
        result["sigstore"] = verdict(
            lambda: verifier.verify_artifact(artifact, bundle, as_policy(expected))
        )

    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
