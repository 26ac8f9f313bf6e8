//! `holdfast admission` over real TLS: AdmissionReview documents for pods and workloads
//! whose images live in a real `docker-registry`; a planted secret denies, a clean image
//! is allowed, the uid is echoed, and the denial names the image and the finding. Then
//! `kubectl create --dry-run=server` through the test API server, which calls the webhook
//! as a cluster would, with the images behind htpasswd and only the pods' pull secrets
//! to reach them.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use holdfast_test_apiserver::ApiServer;

use crate::common::*;
use crate::registry::{free_port, make_tls, push, start, tools_ready, PASSWORD, USER};

struct Webhook(Child);

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// POSTs `body` to the webhook over TLS (trusting the test CA) and parses the answer.
fn post(url: &str, ca: &std::path::Path, body: &serde_json::Value) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-s", "--fail-with-body", "--cacert"])
        .arg(ca)
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(body.to_string())
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Starts `holdfast admission` on a free port with `extra` arguments and waits until it
/// answers; returns it and its URL.
fn start_webhook(
    tls: &crate::registry::Tls,
    policy: &std::path::Path,
    extra: &[&str],
) -> (Webhook, String) {
    let port = free_port();
    let child = holdfast()
        .args(["admission", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(&tls.cert)
        .arg("--tls-key")
        .arg(&tls.key)
        .arg("--policy")
        .arg(policy)
        .args(extra)
        .env("DOCKER_CONFIG", env!("CARGO_TARGET_TMPDIR"))
        .spawn()
        .unwrap();
    let webhook = Webhook(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("curl")
        .args(["-sf", "--cacert"])
        .arg(&tls.ca)
        .arg(format!("https://127.0.0.1:{port}/healthz"))
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the webhook did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    (webhook, format!("https://127.0.0.1:{port}/validate"))
}

/// A layer with a planted AWS key pair in `/app/.env`.
pub(crate) fn aws_secret_layer() -> Vec<u8> {
    layer(&[f(
        "app/.env",
        "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7XYZ\nAWS_SECRET_ACCESS_KEY=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\n",
    )])
}

/// Two archives in `dir` on one Debian base: `bad.tar` adds the secret layer,
/// `good.tar` does not.
fn bad_and_good(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let base = debian_base(&[("libc6", "2.36-9+deb12u4")]);
    let bad = dir.join("bad.tar");
    docker_archive(&bad, &[base.clone(), aws_secret_layer()], Z::Gzip, &[]);
    let good = dir.join("good.tar");
    docker_archive(&good, &[base], Z::Gzip, &[]);
    (bad, good)
}

fn review(uid: &str, kind: &str, object: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": object,
        }
    })
}

fn pod(image: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": image}]},
    })
}

#[test]
fn pods_with_risky_images_are_denied_over_tls() {
    if !(tools_ready(&["openssl", "htpasswd", "curl"])) {
        return;
    }
    let d = temp();
    let tls = make_tls(d.path());
    let reg = start(None);
    let (bad, good) = bad_and_good(d.path());
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&bad)),
        "team/bad:1",
        &["--dest-tls-verify=false"],
    );
    push(
        &reg,
        &format!("docker-archive:{}", path_str(&good)),
        "team/good:1",
        &["--dest-tls-verify=false"],
    );

    let dir = d.path().display();
    let policy = d.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[log]\nplugin_log_path = \"{dir}/plugin.log\"\nreport_log_path = \"{dir}/auth.log\"\n\n\
             [[policies]]\naction = \"container_create\"\nenabled_plugins = [\"secret\"]\nrisk_level_filter = [\"High\", \"Critical\"]\nblock = true\nalert = true\n\n\
             [holdfast]\nfail_mode = \"closed\"\ntimeout = \"30s\"\ninsecure_registries = [\"{}\"]\ncache_dir = \"{dir}/cache\"\n",
            reg.host
        ),
    )
    .unwrap();
    let (_webhook, url) = start_webhook(&tls, &policy, &["--no-pull-secrets"]);

    // A pod running the image with a secret: denied, saying which image and why.
    let bad_ref = format!("{}/team/bad:1", reg.host);
    let answer = post(&url, &tls.ca, &review("u-1", "Pod", pod(&bad_ref)));
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["uid"], "u-1");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("holdfast: blocked {bad_ref} (container_create): ")),
        "{message}"
    );
    assert!(message.contains("/app/.env"), "{message}");
    assert_eq!(answer["response"]["status"]["code"], 403);

    // The clean image is allowed; so is an object with no pod template.
    let good_ref = format!("{}/team/good:1", reg.host);
    let answer = post(&url, &tls.ca, &review("u-2", "Pod", pod(&good_ref)));
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(answer["response"]["uid"], "u-2");
    let answer = post(
        &url,
        &tls.ca,
        &review("u-3", "ConfigMap", serde_json::json!({"data": {"a": "b"}})),
    );
    assert_eq!(answer["response"]["allowed"], true);

    // A Deployment whose template adds the bad image as an init container: denied,
    // from the cached verdict.
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "setup", "image": bad_ref}],
            "containers": [{"name": "web", "image": good_ref}],
        }}},
    });
    let answer = post(&url, &tls.ca, &review("u-4", "Deployment", deployment));
    assert_eq!(answer["response"]["allowed"], false, "{answer}");

    // Each decision is one line of the decision log, with the user and the object.
    let log = std::fs::read_to_string(d.path().join("auth.log")).unwrap();
    let decisions: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["event"] == "decision")
        .collect();
    assert!(
        decisions.iter().any(|e| e["user"] == "alice"
            && e["path"] == "Deployment shop/web"
            && e["verdict"] == "deny"
            && e["cached"] == true),
        "{decisions:#?}"
    );
}

