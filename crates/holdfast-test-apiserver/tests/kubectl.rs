//! kubectl itself reads the test API server: discovery, lists of the four kinds a cluster
//! scan reads, server-side tables, JSON, selectors, paging, and the errors' Status shapes.

use std::process::Command;

use holdfast_test_apiserver::ApiServer;

const FIXTURE: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: 'nginx:1.27'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: shop, labels: {app: db}}
spec: {containers: [{name: db, image: 'postgres:15'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: billing, labels: {app: api}}
spec: {containers: [{name: api, image: 'registry.local:5000/api:2'}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
addressType: IPv4
metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
endpoints:
- addresses: [10.0.0.1]
  targetRef: {kind: Pod, name: web-1, namespace: shop}
";

fn kubectl_found() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("HOLDFAST_FULL_TESTS").as_deref() != Ok("1"),
            "HOLDFAST_FULL_TESTS=1 but kubectl is not installed"
        );
        eprintln!("skipped: kubectl is not installed");
    }
    found
}

fn kubectl(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let home = config.parent().unwrap();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(config)
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(args)
        .env("HOME", home)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kubectl_reads_it() {
    if !kubectl_found() {
        return;
    }
    let server = ApiServer::start(FIXTURE);
    let dir = tempfile::tempdir().unwrap();
    let config = server.kubeconfig(dir.path());

    let (ok, out, err) = kubectl(
        &config,
        &["get", "pods,svc,ingress,endpointslices", "-A", "-o", "name"],
    );
    assert!(ok, "{err}");
    let mut names: Vec<&str> = out.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "endpointslice.discovery.k8s.io/web-abc",
            "ingress.networking.k8s.io/web",
            "pod/api-1",
            "pod/db-0",
            "pod/web-1",
            "service/web",
        ]
    );

    // The default, server-side table.
    let (ok, out, err) = kubectl(&config, &["get", "pods", "-n", "shop"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("NAME"), "{out}");
    assert!(
        out.contains("web-1") && out.contains("db-0") && !out.contains("api-1"),
        "{out}"
    );

    // JSON, a selector, and small pages joined by kubectl.
    let (ok, out, err) = kubectl(
        &config,
        &[
            "get",
            "pods",
            "-A",
            "-l",
            "app=web",
            "-o",
            "json",
            "--chunk-size",
            "1",
        ],
    );
    assert!(ok, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["items"][0]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let (ok, out, _) = kubectl(
        &config,
        &["get", "pods", "-A", "-o", "name", "--chunk-size", "1"],
    );
    assert!(ok);
    assert_eq!(out.lines().count(), 3);
    assert!(server.requests().iter().any(|r| r.contains("continue=")));

    // A missing object and a forbidden list, as kubectl words them.
    let (ok, _, err) = kubectl(&config, &["get", "pod", "nope", "-n", "shop"]);
    assert!(!ok);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );
    let (ok, _, err) = kubectl(&config, &["get", "secrets", "-A"]);
    assert!(!ok);
    assert!(
        err.contains("Forbidden") || err.contains("forbidden"),
        "{err}"
    );
}
