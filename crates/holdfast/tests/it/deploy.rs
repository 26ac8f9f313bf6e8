//! The Helm chart, the kustomize base and the Dockerfile: `scripts/check-deploy.sh` lints
//! and renders them with the real helm, kubectl and hadolint, and validates every rendered
//! object against the Kubernetes 1.33 schemas.

use std::process::Command;

use crate::common::*;

#[test]
fn chart_and_manifests_lint_render_and_validate() {
    if !["helm", "kubectl", "kubernetes-validate", "hadolint"]
        .iter()
        .all(|t| have_tool(t))
    {
        return;
    }
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/check-deploy.sh"))
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("all deploy checks passed"));
}
