//! The production [`Backend`]: images resolved through the Docker daemon (bollard) or
//! the registry, and scanned by holdfast's engine with each policy's scanners and
//! plugins, as the `scan` command builds its requests.
//!
//! Everything that does not change per request is prepared once at start: the
//! checkers' configuration per policy, the plugins found and their parameters checked,
//! the database handle and the layer cache shared by every scan.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use bollard::Docker;
use holdfast_model::{FindingKind, ScanResult};
use holdfast_scan::{
    AnalyzerGroup, CancelToken, CheckConfig, CheckSettings, DbLocation, NoProgress, PluginSettings,
    ResolvedParams, ScanRequest, Target, VulnDbHandle, WalkLimits,
};
use holdfast_source::registry::{AuthOptions, RegistryOptions, RegistrySource, Secret};
use holdfast_source::{DecompressLimits, LayerCache, OpenOptions, Platform, Source, TargetSpec};
use sha2::{Digest, Sha256};

use crate::action::{RegistryAuth, Subject};
use crate::audit::PluginLog;
use crate::authorizer::{Backend, ImageRef, ImageSource, Resolved, Rule};
use crate::config::{Config, DockerAuth};

/// Largest file read into memory for analysis (the scan command's default).
const MAX_FILE_SIZE: u64 = 64 << 20;

/// What one policy's scans run.
struct EnginePolicy {
    scanners: Vec<FindingKind>,
    checks: CheckConfig,
    plugins: PluginSettings,
    fingerprint: String,
}

/// Resolves and scans with the Docker daemon, registries and holdfast's engine.
pub struct EngineBackend {
    /// Made on first use: the daemon may start after the plugin (it must, to find it).
    docker: std::sync::Mutex<Option<Docker>>,
    db: VulnDbHandle,
    cache: LayerCache,
    policies: Vec<EnginePolicy>,
    insecure_registries: Vec<String>,
    /// `registry_ca`'s certificates, read at start.
    registry_ca: Option<Vec<u8>>,
    docker_auth: Option<DockerAuth>,
    scan_timeout: Duration,
    /// Registry references resolved lately (without request credentials), so that a
    /// burst of admissions for one tag reads its manifest once per [`RESOLVED_TTL`].
    resolved: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Resolved)>>,
}

/// How long a registry reference's resolution is reused. A moved tag is seen after this.
pub const RESOLVED_TTL: Duration = Duration::from_secs(30);
/// Most resolutions remembered.
const MAX_RESOLVED: usize = 4096;

