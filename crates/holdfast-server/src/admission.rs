//! `holdfast server --admission`: the validating admission webhook on the service's own
//! listener (`POST /admission`, HTTPS when the server has its certificate), judged by the
//! service's stored `admission` policy and the exceptions in force, so what the console's
//! policy page says is what the cluster admits.
//!
//! The webhook is `holdfast-authz`'s, built from a policy file written here: the optional
//! `--admission-config` file gives the infrastructure (`[holdfast]` timeout, fail mode,
//! registries, `[docker_auth]`, `[log]`), and one `container_create` policy is added from
//! the store (severity threshold, fixable only, maximum image age, exceptions). It is
//! built again when the stored policy or the exceptions change: at once after an edit
//! through this process, within [`RECHECK`] after one through another process sharing
//! the store (or an exception expiring). Between checks a review reads nothing from the
//! store; verdicts of an unchanged policy stay cached.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use holdfast_authz::admission::Webhook;
use holdfast_authz::EngineBackend;
use holdfast_model::Severity;
use holdfast_store::Exception;
use serde_json::Value;

use crate::edits::VerdictPolicy;
use crate::AppState;

/// Longest a webhook is used without looking at the store again.
pub const RECHECK: Duration = Duration::from_secs(5);

/// The webhook for one (policy, exceptions) state, what it was built from and when that
/// was last compared with the store.
#[derive(Default)]
pub struct AdmissionState {
    current: tokio::sync::Mutex<Option<Built>>,
    /// Set by an edit of the policy or the exceptions: compare at the next review.
    stale: AtomicBool,
    /// The cluster whose pull secrets are read, looked for once.
    pull_secrets: tokio::sync::OnceCell<Option<holdfast_kube::PullSecretReader>>,
}

struct Built {
    entry: String,
    checked: Instant,
    webhook: Arc<Webhook<EngineBackend>>,
}

impl AdmissionState {
    /// Says the stored policy or the exceptions changed.
    pub fn changed(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }
}

/// The `[[policies]]` entry the stored policy and exceptions make, as TOML text.
/// Exceptions scoped to one target are left out: an admission request names images, not
/// the targets of earlier scans.
pub fn policy_entry(policy: &VerdictPolicy, exceptions: &[Exception]) -> String {
    let mut entry = toml::Table::new();
    entry.insert("action".into(), "container_create".into());
    entry.insert("block".into(), true.into());
    entry.insert("alert".into(), true.into());
    let levels: Vec<toml::Value> = Severity::ALL
        .into_iter()
        .filter(|s| *s >= policy.severity && *s != Severity::Unknown)
        .map(|s| toml::Value::from(s.as_str()))
        .collect();
    if policy.severity != Severity::Unknown {
        entry.insert("risk_level_filter".into(), levels.into());
    }
    entry.insert("ignore_unfixed".into(), policy.fixable_only.into());
    if let Some(days) = policy.max_image_age_days.filter(|d| *d > 0) {
        entry.insert("max_image_age".into(), format!("{days}d").into());
    }
    let lines: Vec<toml::Value> = exceptions
        .iter()
        .filter(|e| e.target.is_none())
        .filter(|e| !e.advisory.contains(char::is_whitespace))
        .map(|e| {
            let mut line = e.advisory.clone();
            if let Some(p) = e
                .package
                .as_deref()
                .filter(|p| !p.contains(char::is_whitespace))
            {
                line.push_str(&format!(" pkg:{p}"));
            }
            if let Some(ms) = e.expires_at {
                let day = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                    .map(|t| t.date().to_string())
                    .unwrap_or_default();
                line.push_str(&format!(" exp:{day}"));
            }
            toml::Value::from(line)
        })
        .collect();
    entry.insert("exceptions".into(), lines.into());
    let mut doc = toml::Table::new();
    doc.insert(
        "policies".into(),
        toml::Value::Array(vec![toml::Value::Table(entry)]),
    );
    toml::to_string(&doc).unwrap_or_default()
}

