//! TLS for tokio-postgres through rustls (with the ring provider), with the
//! certificate checks of libpq's sslmode values:
//!
//! - no verification (`require`, `prefer`, `allow` without a root certificate),
//! - the chain against the root certificates but not the host name
//!   (`verify-ca`, and the weaker modes when a root certificate file exists),
//! - chain and host name (`verify-full`).
//!
//! The stream gives tokio-postgres the `tls-server-end-point` channel binding,
//! so SCRAM-SHA-256-PLUS works.

use super::settings::{CertMode, RootCert, SslMode, SslSettings};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::Digest;
use std::future::Future;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// A TLS client configuration made for one connection attempt's settings.
#[derive(Clone)]
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
    /// Whether the host name must match the certificate (verify-full).
    check_name: bool,
    /// The root certificates, for messages: a file name or "the system's".
    roots: Option<String>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Tls {
    /// Reads the certificate files the settings name and builds the rustls
    /// configuration. Errors are one-line messages.
    pub(crate) fn new(settings: &SslSettings) -> Result<Tls, String> {
        let provider = provider();
        let roots = load_roots(settings)?;
        let roots_shown = roots.as_ref().map(|_| match &settings.root_cert {
            RootCert::System => "the system's trusted root certificates".to_string(),
            RootCert::File(path) => format!("the root certificates in \"{}\"", path.display()),
        });
        let check_name = settings.mode == SslMode::VerifyFull;
        let verifier: Arc<dyn ServerCertVerifier> = match roots {
            None => Arc::new(AcceptAnyCertificate(provider.clone())),
            Some(roots) => {
                let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot use the root certificates: {e}"))?;
                if check_name {
                    webpki
                } else {
                    Arc::new(ChainOnly(webpki))
                }
            }
        };
        let mut versions = Vec::new();
        if settings.tls12 {
            versions.push(&rustls::version::TLS12);
        }
        if settings.tls13 {
            versions.push(&rustls::version::TLS13);
        }
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match load_client_cert(settings)? {
            Some((certs, key)) => builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("cannot use the client certificate: {e}"))?,
            None => builder.with_no_client_auth(),
        };
        config.enable_sni = settings.sni;
        // What libpq 17 sends; required by servers for sslnegotiation=direct.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Tls {
            config: Arc::new(config),
            check_name,
            roots: roots_shown,
        })
    }

    /// A connector for one attempt; `started` is set once the server agreed
    /// to TLS and the handshake began (sslmode=prefer retries without TLS
    /// only then).
    pub(crate) fn connector(&self, started: Arc<AtomicBool>) -> MakeRustls {
        MakeRustls {
            tls: self.clone(),
            started,
        }
    }
}

