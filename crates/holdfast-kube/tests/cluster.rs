//! `discover` against the test API server holding a generated cluster: 20 namespaces of
//! 15 pods (a Deployment's, a StatefulSet's, a CronJob's, a bare pod, one pulling with
//! secrets), services, slices, ingresses, an HTTPRoute and broken references.

use holdfast_kube::{discover, ClusterOptions};
use holdfast_test_apiserver::ApiServer;

const WEB: &str = "127.0.0.1:5000/team/web:1";
const WEB_DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const DB_DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn pod(
    ns: &str,
    name: &str,
    owner: Option<(&str, &str)>,
    labels: &str,
    spec: &str,
    status: &str,
) -> String {
    let owner = owner
        .map(|(kind, n)| {
            format!("  ownerReferences:\n  - {{apiVersion: v1, kind: {kind}, name: {n}, uid: u-{n}, controller: true}}\n")
        })
        .unwrap_or_default();
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{{labels}}}\n{owner}spec:\n{spec}status:\n{status}"
    )
}

/// The fixture cluster, as YAML.
fn cluster() -> String {
    let mut y = String::new();
    // Pull secrets: one good of each format; `missing` is named but absent; `nokey` lacks
    // the key its type needs.
    let good = base64("{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"dTpw\"}}}");
    let legacy = base64("{\"legacy.example:5000\": {\"auth\": \"dTpw\"}}");
    for i in 0..20 {
        let ns = format!("ns-{i:02}");
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"
        ));
        y.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-7d9f\n  namespace: {ns}\n  ownerReferences:\n  - {{apiVersion: apps/v1, kind: Deployment, name: web, uid: u-web, controller: true}}\n"
        ));
        y.push_str(&format!(
            "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: nightly-29000\n  namespace: {ns}\n  ownerReferences:\n  - {{apiVersion: batch/v1, kind: CronJob, name: nightly, uid: u-cj, controller: true}}\n"
        ));
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata: {{name: regcred, namespace: {ns}}}\ndata: {{.dockerconfigjson: {good}}}\n\
             ---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockercfg\nmetadata: {{name: legacy, namespace: {ns}}}\ndata: {{.dockercfg: {legacy}}}\n\
             ---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata: {{name: nokey, namespace: {ns}}}\ndata: {{other: e30=}}\n\
             ---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: builder, namespace: {ns}}}\nimagePullSecrets: [{{name: legacy}}, {{name: missing}}]\n"
        ));
        let mut slice_eps = String::new();
        for p in 0..10 {
            let name = format!("web-7d9f-{p:05}");
            slice_eps.push_str(&format!(
                "- addresses: [10.0.{i}.{p}]\n  targetRef: {{kind: Pod, name: {name}, namespace: {ns}}}\n"
            ));
            y.push_str(&pod(
                &ns,
                &name,
                Some(("ReplicaSet", "web-7d9f")),
                "app: web",
                &format!("  containers:\n  - {{name: web, image: \"{WEB}\"}}\n"),
                &format!("  containerStatuses:\n  - {{name: web, image: \"{WEB}\", imageID: \"docker-pullable://127.0.0.1:5000/team/web@{WEB_DIGEST}\", ready: true, restartCount: 0}}\n"),
            ));
        }
        for p in 0..2 {
            y.push_str(&pod(
                &ns,
                &format!("db-{p}"),
                Some(("StatefulSet", "db")),
                "app: db",
                "  containers:\n  - {name: db, image: \"postgres:15\"}\n",
                &format!("  containerStatuses:\n  - {{name: db, image: \"postgres:15\", imageID: \"docker.io/library/postgres@{DB_DIGEST}\", ready: true, restartCount: 0}}\n"),
            ));
        }
        y.push_str(&pod(
            &ns,
            "nightly-29000-abcde",
            Some(("Job", "nightly-29000")),
            "app: nightly",
            "  containers:\n  - {name: job, image: \"quay.io/team/tool:2\"}\n",
            "  phase: Succeeded\n",
        ));
        y.push_str(&pod(
            &ns,
            "debug",
            None,
            "app: debug",
            "  initContainers:\n  - {name: setup, image: \"busybox:1.36\"}\n  containers:\n  - {name: shell, image: \"busybox:1.36\"}\n",
            "  phase: Running\n",
        ));
        y.push_str(&pod(
            &ns,
            "builder",
            None,
            "app: builder",
            "  serviceAccountName: builder\n  imagePullSecrets: [{name: regcred}, {name: nokey}]\n  containers:\n  - {name: build, image: \"127.0.0.1:5000/team/builder:3\"}\n",
            "  phase: Running\n",
        ));
        y.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\nspec: {{type: ClusterIP, selector: {{app: web}}, ports: [{{port: 80}}]}}\n\
             ---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\nmetadata:\n  name: web-x7k2\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: web}}\nendpoints:\n{slice_eps}\
             ---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  rules:\n  - host: web.example\n    http:\n      paths:\n      - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}\n\
             ---\napiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: {ns}}}\nspec: {{type: NodePort, selector: {{app: db}}, ports: [{{port: 5432, nodePort: 30432}}]}}\n\
             ---\napiVersion: v1\nkind: Endpoints\nmetadata: {{name: db, namespace: {ns}}}\nsubsets:\n- addresses:\n  - {{ip: 10.1.{i}.1, targetRef: {{kind: Pod, name: db-0, namespace: {ns}}}}}\n  - {{ip: 10.1.{i}.2, targetRef: {{kind: Pod, name: db-1, namespace: {ns}}}}}\n"
        ));
    }
    // ns-00 only: an HTTPRoute to the debug pod's Service, and an Ingress to nowhere.
    y.push_str(
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: debug, namespace: ns-00}\nspec: {type: ClusterIP, selector: {app: debug}}\n\
         ---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\naddressType: IPv4\nmetadata:\n  name: debug-1\n  namespace: ns-00\n  labels: {kubernetes.io/service-name: debug}\nendpoints:\n- addresses: [10.9.0.1]\n  targetRef: {kind: Pod, name: debug, namespace: ns-00}\n\
         ---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: debug, namespace: ns-00}\nspec:\n  parentRefs: [{name: public}]\n  rules:\n  - backendRefs: [{name: debug, port: 80}]\n\
         ---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: broken, namespace: ns-00}\nspec:\n  defaultBackend: {service: {name: nope, port: {number: 80}}}\n",
    );
    y
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn options(server: &ApiServer, dir: &std::path::Path) -> ClusterOptions {
    ClusterOptions {
        kubeconfig: Some(server.kubeconfig(dir)),
        page_size: Some(100),
        ..ClusterOptions::default()
    }
}

