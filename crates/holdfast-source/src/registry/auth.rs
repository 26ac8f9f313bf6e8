//! Registry credentials: where they come from, and keeping them out of every message.
//!
//! The order is the one `docker` users expect, most explicit first: `--username` with
//! `--password-stdin`, then a bearer token (`HOLDFAST_REGISTRY_TOKEN`), then a Kubernetes
//! pull secret (`--pull-secret`), then `~/.docker/config.json` (`auths`, `credsStore`,
//! `credHelpers`, read through `docker_credential`), then anonymous access.

use std::fmt;

use base64::Engine;
use oci_client::secrets::RegistryAuth;

use crate::SourceError;

/// A secret string whose `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where registry credentials may come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    /// `--username`, used with `password`.
    pub username: Option<String>,
    /// Read from stdin by the binary (`--password-stdin`).
    pub password: Option<Secret>,
    /// A bearer token (`HOLDFAST_REGISTRY_TOKEN`).
    pub token: Option<Secret>,
    /// The `.dockerconfigjson` content of a pull secret (see [`parse_pull_secret`]).
    pub pull_secret: Option<Secret>,
    /// Skip `~/.docker/config.json` (tests, and users who want only explicit credentials).
    pub ignore_docker_config: bool,
}

/// The credential chosen for one registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

impl Credential {
    /// The form `oci-client` takes.
    pub(crate) fn to_oci(&self) -> RegistryAuth {
        match self {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.expose().to_string())
            }
            Credential::Bearer(t) => RegistryAuth::Bearer(t.expose().to_string()),
        }
    }

    /// Replaces the secret (and its Basic encoding) wherever it shows in `text`, so no
    /// error message a server or a library wrote can carry it out.
    pub fn scrub(&self, text: &str) -> String {
        let secrets: Vec<String> = match self {
            Credential::Anonymous => Vec::new(),
            Credential::Basic { username, password } => vec![
                password.expose().to_string(),
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose())),
            ],
            Credential::Bearer(t) => vec![t.expose().to_string()],
        };
        let mut out = text.to_string();
        for s in secrets.iter().filter(|s| s.len() >= 3) {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }

    /// A short description for messages: which kind, never the secret.
    pub fn describe(&self) -> &'static str {
        match self {
            Credential::Anonymous => "anonymous access",
            Credential::Basic { .. } => "username and password",
            Credential::Bearer(_) => "bearer token",
        }
    }
}

/// The keys `docker login` may have stored a host's credentials under.
fn config_keys(host: &str) -> Vec<String> {
    let mut keys = vec![host.to_string()];
    if matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        keys.push("https://index.docker.io/v1/".into());
    }
    keys
}

fn from_docker(c: docker_credential::DockerCredential) -> Credential {
    match c {
        docker_credential::DockerCredential::UsernamePassword(username, password) => {
            Credential::Basic {
                username,
                password: Secret::new(password),
            }
        }
        docker_credential::DockerCredential::IdentityToken(t) => Credential::Bearer(Secret::new(t)),
    }
}

/// What a credential lookup error says, without anything a helper printed (it may echo
/// secrets).
fn lookup_error(
    host: &str,
    from: &str,
    e: &docker_credential::CredentialRetrievalError,
) -> SourceError {
    use docker_credential::CredentialRetrievalError as E;
    let why = match e {
        E::HelperFailure { helper, .. } => format!("the credential helper `{helper}` failed"),
        E::HelperCommunicationError => "the credential helper could not be run".into(),
        E::MalformedHelperResponse => "the credential helper answered something unreadable".into(),
        E::CredentialDecodingError => "an `auth` entry is not base64 of user:password".into(),
        E::CredentialMismatchError => "an `auth` entry disagrees with its username/password".into(),
        other => other.to_string(),
    };
    SourceError::Registry(format!("credentials for `{host}` from {from}: {why}"))
}

/// Picks the credential for `host` from the options, in the documented order.
pub fn resolve(host: &str, options: &AuthOptions) -> Result<Credential, SourceError> {
    use docker_credential::CredentialRetrievalError as E;
    if let (Some(username), Some(password)) = (&options.username, &options.password) {
        return Ok(Credential::Basic {
            username: username.clone(),
            password: password.clone(),
        });
    }
    if options.username.is_some() {
        return Err(SourceError::InvalidTarget(
            "--username needs the password on stdin (--password-stdin)".into(),
        ));
    }
    if let Some(t) = &options.token {
        return Ok(Credential::Bearer(t.clone()));
    }
    if let Some(secret) = &options.pull_secret {
        for key in config_keys(host) {
            match docker_credential::get_credential_from_reader(secret.expose().as_bytes(), &key) {
                Ok(c) => return Ok(from_docker(c)),
                Err(E::NoCredentialConfigured) => {}
                Err(e) => return Err(lookup_error(host, "the pull secret", &e)),
            }
        }
    }
    if !options.ignore_docker_config {
        for key in config_keys(host) {
            match docker_credential::get_credential(&key) {
                Ok(c) => return Ok(from_docker(c)),
                Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => {}
                Err(e) => return Err(lookup_error(host, "the Docker config", &e)),
            }
        }
    }
    Ok(Credential::Anonymous)
}

