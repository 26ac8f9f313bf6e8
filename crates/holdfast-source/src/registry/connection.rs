//! One connection to one registry host: the `oci-client` client, the credential, and the
//! small runtime its async calls run on (as `daemon.rs` does for bollard).

use std::sync::Arc;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;

use super::auth::{resolve, AuthOptions, Credential};
use crate::SourceError;

/// How to reach registries, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    pub auth: AuthOptions,
    /// Hosts (`host[:port]`) spoken to over plain HTTP (`--insecure-registry`).
    pub insecure_hosts: Vec<String>,
    /// PEM certificates of a private CA, trusted besides the system roots (`--registry-ca`).
    pub ca_pem: Option<Vec<u8>>,
    /// Layers downloaded at once per image; 0 means the default.
    pub parallel_downloads: usize,
}

/// Layers downloaded at once per image when the options do not say.
pub const DEFAULT_PARALLEL_DOWNLOADS: usize = 3;

/// A client for one registry host, shared by every image read from it.
pub struct RegistryConnection {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) client: oci_client::Client,
    /// A plain HTTP client with the same TLS settings, for the catalog API.
    pub(crate) http: reqwest::Client,
    pub(crate) credential: Credential,
    pub(crate) auth: RegistryAuth,
    pub(crate) host: String,
    pub(crate) scheme: &'static str,
    pub(crate) parallel_downloads: usize,
}

impl RegistryConnection {
    /// Builds a connection to `host` (`host[:port]`); no request is made yet.
    pub fn new(host: &str, options: &RegistryOptions) -> Result<Arc<Self>, SourceError> {
        let credential = resolve(host, &options.auth)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| SourceError::Registry(format!("cannot start the I/O runtime: {e}")))?;
        let insecure = options.insecure_hosts.iter().any(|h| h == host);
        let mut config = ClientConfig {
            protocol: if insecure {
                ClientProtocol::HttpsExcept(vec![host.to_string()])
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(300)),
            ..ClientConfig::default()
        };
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300));
        if let Some(pem) = &options.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                SourceError::InvalidTarget(format!("--registry-ca is not PEM certificates: {e}"))
            })?;
            for c in certs {
                http = http.add_root_certificate(c);
            }
            config.extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data: pem.clone(),
            });
        }
        let client = oci_client::Client::try_from(config)
            .map_err(|e| SourceError::Registry(format!("cannot set up the client: {e}")))?;
        let http = http
            .build()
            .map_err(|e| SourceError::Registry(format!("cannot set up the client: {e}")))?;
        Ok(Arc::new(RegistryConnection {
            runtime,
            client,
            http,
            auth: credential.to_oci(),
            credential,
            host: host.to_string(),
            scheme: if insecure { "http" } else { "https" },
            parallel_downloads: match options.parallel_downloads {
                0 => DEFAULT_PARALLEL_DOWNLOADS,
                n => n,
            },
        }))
    }

    /// The host this connection talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The error for a failed request, naming the registry and never the credential.
    pub(crate) fn error(&self, what: &str, e: &OciDistributionError) -> SourceError {
        let host = &self.host;
        let text = match e {
            OciDistributionError::UnauthorizedError { .. } => format!(
                "registry `{host}` refused access ({}; HTTP 401 Unauthorized): check --username/--password-stdin, HOLDFAST_REGISTRY_TOKEN, --pull-secret or `docker login {host}`",
                self.credential.describe()
            ),
            OciDistributionError::AuthenticationFailure(reason) => format!(
                "registry `{host}`: authentication failed ({}): {}",
                self.credential.describe(),
                truncate(reason)
            ),
            other => format!("registry `{host}`: {what}: {}", truncate(&other.to_string())),
        };
        SourceError::Registry(self.credential.scrub(&text))
    }

    /// Wraps any message that may quote a server, scrubbing the credential.
    pub(crate) fn message(&self, text: String) -> SourceError {
        SourceError::Registry(self.credential.scrub(&text))
    }
}

/// Server bodies can be long HTML pages; a message keeps the start.
fn truncate(s: &str) -> String {
    const MAX: usize = 300;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Parses an image reference (`host[:port]/repo[:tag|@digest]`, or a Docker Hub name).
pub fn parse_reference(text: &str) -> Result<Reference, SourceError> {
    text.parse::<Reference>()
        .map_err(|e| SourceError::InvalidTarget(format!("`{text}` is not an image reference: {e}")))
}

/// Whether a bare argument names a registry image: its first path component is a host
/// (has a dot or a port, or is `localhost`). Plain names like `alpine` are left to the
/// Docker daemon, as the CLI contract orders it.
pub fn looks_like_registry_reference(arg: &str) -> bool {
    let Some((first, rest)) = arg.split_once('/') else {
        return false;
    };
    !rest.is_empty()
        && !first.is_empty()
        && (first.contains('.') || first.contains(':') || first == "localhost")
        && !arg.starts_with('.')
        && !arg.starts_with('/')
        && parse_reference(arg).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_registry_references() {
        assert!(looks_like_registry_reference("127.0.0.1:5000/app:1"));
        assert!(looks_like_registry_reference("reg.example.invalid/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert!(looks_like_registry_reference("localhost/app"));
        assert!(!looks_like_registry_reference("alpine:3.19"));
        assert!(!looks_like_registry_reference("library/alpine"));
        assert!(!looks_like_registry_reference("./some/file.tar"));
        assert!(!looks_like_registry_reference("reg.example.invalid/"));
    }
}
