"""PAdES signatures on evidence PDFs (pyHanko, incremental update).

With EVIDENCE_SIGNING_P12 set, the merchant's certificate signs; otherwise a
self-signed development certificate is generated once under var/. Any PDF
reader then shows whether the file changed after it left orderdesk.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter


def _dev_certificate(var_dir: Path) -> tuple[Path, Path]:
    key_path, cert_path = var_dir / "evidence-signing.key", var_dir / "evidence-signing.crt"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    var_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "orderdesk development evidence signer"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "orderdesk (development, not trusted)"),
    ])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@cache
def _signer(var_dir: str, p12_path: str | None, p12_password: str | None) -> signers.SimpleSigner:
    if p12_path:
        signer = signers.SimpleSigner.load_pkcs12(p12_path, passphrase=(p12_password or "").encode() or None)
    else:
        key_path, cert_path = _dev_certificate(Path(var_dir))
        signer = signers.SimpleSigner.load(str(key_path), str(cert_path))
    if signer is None:
        raise RuntimeError("the evidence signing certificate could not be loaded")
    return signer


def sign_pdf(pdf: bytes, *, var_dir: Path, p12_path: str | None = None, p12_password: str | None = None,
             reason: str = "orderdesk logistics evidence") -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name="orderdesk-evidence", reason=reason, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
    )
    out = signers.PdfSigner(
        metadata, signer=_signer(str(var_dir), p12_path, p12_password),
        new_field_spec=fields.SigFieldSpec(sig_field_name="orderdesk-evidence"),
    ).sign_pdf(writer)
    return out.getvalue()