/// Bounded size of a pull secret file.
pub const MAX_PULL_SECRET_BYTES: usize = 1 << 20;

/// Reads a Kubernetes image pull secret into `.dockerconfigjson` content. Accepts the
/// Secret object (YAML or JSON; `data` base64-encoded or `stringData`) or the raw
/// `.dockerconfigjson` document.
pub fn parse_pull_secret(text: &str) -> Result<Secret, SourceError> {
    let bad = |why: String| SourceError::bad("--pull-secret", "pull secret", why);
    if text.len() > MAX_PULL_SECRET_BYTES {
        return Err(bad(format!(
            "it is larger than {MAX_PULL_SECRET_BYTES} bytes"
        )));
    }
    let doc: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            serde_norway::from_str(text).map_err(|_| bad("it is neither JSON nor YAML".into()))?
        }
    };
    if doc.get("auths").is_some() {
        return Ok(Secret::new(doc.to_string()));
    }
    const KEY: &str = ".dockerconfigjson";
    if let Some(s) = doc.pointer("/stringData").and_then(|d| d.get(KEY)) {
        let s = s
            .as_str()
            .ok_or_else(|| bad(format!("stringData.{KEY} is not a string")))?;
        return Ok(Secret::new(s));
    }
    if let Some(s) = doc.pointer("/data").and_then(|d| d.get(KEY)) {
        let encoded = s
            .as_str()
            .ok_or_else(|| bad(format!("data.{KEY} is not a string")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad(format!("data.{KEY} is not base64")))?;
        let s = String::from_utf8(bytes).map_err(|_| bad(format!("data.{KEY} is not UTF-8")))?;
        return Ok(Secret::new(s));
    }
    Err(bad(format!(
        "it has no `{KEY}` (in data or stringData) and is not a Docker config (no `auths`)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_json(user: &str, pass: &str) -> String {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!(r#"{{"auths":{{"reg.example.invalid:5000":{{"auth":"{auth}"}}}}}}"#)
    }

    #[test]
    fn pull_secret_forms_all_give_the_credential() {
        let cfg = config_json("alice", "s3cret-pw");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&cfg);
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {b64}\n"
        );
        let json = serde_json::json!({"kind": "Secret", "stringData": {".dockerconfigjson": cfg}})
            .to_string();
        for text in [cfg.clone(), yaml, json] {
            let secret = parse_pull_secret(&text).unwrap();
            let opts = AuthOptions {
                pull_secret: Some(secret),
                ignore_docker_config: true,
                ..Default::default()
            };
            let c = resolve("reg.example.invalid:5000", &opts).unwrap();
            assert_eq!(
                c,
                Credential::Basic {
                    username: "alice".into(),
                    password: Secret::new("s3cret-pw")
                }
            );
            assert!(!format!("{c:?}").contains("s3cret-pw"));
            assert_eq!(
                resolve("other.example.invalid", &opts).unwrap(),
                Credential::Anonymous
            );
        }
        assert!(parse_pull_secret("kind: Secret\ndata: {}\n").is_err());
    }

    #[test]
    fn explicit_flags_win_and_scrub_hides_the_secret() {
        let opts = AuthOptions {
            username: Some("bob".into()),
            password: Some(Secret::new("hunter22")),
            token: Some(Secret::new("tok-123")),
            ignore_docker_config: true,
            ..Default::default()
        };
        let c = resolve("h.example.invalid", &opts).unwrap();
        assert_eq!(c.describe(), "username and password");
        let encoded = base64::engine::general_purpose::STANDARD.encode("bob:hunter22");
        let msg = format!("server said hunter22 and {encoded}");
        let scrubbed = c.scrub(&msg);
        assert!(!scrubbed.contains("hunter22") && !scrubbed.contains(&encoded));
        let only_user = AuthOptions {
            username: Some("bob".into()),
            ignore_docker_config: true,
            ..Default::default()
        };
        assert!(resolve("h.example.invalid", &only_user).is_err());
    }
}