/// The root certificates to verify the server with, or None to not verify.
fn load_roots(settings: &SslSettings) -> Result<Option<RootCertStore>, String> {
    let verify = matches!(settings.mode, SslMode::VerifyCa | SslMode::VerifyFull);
    match &settings.root_cert {
        RootCert::System => {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err("sslrootcert=system: no root certificates found on this system".into());
            }
            Ok(Some(roots))
        }
        RootCert::File(path) => {
            if !path.exists() {
                if verify {
                    return Err(format!(
                        "root certificate file \"{}\" does not exist; either provide the file, use the \
                         system's trusted roots with sslrootcert=system, or change sslmode to disable server \
                         certificate verification",
                        path.display()
                    ));
                }
                // libpq: without the file, the weaker modes do not verify.
                return Ok(None);
            }
            let certs = read_certs(path, "root certificate")?;
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "could not read root certificate file \"{}\": no usable certificate",
                    path.display()
                ));
            }
            Ok(Some(roots))
        }
    }
}

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("could not read {what} file \"{}\": {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "could not read {what} file \"{}\": no certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// The client certificate and key, when the certificate file exists (libpq
/// sends none otherwise).
#[allow(clippy::type_complexity)]
fn load_client_cert(
    settings: &SslSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
    if settings.cert_mode == CertMode::Disable {
        return Ok(None);
    }
    if !settings.cert.exists() {
        if settings.cert_mode == CertMode::Require {
            return Err(format!(
                "sslcertmode=require, but the certificate file \"{}\" does not exist",
                settings.cert.display()
            ));
        }
        return Ok(None);
    }
    let certs = read_certs(&settings.cert, "certificate")?;
    let key_path = &settings.key;
    let metadata = std::fs::metadata(key_path).map_err(|_| {
        format!(
            "certificate present, but not private key file \"{}\"",
            key_path.display()
        )
    })?;
    if !metadata.is_file() {
        return Err(format!(
            "private key file \"{}\" is not a regular file",
            key_path.display()
        ));
    }
    // libpq's rule: 0600 or less when the file is the user's, 0640 or less when root's.
    let mode = metadata.permissions().mode();
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let too_open = if metadata.uid() == euid {
        mode & 0o077 != 0
    } else if metadata.uid() == 0 {
        mode & 0o037 != 0
    } else {
        false
    };
    if too_open {
        return Err(format!(
            "private key file \"{}\" has group or world access; file must have permissions u=rw (0600) or \
             less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root",
            key_path.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("could not load private key file \"{}\": {e}", key_path.display()))?;
    Ok(Some((certs, key)))
}

/// `require` without root certificates: any certificate, but the handshake
/// signatures are still checked (the server must hold the certificate's key).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// verify-ca: the chain must lead to a root certificate; the name is not
/// checked. (webpki checks the chain before the name, so a name mismatch
/// means the chain was good.)
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// tokio-postgres's connector factory.
#[derive(Clone)]
pub(crate) struct MakeRustls {
    tls: Tls,
    started: Arc<AtomicBool>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> Result<RustlsConnect, io::Error> {
        let name = match ServerName::try_from(host.to_string()) {
            Ok(name) => name,
            Err(_) if self.tls.check_name => {
                return Err(io::Error::other(format!(
                    "\"{host}\" is not a host name a certificate can be checked against"
                )));
            }
            // Not checked anyway; an address sends no SNI.
            Err(_) => ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()),
        };
        Ok(RustlsConnect {
            config: self.tls.config.clone(),
            name,
            started: self.started.clone(),
            roots: self.tls.roots.clone(),
        })
    }
}

pub(crate) struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    started: Arc<AtomicBool>,
    roots: Option<String>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, io::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        self.started.store(true, Ordering::SeqCst);
        Box::pin(async move {
            let stream = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await
                .map_err(|e| explain(e, self.roots.as_deref()))?;
            Ok(RustlsStream(Box::new(stream)))
        })
    }
}

/// A handshake error in words, for the certificate problems people meet.
fn explain(e: io::Error, roots: Option<&str>) -> io::Error {
    let Some(rustls::Error::InvalidCertificate(problem)) = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return e;
    };
    let roots = roots.unwrap_or("the root certificates");
    let message = match problem {
        CertificateError::UnknownIssuer => {
            format!("the server's certificate is not signed by {roots} (UnknownIssuer)")
        }
        CertificateError::BadSignature => {
            format!("the server's certificate has a bad signature (checked against {roots})")
        }
        other => format!("the server's certificate is not accepted: {other}"),
    };
    io::Error::new(e.kind(), message)
}

pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, connection) = self.0.get_ref();
        match connection.peer_certificates().and_then(|certs| certs.first()) {
            Some(cert) => match server_end_point(cert.as_ref()) {
                Some(hash) => ChannelBinding::tls_server_end_point(hash),
                None => ChannelBinding::none(),
            },
            None => ChannelBinding::none(),
        }
    }
}

/// RFC 5929 `tls-server-end-point`: the certificate's hash with the hash of
/// its signature algorithm (SHA-256 for MD5 and SHA-1). None when the
/// algorithm has no hash of its own (Ed25519), as PostgreSQL does.
pub(crate) fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    const SHA384_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    const SHA512_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    const ED448: &[u8] = &[0x2b, 0x65, 0x71];
    let oid = signature_algorithm(der)?;
    Some(match oid {
        o if o == SHA384_RSA || o == ECDSA_SHA384 => sha2::Sha384::digest(der).to_vec(),
        o if o == SHA512_RSA || o == ECDSA_SHA512 => sha2::Sha512::digest(der).to_vec(),
        o if o == ED25519 || o == ED448 => return None,
        _ => sha2::Sha256::digest(der).to_vec(),
    })
}

/// The OID (content bytes) of a DER certificate's signatureAlgorithm.
fn signature_algorithm(der: &[u8]) -> Option<&[u8]> {
    /// One TLV: (tag, contents, rest).
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
            (len, &rest[n..])
        };
        if rest.len() < len {
            return None;
        }
        Some((tag, &rest[..len], &rest[len..]))
    }
    let (0x30, certificate, _) = tlv(der)? else { return None };
    let (0x30, _tbs, rest) = tlv(certificate)? else {
        return None;
    };
    let (0x30, algorithm, _) = tlv(rest)? else { return None };
    let (0x06, oid, _) = tlv(algorithm)? else { return None };
    Some(oid)
}