/// The webhook for the policy and exceptions in force, built when they changed.
async fn webhook(state: &AppState) -> Result<Arc<Webhook<EngineBackend>>, String> {
    let admission = &state.admission;
    let mut current = admission.current.lock().await;
    let stale = admission.stale.swap(false, Ordering::Relaxed);
    if let Some(built) = current.as_ref() {
        if !stale && built.checked.elapsed() < RECHECK {
            return Ok(built.webhook.clone());
        }
    }
    let named = crate::edits::policy(state, "admission")
        .await
        .map_err(|e| format!("{e:?}"))?;
    let exceptions = state
        .store
        .active_exceptions()
        .await
        .map_err(|e| e.to_string())?;
    let entry = policy_entry(&named.policy, &exceptions);
    if let Some(built) = current.as_mut() {
        if built.entry == entry {
            built.checked = Instant::now();
            return Ok(built.webhook.clone());
        }
    }
    let config = &state.config;
    let base = match &config.admission_config {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?,
        None => String::new(),
    };
    if base.contains("[[policies]]") {
        return Err(
            "--admission-config must not hold [[policies]]: the admission policy is the service's"
                .into(),
        );
    }
    let path = config
        .admission_config
        .clone()
        .unwrap_or_else(|| config.data_dir.join("admission.toml"));
    let mut text = format!("{base}\n{entry}");
    if !base.contains("[holdfast]") {
        text.push_str(&format!(
            "\n[holdfast]\ndb = {}\n",
            toml::Value::from(config.db_path.display().to_string())
        ));
    }
    let loaded = holdfast_authz::config::parse(&text, &path).map_err(|e| e.to_string())?;
    let (log, audit) = holdfast_authz::open_logs(&loaded.config, &loaded.warnings)
        .map_err(|e| format!("{e:#}"))?;
    let backend = EngineBackend::new(&loaded.config, &log).map_err(|e| format!("{e:#}"))?;
    let authorizer = Arc::new(holdfast_authz::Authorizer::new(
        &loaded.config,
        backend,
        audit,
        log.clone(),
    ));
    // Pods' pull secrets, when the service runs in (or is configured for) a cluster.
    let pull_secrets = admission
        .pull_secrets
        .get_or_init(|| async {
            holdfast_kube::PullSecretReader::connect(&holdfast_kube::ClusterOptions::default())
                .await
                .ok()
        })
        .await
        .clone();
    let webhook = Arc::new(Webhook {
        authorizer,
        pull_secrets,
        log,
    });
    tracing::info!("admission policy (re)built from the stored policy and exceptions");
    *current = Some(Built {
        entry,
        checked: Instant::now(),
        webhook: webhook.clone(),
    });
    Ok(webhook)
}

/// `POST /admission`: one AdmissionReview judged. A webhook that cannot be built (a
/// broken `--admission-config`) denies, naming why, as a fail-closed webhook should.
pub async fn review(State(state): State<AppState>, Json(body): Json<Value>) -> Json<Value> {
    match webhook(&state).await {
        Ok(webhook) => Json(holdfast_authz::admission::review(&webhook, &body).await),
        Err(why) => {
            tracing::error!("admission webhook: {why}");
            Json(serde_json::json!({
                "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                "response": {
                    "uid": body["request"]["uid"], "allowed": false,
                    "status": {"code": 500, "message": format!("holdfast: the admission policy cannot be used: {why}")},
                },
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_policy_becomes_a_policy_entry() {
        let policy = VerdictPolicy {
            severity: Severity::High,
            fixable_only: true,
            max_image_age_days: Some(30),
        };
        let exception = |advisory: &str, target: Option<&str>, expires: Option<i64>| Exception {
            id: "e".into(),
            advisory: advisory.into(),
            target: target.map(str::to_string),
            package: Some("openssl".into()),
            reason: "r".into(),
            owner: "o".into(),
            expires_at: expires,
            created_at: 0,
            created_by: "t".into(),
        };
        let text = policy_entry(
            &policy,
            &[
                exception("CVE-2023-0286", None, Some(1_800_000_000_000)),
                exception("CVE-1", Some("app:1"), None),
            ],
        );
        let loaded =
            holdfast_authz::config::parse(&text, std::path::Path::new("/x/admission.toml"))
                .unwrap();
        let p = &loaded.config.policies[0];
        assert_eq!(p.action, "container_create");
        assert!(p.block && p.ignore_unfixed);
        assert_eq!(p.severities, [Severity::High, Severity::Critical]);
        assert_eq!(
            p.max_image_age,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        let rules: Vec<String> = p
            .exceptions
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{} {:?} {:?}",
                    r.id,
                    r.package,
                    r.expires.map(|d| d.to_string())
                )
            })
            .collect();
        assert_eq!(
            rules,
            ["CVE-2023-0286 Some(\"openssl\") Some(\"2027-01-15\")"]
        );
        // The default policy counts every severity.
        let text = policy_entry(&VerdictPolicy::default(), &[]);
        let loaded =
            holdfast_authz::config::parse(&text, std::path::Path::new("/x/a.toml")).unwrap();
        assert!(loaded.config.policies[0].severities.is_empty());
    }
}
