//! Changes to what the service decides: exceptions and verdict policies. The API and the
//! console both go through these functions, so every change is checked and audited the
//! same way (who, when, what).

use axum::http::StatusCode;
use holdfast_model::Severity;
use holdfast_store::{Exception, NewException, StoredPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::ApiError;
use crate::AppState;

/// The policies the service keeps: the CI gate (`/api/v1/scans/{id}/verdict`) and the
/// admission webhook's.
pub const POLICY_NAMES: [&str; 2] = ["ci", "admission"];

/// A verdict policy: what makes a result fail. The default fails on every finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictPolicy {
    /// The lowest severity that fails (`UNKNOWN`: every finding fails).
    #[serde(default)]
    pub severity: Severity,
    /// Only vulnerabilities with a fixed version fail.
    #[serde(default)]
    pub fixable_only: bool,
    /// Images built more than this many days ago fail. Kept for admission control, which
    /// reads the image's creation time; results do not carry it, so the CI verdict does
    /// not apply it.
    #[serde(default)]
    pub max_image_age_days: Option<u32>,
}

impl VerdictPolicy {
    /// The policy crate's form of it.
    pub fn to_policy(self) -> holdfast_policy::Policy {
        holdfast_policy::Policy {
            severities: Severity::ALL
                .into_iter()
                .filter(|s| *s >= self.severity)
                .collect(),
            ignore_unfixed: self.fixable_only,
            ..Default::default()
        }
    }
}

/// A named policy as the API shows it: the stored one, or the default.
#[derive(Debug, Clone, Serialize)]
pub struct NamedPolicy {
    /// `ci` or `admission`.
    pub name: &'static str,
    /// What it says.
    #[serde(flatten)]
    pub policy: VerdictPolicy,
    /// When it was last saved (RFC 3339), absent for the default.
    pub updated_at: Option<String>,
    /// Who saved it.
    pub updated_by: Option<String>,
}

fn known_name(name: &str) -> Result<&'static str, ApiError> {
    POLICY_NAMES
        .into_iter()
        .find(|n| *n == name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no policy named {name:?}; the policies are ci and admission"),
            )
        })
}

fn named(name: &'static str, stored: Option<StoredPolicy>) -> Result<NamedPolicy, ApiError> {
    Ok(match stored {
        Some(p) => NamedPolicy {
            name,
            policy: serde_json::from_value(p.body).map_err(|e| {
                ApiError::internal(format!("the stored {name} policy does not decode: {e}"))
            })?,
            updated_at: Some(holdfast_store::rfc3339(p.updated_at)),
            updated_by: Some(p.updated_by),
        },
        None => NamedPolicy {
            name,
            policy: VerdictPolicy::default(),
            updated_at: None,
            updated_by: None,
        },
    })
}

/// Every policy, stored or default.
pub async fn policies(state: &AppState) -> Result<Vec<NamedPolicy>, ApiError> {
    let stored = state.store.policies().await.map_err(ApiError::store)?;
    POLICY_NAMES
        .into_iter()
        .map(|name| named(name, stored.iter().find(|p| p.name == name).cloned()))
        .collect()
}

/// One policy, stored or default.
pub async fn policy(state: &AppState, name: &str) -> Result<NamedPolicy, ApiError> {
    let name = known_name(name)?;
    named(
        name,
        state.store.policy(name).await.map_err(ApiError::store)?,
    )
}

/// Saves a policy and audits it.
pub async fn save_policy(
    state: &AppState,
    actor: &str,
    name: &str,
    policy: VerdictPolicy,
) -> Result<NamedPolicy, ApiError> {
    let name = known_name(name)?;
    let body = serde_json::to_value(policy).expect("a policy serialises");
    let stored = state
        .store
        .put_policy(name, &body, actor)
        .await
        .map_err(ApiError::store)?;
    state.admission.changed();
    audit(
        state,
        actor,
        "policy.update",
        json!({ "name": name, "policy": body }),
    )
    .await;
    named(name, Some(stored))
}

/// Adds an exception and audits it.
pub async fn add_exception(
    state: &AppState,
    actor: &str,
    new: &NewException,
) -> Result<Exception, ApiError> {
    if new.advisory.trim().is_empty() || new.reason.trim().is_empty() || new.owner.trim().is_empty()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "an exception needs an advisory, a reason and an owner",
        ));
    }
    let e = state
        .store
        .create_exception(new, actor)
        .await
        .map_err(ApiError::store)?;
    state.admission.changed();
    audit(
        state,
        actor,
        "exception.create",
        serde_json::to_value(&e).expect("serialises"),
    )
    .await;
    Ok(e)
}

/// Removes an exception and audits it; 404 when there is none with this id.
pub async fn remove_exception(state: &AppState, actor: &str, id: &str) -> Result<(), ApiError> {
    if !state
        .store
        .delete_exception(id)
        .await
        .map_err(ApiError::store)?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no exception with this id",
        ));
    }
    state.admission.changed();
    audit(state, actor, "exception.delete", json!({ "id": id })).await;
    Ok(())
}

/// Records a change; a failure to record is logged, not returned (the change is made).
pub async fn audit(state: &AppState, actor: &str, action: &str, detail: Value) {
    if let Err(e) = state.store.audit(actor, action, &detail).await {
        tracing::warn!("cannot write the audit entry {action}: {e}");
    }
}