impl EngineBackend {
    /// Prepares every policy of `config`: checkers, plugins (discovered once; a named
    /// plugin that is missing or broken is an error naming the policy's line), the
    /// database and the cache. The daemon is the one `DOCKER_HOST` names (see
    /// [`crate::run`], which sets it from `holdfast.docker_host`), reached on first use.
    pub fn new(config: &Config, log: &PluginLog) -> Result<Self> {
        let h = &config.holdfast;
        let cache_dir = h.cache_dir.clone().unwrap_or_else(LayerCache::default_dir);
        let db_path = h.db.clone().unwrap_or_else(holdfast_scan::default_db_path);
        let found = if config.policies.iter().any(|p| !p.plugins.is_empty()) {
            let env = std::env::var("HOLDFAST_PLUGIN_PATH").ok();
            let roots = holdfast_scan::plugin_roots(&h.plugin_dirs, env.as_deref());
            let found = holdfast_scan::discover(
                &roots,
                Some(&cache_dir.join("plugins").join("manifests.json")),
            );
            for b in &found.broken {
                log.warn(&format!(
                    "not a usable plugin: {}: {}",
                    b.path.display(),
                    b.reason
                ));
            }
            Some(found)
        } else {
            None
        };
        let mut policies = Vec::new();
        for p in &config.policies {
            let at = || format!("the `{}` policy on line {}", p.action, p.line);
            let (plugins, params) = match &found {
                Some(found) if !p.plugins.is_empty() => {
                    let plugins = holdfast_scan::select_plugins(found, Some(&p.plugins), None)
                        .map_err(|e| anyhow!("{}: {e}", at()))?;
                    let params =
                        ResolvedParams::resolve(&p.plugin_params, found).with_context(at)?;
                    (plugins, params)
                }
                _ => (Vec::new(), ResolvedParams::default()),
            };
            // The engine runs its default scanners for an empty list; a policy that names
            // only plugins asks for a kind no built-in checker reports, so only the
            // plugins run.
            let scanners = if p.scanners.is_empty() {
                vec![FindingKind::Misconfiguration]
            } else {
                p.scanners.clone()
            };
            let settings = CheckSettings {
                weak_password_timeout: h.weak_password_timeout,
                secret_max_file_size: holdfast_scan::DEFAULT_SECRET_MAX_FILE_SIZE,
                max_file_size: MAX_FILE_SIZE,
                ..CheckSettings::default()
            };
            let checks = holdfast_scan::check_config(&settings, &scanners).with_context(at)?;
            let fingerprint = format!(
                "plugins={:?};db={};weak_password_timeout={:?}",
                plugins
                    .iter()
                    .map(|p| format!("{}@{}:{}", p.name(), p.manifest.version, p.path.display()))
                    .collect::<Vec<_>>(),
                db_path.display(),
                h.weak_password_timeout,
            );
            policies.push(EnginePolicy {
                scanners,
                checks,
                plugins: PluginSettings {
                    plugins,
                    params,
                    timeout: h.scan_timeout.min(Duration::from_secs(300)),
                    read_only: vec![cache_dir.clone(), db_path.clone()],
                    ..PluginSettings::default()
                },
                fingerprint,
            });
        }
        Ok(EngineBackend {
            docker: std::sync::Mutex::new(None),
            db: VulnDbHandle::new(DbLocation::from_option(h.db.as_deref())),
            cache: LayerCache::new(cache_dir),
            policies,
            insecure_registries: h.insecure_registries.clone(),
            registry_ca: match &h.registry_ca {
                Some(p) => Some(std::fs::read(p).with_context(|| {
                    format!("holdfast.registry_ca: cannot read `{}`", p.display())
                })?),
                None => None,
            },
            docker_auth: config.docker_auth.clone(),
            scan_timeout: h.scan_timeout,
            resolved: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// How to reach the registry of `reference`: the request's credentials, else
    /// `[docker_auth]` when it names that registry, else what holdfast's registry
    /// source finds (the plugin user's Docker config).
    fn registry_options(
        &self,
        reference: &str,
        credentials: Option<RegistryAuth>,
    ) -> RegistryOptions {
        let mut auth = AuthOptions::default();
        // The registry as named and as reached (`docker.io`, `index.docker.io`).
        let (named, reached) = holdfast_source::registry::parse_reference(reference)
            .map(|r| (r.registry().to_string(), r.resolve_registry().to_string()))
            .unwrap_or_default();
        let docker_auth = self
            .docker_auth
            .as_ref()
            .filter(|d| !reached.is_empty() && (named == d.registry || reached == d.registry));
        if let Some(document) = credentials.as_ref().and_then(|c| c.docker_config.clone()) {
            // A pod's pull secrets; `[docker_auth]` still serves a registry they do not
            // name (the username and password would otherwise win over the secret).
            let secret = Secret::new(document);
            let only_secret = AuthOptions {
                pull_secret: Some(secret.clone()),
                ignore_docker_config: true,
                ..AuthOptions::default()
            };
            let covered = !matches!(
                holdfast_source::registry::resolve_credential(&reached, &only_secret),
                Ok(holdfast_source::registry::Credential::Anonymous)
            );
            match docker_auth {
                Some(d) if !covered => {
                    auth.username = Some(d.username.clone());
                    auth.password = Some(d.password.clone());
                }
                _ => auth.pull_secret = Some(secret),
            }
        } else if let Some(c) = credentials {
            if !c.registrytoken.is_empty() {
                auth.token = Some(Secret::new(c.registrytoken));
            } else {
                auth.username = Some(c.username);
                auth.password = Some(Secret::new(c.password));
            }
        } else if let Some(d) = docker_auth {
            auth.username = Some(d.username.clone());
            auth.password = Some(d.password.clone());
        }
        RegistryOptions {
            auth,
            insecure_hosts: self.insecure_registries.clone(),
            ca_pem: self.registry_ca.clone(),
            parallel_downloads: 0,
        }
    }

    /// The daemon's client, made on first use.
    fn docker(&self) -> Result<Docker, String> {
        let mut slot = self
            .docker
            .lock()
            .map_err(|_| "internal lock poisoned".to_string())?;
        if let Some(d) = slot.as_ref() {
            return Ok(d.clone());
        }
        let d = Docker::connect_with_local_defaults().map_err(|e| {
            format!("cannot reach the daemon (DOCKER_HOST / holdfast.docker_host): {e}")
        })?;
        *slot = Some(d.clone());
        Ok(d)
    }

    async fn local(&self, name: &str) -> Result<Resolved, String> {
        match self.docker()?.inspect_image(name).await {
            Ok(i) => {
                let id =
                    i.id.ok_or_else(|| format!("the daemon gave no id for `{name}`"))?;
                Ok(Resolved::Images(vec![ImageRef {
                    name: name.to_string(),
                    digest: id.clone(),
                    source: ImageSource::Daemon { id },
                }]))
            }
            Err(e) if not_found(&e) => Ok(Resolved::Absent(format!(
                "image `{name}` is not in the daemon; the daemon answers the request itself"
            ))),
            Err(e) => Err(format!("the daemon: {e}")),
        }
    }
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Backend for EngineBackend {
    async fn resolve(
        &self,
        subject: &Subject,
        credentials: Option<RegistryAuth>,
    ) -> Result<Resolved, String> {
        match subject {
            Subject::Local(name) => self.local(name).await,
            Subject::Container(id) => {
                let c = match self
                    .docker()?
                    .inspect_container(
                        id,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await
                {
                    Ok(c) => c,
                    Err(e) if not_found(&e) => {
                        return Ok(Resolved::Absent(format!(
                            "container `{id}` does not exist; the daemon answers the request itself"
                        )))
                    }
                    Err(e) => return Err(format!("the daemon: {e}")),
                };
                let image_id = c
                    .image
                    .ok_or_else(|| format!("the daemon gave no image for container `{id}`"))?;
                let image_name = c
                    .config
                    .and_then(|cfg| cfg.image)
                    .unwrap_or_else(|| image_id.clone());
                Ok(Resolved::Images(vec![ImageRef {
                    name: format!("{image_name} (container {id})"),
                    digest: image_id.clone(),
                    source: ImageSource::Daemon { id: image_id },
                }]))
            }
            Subject::AllTags(repo) => {
                let mut filters = std::collections::HashMap::new();
                filters.insert("reference".to_string(), vec![repo.clone()]);
                let options = bollard::query_parameters::ListImagesOptions {
                    filters: Some(filters),
                    ..Default::default()
                };
                let list = self
                    .docker()?
                    .list_images(Some(options))
                    .await
                    .map_err(|e| format!("the daemon: {e}"))?;
                let prefix = format!("{repo}:");
                let mut images = Vec::new();
                for i in list {
                    if let Some(tag) = i.repo_tags.iter().find(|t| t.starts_with(&prefix)) {
                        images.push(ImageRef {
                            name: tag.clone(),
                            digest: i.id.clone(),
                            source: ImageSource::Daemon { id: i.id.clone() },
                        });
                    }
                }
                if images.is_empty() {
                    return Ok(Resolved::Absent(format!(
                        "no local tag of `{repo}`; the daemon answers the request itself"
                    )));
                }
                Ok(Resolved::Images(images))
            }
            Subject::Remote {
                reference,
                platform,
            } => {
                // Resolutions are shared when made with the plugin's own credentials, or
                // with the same pull secrets (keyed by their hash); a docker client's own
                // credentials are never shared.
                let key = match (&credentials, platform) {
                    (None, None) => Some(reference.clone()),
                    (Some(c), None) => c.docker_config.as_ref().map(|doc| {
                        let hash = hex::encode(&Sha256::digest(doc.as_bytes())[..8]);
                        format!("{reference}#{hash}")
                    }),
                    _ => None,
                };
                if let Some(key) = &key {
                    if let Some((at, found)) =
                        self.resolved.lock().ok().and_then(|m| m.get(key).cloned())
                    {
                        if at.elapsed() < RESOLVED_TTL {
                            return Ok(found);
                        }
                    }
                }
                let found = self
                    .resolve_remote(reference, platform.as_deref(), credentials)
                    .await?;
                if let (Some(key), Ok(mut m)) = (key, self.resolved.lock()) {
                    if m.len() >= MAX_RESOLVED {
                        m.retain(|_, (at, _)| at.elapsed() < RESOLVED_TTL);
                        if m.len() >= MAX_RESOLVED {
                            m.clear();
                        }
                    }
                    m.insert(key, (std::time::Instant::now(), found.clone()));
                }
                Ok(found)
            }
            Subject::Undetermined(why) => Err(why.clone()),
        }
    }

    fn scan(&self, image: &ImageRef, rule: &Rule) -> Result<ScanResult, String> {
        let p = self
            .policies
            .get(rule.index)
            .ok_or_else(|| format!("no policy {}", rule.index))?;
        let (spec, open) = match &image.source {
            ImageSource::Daemon { id } => (TargetSpec::Daemon(id.clone()), OpenOptions::default()),
            ImageSource::Registry {
                reference,
                platform,
                options,
            } => (
                TargetSpec::Registry(reference.clone()),
                OpenOptions {
                    platform: platform.clone(),
                    limits: DecompressLimits::default(),
                    registry: options.as_ref().clone(),
                    ..OpenOptions::default()
                },
            ),
        };
        let request = ScanRequest {
            targets: vec![Target::Spec {
                spec,
                name: image.name.clone(),
            }],
            scanners: p.scanners.clone(),
            sbom: false,
            package_types: vec![AnalyzerGroup::OsPackages, AnalyzerGroup::Library],
            skip_os_owned: false,
            checks: p.checks.clone(),
            policy: rule.scan_policy(),
            ignore_source: None,
            open,
            walk: WalkLimits {
                max_file_bytes: MAX_FILE_SIZE,
                ..WalkLimits::default()
            },
            cache: Some(self.cache.clone()),
            db: self.db.clone(),
            cancel: CancelToken::with_deadline(Instant::now() + self.scan_timeout),
            plugins: p.plugins.clone(),
            misconfig: Default::default(),
        };
        holdfast_scan::scan(&request, &NoProgress).map_err(|e| chain(&e))
    }

    fn fingerprint(&self, policy_index: usize) -> String {
        self.policies
            .get(policy_index)
            .map(|p| p.fingerprint.clone())
            .unwrap_or_default()
    }
}

/// An error and its causes, `: `-joined.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

impl EngineBackend {
    /// Reads a registry reference's manifest and config: the image id is the cache key.
    async fn resolve_remote(
        &self,
        reference: &str,
        platform: Option<&str>,
        credentials: Option<RegistryAuth>,
    ) -> Result<Resolved, String> {
        let platform: Option<Platform> = match platform {
            Some(p) => Some(p.parse().map_err(|e| format!("platform `{p}`: {e}"))?),
            None => None,
        };
        let options = self.registry_options(reference, credentials);
        let reference = reference.to_string();
        // Reads the manifest and the config only: the digest is the cache key,
        // and the scan reads the image pinned to it.
        tokio::task::spawn_blocking(move || {
            let source = RegistrySource::open(
                &reference,
                &reference,
                platform.as_ref(),
                &options,
                DecompressLimits::default(),
            )
            .map_err(|e| format!("cannot read `{reference}` from its registry: {}", chain(&e)))?;
            let m = source.metadata();
            let digest = m
                .image_id
                .clone()
                .ok_or_else(|| format!("`{reference}` has no config digest"))?;
            let pinned = m.repo_digests.first().cloned().unwrap_or(reference.clone());
            Ok(Resolved::Images(vec![ImageRef {
                name: reference,
                digest,
                source: ImageSource::Registry {
                    reference: pinned,
                    platform,
                    options: Box::new(options),
                },
            }]))
        })
        .await
        .map_err(|e| format!("the registry lookup stopped: {e}"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn backend() -> EngineBackend {
        let l = parse(
            r#"[[policies]]
action = "image_create"
enabled_plugins = ["weak-password"]
block = true
[docker_auth]
registry = "reg.example:5000"
username = "svc"
password = "pw-from-config"
[holdfast]
insecure_registries = ["reg.example:5000"]
"#,
            std::path::Path::new("/tmp/authz.toml"),
        )
        .unwrap();
        EngineBackend::new(&l.config, &PluginLog::discard()).unwrap()
    }

    #[test]
    fn pull_credentials_come_from_the_request_then_docker_auth() {
        let b = backend();
        let from_request = RegistryAuth {
            username: "alice".into(),
            password: "pw-from-request".into(),
            ..RegistryAuth::default()
        };
        let o = b.registry_options("reg.example:5000/app:1", Some(from_request));
        assert_eq!(o.auth.username.as_deref(), Some("alice"));
        assert_eq!(
            o.auth.password.as_ref().map(Secret::expose),
            Some("pw-from-request")
        );
        assert_eq!(o.insecure_hosts, vec!["reg.example:5000".to_string()]);
        assert!(!format!("{o:?}").contains("pw-from-request"));

        let token = RegistryAuth {
            registrytoken: "tok-123".into(),
            ..RegistryAuth::default()
        };
        let o = b.registry_options("reg.example:5000/app:1", Some(token));
        assert_eq!(o.auth.token.as_ref().map(Secret::expose), Some("tok-123"));
        assert!(o.auth.username.is_none());

        let o = b.registry_options("reg.example:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", None);
        assert_eq!(o.auth.username.as_deref(), Some("svc"));
        assert!(!format!("{o:?}").contains("pw-from-config"));
        // Only for the registry it names.
        let o = b.registry_options("other.example/app:1", None);
        assert!(o.auth.username.is_none() && o.auth.password.is_none());
    }

    #[test]
    fn plugins_are_found_at_start_and_run_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let script = plugins.join("noop");
        std::fs::write(
            &script,
            "#!/bin/sh\n[ \"$1\" = info ] && { echo '{\"protocol\":1,\"name\":\"noop\",\"version\":\"1.2\",\"commands\":[\"scan/image\"],\"kinds\":[\"misconfiguration\"]}'; exit 0; }\ncat >/dev/null\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = |name: &str| {
            format!(
                "[[policies]]\naction = \"image_push\"\nenabled_plugins = [\"{name}\"]\n[holdfast]\nplugin_dirs = [\"{}\"]\ncache_dir = \"{}\"\n",
                plugins.display(),
                dir.path().join("cache").display()
            )
        };
        let l = parse(&config("noop"), std::path::Path::new("/tmp/authz.toml")).unwrap();
        let b = EngineBackend::new(&l.config, &PluginLog::discard()).unwrap();
        // Only the plugin runs: no built-in checker reports this kind.
        assert_eq!(b.policies[0].scanners, vec![FindingKind::Misconfiguration]);
        assert_eq!(b.policies[0].plugins.plugins.len(), 1);
        assert!(
            b.fingerprint(0).contains("noop@1.2"),
            "{}",
            b.fingerprint(0)
        );

        let l = parse(
            &config("no-such-plugin"),
            std::path::Path::new("/tmp/authz.toml"),
        )
        .unwrap();
        let e = match EngineBackend::new(&l.config, &PluginLog::discard()) {
            Ok(_) => panic!("a missing plugin was accepted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            e.contains("line 2") && e.contains("no plugin named `no-such-plugin`"),
            "{e}"
        );
    }
}
