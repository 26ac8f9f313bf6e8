//! `holdfast admission` over real TLS: AdmissionReview documents for pods and workloads
//! whose images live in a real `docker-registry`; a planted secret denies, a clean image
//! is allowed, the uid is echoed, and the denial names the image and the finding.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::registry::{free_port, make_tls, push, start, tools_ready};

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
    let base = debian_base(&[("libc6", "2.36-9+deb12u4")]);
    let bad = d.path().join("bad.tar");
    let secret = layer(&[f(
        "app/.env",
        "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HFIQR7XYZ\nAWS_SECRET_ACCESS_KEY=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\n",
    )]);
    docker_archive(&bad, &[base.clone(), secret], Z::Gzip, &[]);
    let good = d.path().join("good.tar");
    docker_archive(&good, &[base], Z::Gzip, &[]);
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
    let port = free_port();
    let child = holdfast()
        .args(["admission", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(&tls.cert)
        .arg("--tls-key")
        .arg(&tls.key)
        .arg("--policy")
        .arg(&policy)
        .spawn()
        .unwrap();
    let _webhook = Webhook(child);
    let url = format!("https://127.0.0.1:{port}/validate");
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