/// `kubectl create --dry-run=server` of `yaml` through the test API server; its output.
fn kubectl_create(kubeconfig: &std::path::Path, yaml: &str) -> std::process::Output {
    output_with_input(
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["create", "--dry-run=server", "--validate=false", "-f", "-"]),
        yaml.as_bytes(),
    )
}

#[test]
fn kubectl_dry_run_goes_through_the_webhook_with_the_pods_pull_secrets() {
    if !(tools_ready(&["openssl", "htpasswd", "curl", "kubectl"])) {
        return;
    }
    let d = temp();
    let tls = make_tls(d.path());
    let reg = start(Some(&tls));
    let (bad, good) = bad_and_good(d.path());
    let creds = format!("{USER}:{PASSWORD}");
    for (tar, name) in [(&bad, "private/bad:1"), (&good, "private/good:1")] {
        push(
            &reg,
            &format!("docker-archive:{}", path_str(tar)),
            name,
            &["--dest-creds", &creds],
        );
    }
    let host = reg.host.clone();
    let b64 = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let auth = b64(format!(
        r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
        b64(creds.as_bytes())
    )
    .as_bytes());

    let dir = d.path().display();
    let policy = d.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[log]\nplugin_log_path = \"{dir}/plugin.log\"\nauth_log_path = \"{dir}/auth.log\"\n\n\
             [[policies]]\naction = \"container_create\"\nenabled_plugins = [\"secret\"]\nrisk_level_filter = [\"High\", \"Critical\"]\nblock = true\n\
             allowed_registries = [\"{host}/private\"]\n\n\
             [holdfast]\nfail_mode = \"closed\"\ntimeout = \"25s\"\nregistry_ca = \"{}\"\ncache_dir = \"{dir}/cache\"\n",
            tls.ca.display()
        ),
    )
    .unwrap();

    // The API server: the pull secret, a service account naming it, and the webhook.
    // It is started first, for the webhook's kubeconfig, and told about the webhook's
    // port by a configuration added once the port is known.
    let fixture = format!(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata: {{name: regcred, namespace: shop}}\ndata: {{.dockerconfigjson: {auth}}}\n\
         ---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: builder, namespace: shop}}\nimagePullSecrets: [{{name: regcred}}]\n"
    );
    let server = ApiServer::start(&fixture);
    let kubeconfig = server.kubeconfig(d.path());
    let (_webhook, url) = start_webhook(&tls, &policy, &["--kubeconfig", &path_str(&kubeconfig)]);
    server.add(serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "holdfast"},
        "webhooks": [{
            "name": "images.holdfast.dev",
            "clientConfig": {"url": url, "caBundle": b64(&std::fs::read(&tls.ca).unwrap())},
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "failurePolicy": "Fail", "timeoutSeconds": 30,
            "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]},
        }],
    }));
    let pod = |name: &str, account: &str, image: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  serviceAccountName: {account}\n  containers:\n  - {{name: app, image: '{image}'}}\n"
        )
    };

    // The image with a secret, pulled with the service account's pull secret: denied,
    // and kubectl says by whom and why.
    let bad_ref = format!("{host}/private/bad:1");
    let out = kubectl_create(&kubeconfig, &pod("bad", "builder", &bad_ref));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "admission webhook \"images.holdfast.dev\" denied the request: holdfast: blocked {bad_ref} (container_create): "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("/app/.env"), "{stderr}");
    assert!(!stderr.contains(PASSWORD));

    // The clean image is admitted, and a dry run stores nothing.
    let out = kubectl_create(
        &kubeconfig,
        &pod("good", "builder", &format!("{host}/private/good:1")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "pod/good created (server dry run)"
    );

    // Without the pull secret (the default service account names none) the registry
    // refuses the webhook, and fail_mode = closed denies.
    let out = kubectl_create(
        &kubeconfig,
        &pod("stranger", "default", &format!("{host}/private/good:1")),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("(fail_mode = closed)"), "{stderr}");
    assert!(stderr.contains("refused access"), "{stderr}");

    // An image from outside the allowed registries is refused by name.
    let out = kubectl_create(
        &kubeconfig,
        &pod("other", "builder", &format!("{host}/public/tool:1")),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not an allowed registry")
            || stderr.contains(&format!("allowed_registries: {host}/private")),
        "{stderr}"
    );

    // Secrets were read by name, never listed; nothing was stored.
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "GET /api/v1/namespaces/shop/secrets/regcred"),
        "{requests:#?}"
    );
    assert!(!requests
        .iter()
        .any(|r| r.contains("/secrets?") || r.ends_with("/secrets")));
    assert!(
        requests.iter().any(
            |r| r.starts_with("POST /api/v1/namespaces/shop/pods?") && r.contains("dryRun=All")
        ),
        "{requests:#?}"
    );
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "pods", "-n", "shop", "-o", "name"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
}
