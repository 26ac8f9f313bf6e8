//! `scan cluster` end to end: the test API server holds a small cluster whose pods run
//! images of a real `docker-registry` with htpasswd auth over TLS; the pods' pull secret
//! lets holdfast in, a missing one is a per-image error, a skipped registry is said, and
//! the Ingress makes the web pods public.

use std::process::Command;

use holdfast_test_apiserver::ApiServer;

use crate::common::*;
use crate::registry::{make_tls, push, run_holdfast, start, tools_ready, PASSWORD, USER};

fn manifest_digest(host: &str, image: &str, ca_dir: &std::path::Path) -> String {
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--creds"])
        .arg(format!("{USER}:{PASSWORD}"))
        .arg(format!("docker://{host}/{image}"))
        .env("HOME", ca_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["Digest"].as_str().unwrap().to_string()
}

#[test]
fn pods_images_pull_secrets_and_exposure() {
    if !tools_ready(&["openssl", "htpasswd"]) {
        return;
    }
    let d = temp();
    let tls = make_tls(d.path());
    let reg = start(Some(&tls));
    let web = d.path().join("web.tar");
    docker_archive(&web, &crate::registry::app_layers("webapp"), Z::Gzip, &[]);
    let creds = format!("{USER}:{PASSWORD}");
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&web)),
        "private/web:1",
        &["--dest-creds", &creds],
    );
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&web)),
        "private/api:2",
        &["--dest-creds", &creds],
    );
    let digest = manifest_digest(&reg.host, "private/web:1", d.path());
    let host = &reg.host;
    let auth = {
        use base64::Engine;
        let e = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        e(format!(
            r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
            e(creds.as_bytes())
        )
        .as_bytes())
    };
    let web_pod = |name: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: web}}\n  ownerReferences:\n  - {{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c, uid: u1, controller: true}}\n\
             spec:\n  imagePullSecrets: [{{name: regcred}}]\n  containers:\n  - {{name: web, image: '{host}/private/web:1'}}\n\
             status:\n  containerStatuses:\n  - {{name: web, image: '{host}/private/web:1', imageID: '{host}/private/web@{digest}', ready: true, restartCount: 0}}\n"
        )
    };
    let fixture = format!(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata: {{name: regcred, namespace: shop}}\ndata: {{.dockerconfigjson: {auth}}}\n\
         ---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d9c\n  namespace: shop\n  ownerReferences:\n  - {{apiVersion: apps/v1, kind: Deployment, name: web, uid: u0, controller: true}}\n\
         {}{}\
         ---\napiVersion: v1\nkind: Pod\nmetadata: {{name: api-1, namespace: shop}}\nspec:\n  imagePullSecrets: [{{name: missing}}]\n  containers:\n  - {{name: api, image: '{host}/private/api:2'}}\n\
         ---\napiVersion: v1\nkind: Pod\nmetadata: {{name: tool, namespace: shop}}\nspec:\n  containers:\n  - {{name: tool, image: 'quay.io/team/tool:1'}}\n\
         ---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec: {{selector: {{app: web}}}}\n\
         ---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\nmetadata:\n  name: web-q8\n  namespace: shop\n  labels: {{kubernetes.io/service-name: web}}\nendpoints:\n- addresses: [10.0.0.1]\n  targetRef: {{kind: Pod, name: web-5d9c-a, namespace: shop}}\n- addresses: [10.0.0.2]\n  targetRef: {{kind: Pod, name: web-5d9c-b, namespace: shop}}\n\
         ---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: web, namespace: shop}}\nspec:\n  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}\n",
        web_pod("web-5d9c-a"),
        web_pod("web-5d9c-b"),
    );
    let server = ApiServer::start(&fixture);
    let kubeconfig = server.kubeconfig(d.path());
    let out = run_holdfast(
        &[
            "scan",
            "cluster",
            "--kubeconfig",
            &path_str(&kubeconfig),
            "--registry-ca",
            &path_str(&tls.ca),
            "--scanners",
            "vuln",
            "--no-cache",
            "-f",
            "json",
        ],
        None,
        &[("DISABLE_QUAYIO_SCAN", "true")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(PASSWORD), "the registry password leaked");

    let cluster = &r["cluster"];
    assert_eq!(cluster["context"], "test");
    let pods = cluster["pods"].as_array().unwrap();
    assert_eq!(pods.len(), 4);
    let pod = |name: &str| pods.iter().find(|p| p["name"] == name).unwrap();

    // The web image, pulled by digest with the pods' pull secret, scanned once for both.
    let target = format!("{host}/private/web@{digest}");
    assert_eq!(pod("web-5d9c-a")["images"][0]["target"], target.as_str());
    assert_eq!(pod("web-5d9c-b")["images"][0]["target"], target.as_str());
    assert_eq!(pod("web-5d9c-a")["owner"]["kind"], "Deployment");
    let targets = r["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{targets:#?}");
    assert_eq!(targets[0]["name"], target.as_str());
    let (local, _) = sbom_json(&format!("docker-archive:{}", path_str(&web)), &[]);
    let scanned = serde_json::json!({"targets": [targets[0].clone()]});
    assert_eq!(package_list(&scanned), package_list(&local));

    // The Ingress reaches the web pods, nothing else.
    assert_eq!(pod("web-5d9c-a")["is_public"], true);
    assert_eq!(
        pod("web-5d9c-a")["exposure"][0],
        "Ingress shop/web → Service shop/web → EndpointSlice shop/web-q8 → Pod shop/web-5d9c-a"
    );
    assert_eq!(pod("api-1")["is_public"], false);

    // The api pod's secret is missing: said, and its image failed without credentials;
    // the quay.io image is skipped, as DISABLE_QUAYIO_SCAN asks.
    let errors: Vec<String> = cluster["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["image"].as_str().unwrap_or("-"),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    let api = format!("{host}/private/api:2");
    assert!(
        errors
            .iter()
            .any(|e| e == &format!("{api} pull secret `shop/missing` does not exist")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{api} cannot open"))),
        "{errors:#?}"
    );
    assert!(
        errors.contains(&"quay.io/team/tool:1 not scanned: its registry is skipped".to_string()),
        "{errors:#?}"
    );
    assert!(pod("api-1")["images"][0].get("target").is_none());

    // The table ends with the cluster: the public pods, then what went wrong.
    let out = run_holdfast(
        &[
            "-q",
            "scan",
            "cluster",
            "--kubeconfig",
            &path_str(&kubeconfig),
            "--registry-ca",
            &path_str(&tls.ca),
            "--scanners",
            "vuln",
            "--no-cache",
            "--skip-registry",
            "quay.io",
        ],
        None,
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Cluster test: 4 pods, 2 public, 1 image scanned, 3 errors"),
        "{table}"
    );
    assert!(table.contains("  public: shop/web-5d9c-a ("), "{table}");
    assert!(table.contains("  error: shop api-1 "), "{table}");

    // The API server was asked for secrets by name only.
    assert!(!server
        .requests()
        .iter()
        .any(|r| r.contains("/secrets?") || r.ends_with("/secrets")));
}

/// `compliance kubernetes --cluster` judges the pod specs the cluster runs, once per
/// workload (two pods of one Deployment are one target, named after the Deployment), and
/// pulls no image.
#[test]
fn compliance_judges_the_pod_specs_a_cluster_runs() {
    let d = temp();
    let pod = |name: &str, owned: bool, spec: &str| {
        let owner = if owned {
            "  ownerReferences:\n  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c, uid: u1, controller: true}\n"
        } else {
            ""
        };
        format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n{owner}spec:\n{spec}")
    };
    let weak = "  hostNetwork: true\n  containers:\n  - name: web\n    image: registry.invalid/web:1\n    securityContext: {privileged: true}\n";
    let hardened = "  automountServiceAccountToken: false\n  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: api\n    image: registry.invalid/api@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    imagePullPolicy: Always\n    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}\n    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}\n    livenessProbe: {httpGet: {path: /, port: 8080}}\n    readinessProbe: {httpGet: {path: /, port: 8080}}\n";
    let fixture = format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d9c\n  namespace: shop\n  ownerReferences:\n  - {{apiVersion: apps/v1, kind: Deployment, name: web, uid: u0, controller: true}}\n{}{}{}",
        pod("web-5d9c-a", true, weak),
        pod("web-5d9c-b", true, weak),
        pod("hardened", false, hardened),
    );
    let server = ApiServer::start(&fixture);
    let kubeconfig = server.kubeconfig(d.path());
    let result = run_json(
        holdfast()
            .args([
                "compliance",
                "kubernetes",
                "--cluster",
                "-f",
                "json",
                "--kubeconfig",
            ])
            .arg(&kubeconfig),
    );
    let targets = result["targets"].as_array().unwrap();
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with(": Deployment shop/web"), "{names:?}");
    assert!(names[1].ends_with(": Pod shop/hardened"), "{names:?}");
    let failed = |t: &serde_json::Value| -> Vec<String> {
        t["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "WARN")
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let web = failed(&targets[0]);
    for id in [
        "PSS-BASELINE-PRIVILEGED-CONTAINERS",
        "PSS-BASELINE-HOST-NAMESPACES",
        "HF-K8S-PRIVILEGED",
        "HF-K8S-HOST-NETWORK",
    ] {
        assert!(web.contains(&id.to_string()), "{id} not in {web:?}");
    }
    let evidence = targets[0]["findings"].as_array().unwrap();
    assert!(evidence.iter().any(|f| f["evidence"]
        .as_str()
        .unwrap()
        .starts_with("Deployment/web")));
    assert_eq!(
        failed(&targets[1]),
        Vec::<String>::new(),
        "the hardened pod"
    );
    assert!(targets[1]["checks"].as_array().unwrap().len() > 40);
    // No image was scanned: the registry does not even exist.
    assert!(targets.iter().all(|t| t["kind"] == "config"));
    assert!(result["cluster"]["pods"].as_array().unwrap().len() == 3);
}
