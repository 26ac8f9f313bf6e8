//! Kubernetes manifests parsed into `kubernetes` input documents (`docs/checks.md`): one
//! per object, with the pod template of every workload kind brought to one place.

use serde::Serialize;
use serde_json::{json, Value};

/// One object of a manifest: the `kubernetes` input document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KubeObject {
    /// Always `kubernetes`.
    pub kind: &'static str,
    /// The file, as the scan names it.
    pub path: String,
    /// The YAML document's position in the file, from 0.
    pub document: usize,
    /// The line the document starts on.
    pub line: u32,
    /// The object as written.
    pub object: Value,
    /// `kind`, `name` and `namespace` of the object.
    pub workload: Workload,
    /// The pod template's metadata, for kinds that run pods.
    pub pod_metadata: Value,
    /// The pod template's spec, for kinds that run pods.
    pub pod_spec: Value,
    /// Containers, init containers and ephemeral containers, each with `type` and `index`.
    pub containers: Vec<Value>,
}

/// What an object is called.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Workload {
    /// The object's `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
}

impl KubeObject {
    /// `Kind/name`, as evidence names the object.
    pub fn label(&self) -> String {
        format!("{}/{}", self.workload.kind, self.workload.name)
    }
}

/// A document that is not a Kubernetes object or could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentError {
    /// The line the document starts on.
    pub line: u32,
    /// What was wrong.
    pub message: String,
}

/// Everything read from one YAML or JSON file.
#[derive(Debug, Default)]
pub struct Manifest {
    /// The Kubernetes objects, in file order.
    pub objects: Vec<KubeObject>,
    /// Documents that could not be parsed.
    pub errors: Vec<DocumentError>,
    /// Documents that parsed but are not Kubernetes objects (no `apiVersion` and `kind`).
    pub other_documents: usize,
}

/// Most objects read from one file (a `List`'s items count): a guard against hostile input.
pub const MAX_OBJECTS: usize = 10_000;

/// Reads every document of a manifest. Documents are separated by `---` lines; a `List`
/// (any kind ending in `List` with `items`) gives its items.
pub fn parse(path: &str, text: &str) -> Manifest {
    let mut manifest = Manifest::default();
    for (index, (line, doc)) in split_documents(text).into_iter().enumerate() {
        if doc.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_norway::from_str(&doc) {
            Ok(v) => v,
            Err(e) => {
                manifest.errors.push(DocumentError {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        let items = match value.get("items").and_then(Value::as_array) {
            Some(items) if is_list(&value) => items.clone(),
            _ => vec![value],
        };
        for item in items {
            if manifest.objects.len() >= MAX_OBJECTS {
                manifest.errors.push(DocumentError {
                    line,
                    message: format!("more than {MAX_OBJECTS} objects; the rest are skipped"),
                });
                return manifest;
            }
            match object(path, index, line, item) {
                Some(o) => manifest.objects.push(o),
                None => manifest.other_documents += 1,
            }
        }
    }
    manifest
}

fn is_list(value: &Value) -> bool {
    value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
}

/// Splits on `---` lines, giving each document's first line (1-based).
fn split_documents(text: &str) -> Vec<(u32, String)> {
    let mut docs = Vec::new();
    let mut start = 1u32;
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let is_separator = line.starts_with("---")
            && line[3..]
                .trim_start()
                .chars()
                .next()
                .is_none_or(|c| c == '#');
        if is_separator {
            docs.push((start, std::mem::take(&mut current)));
            start = i as u32 + 2;
        } else if line.starts_with("...") && line.trim_end() == "..." {
            continue;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push((start, current));
    docs
}

/// A pod read from a live cluster as the document of the workload that owns it: `workload`
/// names the owner (a Deployment's pods are judged as the Deployment, so checks that
/// depend on the kind, such as probes for Jobs, see the owner), the pod spec is the one
/// the cluster runs. `None` when `pod` is not a Kubernetes object.
pub fn live_pod(path: &str, pod: Value, workload: Workload) -> Option<KubeObject> {
    let mut object = object(path, 0, 0, pod)?;
    object.workload = workload;
    Some(object)
}

fn object(path: &str, document: usize, line: u32, value: Value) -> Option<KubeObject> {
    let kind = value.get("kind")?.as_str()?.to_string();
    value.get("apiVersion")?.as_str()?;
    let metadata = value.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let workload = Workload {
        name: text("name").unwrap_or_default(),
        namespace: text("namespace"),
        kind,
    };
    let template = pod_template(&workload.kind, &value);
    let (pod_metadata, pod_spec) = match template {
        Some((m, s)) => (m.clone(), s.clone()),
        None => (Value::Null, Value::Null),
    };
    let containers = containers(&pod_spec);
    Some(KubeObject {
        kind: "kubernetes",
        path: path.to_string(),
        document,
        line,
        object: value,
        workload,
        pod_metadata,
        pod_spec,
        containers,
    })
}

/// The pod template's metadata and spec of every kind that runs pods.
fn pod_template<'a>(kind: &str, value: &'a Value) -> Option<(&'a Value, &'a Value)> {
    let null = &Value::Null;
    let spec = value.get("spec")?;
    match kind {
        "Pod" => Some((value.get("metadata").unwrap_or(null), spec)),
        "Deployment"
        | "ReplicaSet"
        | "ReplicationController"
        | "StatefulSet"
        | "DaemonSet"
        | "Job" => {
            let t = spec.get("template")?;
            Some((t.get("metadata").unwrap_or(null), t.get("spec")?))
        }
        "CronJob" => {
            let t = spec.get("jobTemplate")?.get("spec")?.get("template")?;
            Some((t.get("metadata").unwrap_or(null), t.get("spec")?))
        }
        _ => None,
    }
}

fn containers(pod_spec: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for (key, kind) in [
        ("containers", "container"),
        ("initContainers", "init"),
        ("ephemeralContainers", "ephemeral"),
    ] {
        let Some(list) = pod_spec.get(key).and_then(Value::as_array) else {
            continue;
        };
        for (index, c) in list.iter().enumerate() {
            let mut c = match c {
                Value::Object(_) => c.clone(),
                _ => json!({}),
            };
            c["type"] = json!(kind);
            c["index"] = json!(index);
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_pod_templates() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n\
            apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: ops}\n\
            spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
            containers: [{name: job, image: busybox}]\n          initContainers: [{name: init, image: busybox}]\n\
            --- # a list\nkind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c}]}}\n\
            ---\nnot: kubernetes\n---\n: [bad\n";
        let m = parse("all.yaml", text);
        assert_eq!(m.objects.len(), 3);
        assert_eq!(m.other_documents, 1);
        assert_eq!(m.errors.len(), 1);
        assert_eq!(m.errors[0].line, 23);
        let service = &m.objects[0];
        assert!(service.pod_spec.is_null() && service.containers.is_empty());
        let cron = &m.objects[1];
        assert_eq!(cron.line, 5);
        assert_eq!(cron.workload.namespace.as_deref(), Some("ops"));
        assert_eq!(cron.containers[1]["type"], "init");
        assert_eq!(cron.containers[1]["name"], "init");
        let pod = &m.objects[2];
        assert_eq!(pod.line, 16);
        assert_eq!(pod.label(), "Pod/p");
        assert_eq!(pod.containers[0]["index"], 0);
    }
}