#[test]
fn a_cluster_of_300_pods() {
    let server = ApiServer::start(&cluster());
    let dir = tempfile::tempdir().unwrap();
    let inventory = discover(&ClusterOptions {
        skip_registries: vec!["quay.io".into()],
        ..options(&server, dir.path())
    })
    .unwrap();
    assert_eq!(inventory.context, "test");
    assert_eq!(inventory.pods.len(), 300);

    // Owners through their controllers.
    let owner = |ns: &str, name: &str| {
        let p = inventory
            .pods
            .iter()
            .find(|p| p.namespace == ns && p.name == name)
            .unwrap_or_else(|| panic!("{ns}/{name}"));
        p.owner.as_ref().map(|o| format!("{}/{}", o.kind, o.name))
    };
    assert_eq!(
        owner("ns-03", "web-7d9f-00004").as_deref(),
        Some("Deployment/web")
    );
    assert_eq!(owner("ns-03", "db-1").as_deref(), Some("StatefulSet/db"));
    assert_eq!(
        owner("ns-03", "nightly-29000-abcde").as_deref(),
        Some("CronJob/nightly")
    );
    assert_eq!(owner("ns-03", "debug"), None);

    // Each image once, by digest when the node resolved it.
    let refs: Vec<&str> = inventory
        .images
        .iter()
        .map(|i| i.reference.as_str())
        .collect();
    assert_eq!(
        refs,
        [
            format!("127.0.0.1:5000/team/web@{WEB_DIGEST}").as_str(),
            format!("docker.io/library/postgres@{DB_DIGEST}").as_str(),
            "quay.io/team/tool:2",
            "busybox:1.36",
            "127.0.0.1:5000/team/builder:3",
        ],
    );
    assert!(inventory.images[2].skipped);
    assert!(!inventory.images[0].skipped);
    let debug = inventory.pods.iter().find(|p| p.name == "debug").unwrap();
    assert_eq!(debug.images[0].container, "init:setup");

    // Pull secrets: the pod's and its service account's, merged; the broken ones named.
    let builder = &inventory.images[4];
    let config: serde_json::Value =
        serde_json::from_str(builder.docker_config.as_deref().unwrap()).unwrap();
    assert!(config["auths"]["127.0.0.1:5000"].is_object());
    assert!(config["auths"]["legacy.example:5000"].is_object());
    let messages: Vec<&str> = inventory
        .errors
        .iter()
        .filter(|e| e.pod.as_deref() == Some("builder") && e.namespace.as_deref() == Some("ns-07"))
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        messages.contains(&"pull secret `ns-07/missing` does not exist"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"pull secret `ns-07/nokey` has no `.dockerconfigjson` key"),
        "{messages:?}"
    );
    let log = server.requests();
    assert!(
        !log.iter()
            .any(|r| r.starts_with("GET /api/v1/secrets") || r.contains("/secrets?")),
        "secrets are read by name, never listed"
    );
    assert!(log
        .iter()
        .any(|r| r == "GET /api/v1/namespaces/ns-07/secrets/regcred"));
    // Each secret read once per namespace, not once per pod.
    assert_eq!(
        log.iter()
            .filter(|r| *r == "GET /api/v1/namespaces/ns-07/secrets/regcred")
            .count(),
        1
    );
    // Pods came in pages of 100.
    assert!(
        log.iter()
            .any(|r| r.starts_with("GET /api/v1/pods?") && r.contains("continue=")),
        "{log:?}"
    );

    // Exposure: the Ingress's web pods, the NodePort's db pods (through legacy
    // Endpoints), the HTTPRoute's debug pod in ns-00; not the bare pod elsewhere.
    let web = inventory
        .pods
        .iter()
        .find(|p| p.namespace == "ns-05" && p.name == "web-7d9f-00001")
        .unwrap();
    assert!(web.is_public);
    assert_eq!(
        web.exposure,
        ["Ingress ns-05/web → Service ns-05/web → EndpointSlice ns-05/web-x7k2 → Pod ns-05/web-7d9f-00001"]
    );
    let db = inventory
        .pods
        .iter()
        .find(|p| p.namespace == "ns-05" && p.name == "db-0")
        .unwrap();
    assert_eq!(
        db.exposure,
        ["NodePort Service ns-05/db → Endpoints ns-05/db → Pod ns-05/db-0"]
    );
    let public_debug: Vec<&str> = inventory
        .pods
        .iter()
        .filter(|p| p.name == "debug" && p.is_public)
        .map(|p| p.namespace.as_str())
        .collect();
    assert_eq!(public_debug, ["ns-00"]);
    assert!(inventory.errors.iter().any(
        |e| e.message == "Ingress ns-00/broken names Service ns-00/nope, which does not exist"
    ));
    let public = inventory.pods.iter().filter(|p| p.is_public).count();
    assert_eq!(public, 20 * 12 + 1);
}

#[test]
fn one_namespace_selected_pods_and_an_unreachable_cluster() {
    let server = ApiServer::start(&cluster());
    let dir = tempfile::tempdir().unwrap();
    let inventory = discover(&ClusterOptions {
        namespace: Some("ns-02".into()),
        selector: Some("app=db".into()),
        ..options(&server, dir.path())
    })
    .unwrap();
    let names: Vec<&str> = inventory.pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["db-0", "db-1"]);
    assert!(server
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /api/v1/namespaces/ns-02/pods?")));

    let err = discover(&ClusterOptions {
        context: Some("other".into()),
        ..options(&server, dir.path())
    })
    .unwrap_err();
    assert!(err.to_string().contains("cannot list pods"), "{err}");
}
