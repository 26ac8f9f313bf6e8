//! Pods, their owners and their images.

use std::collections::HashMap;

use holdfast_model::{ClusterError, ClusterPod, PodImage, PodOwner};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodSpec, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ListParams};
use kube::Client;

use crate::secrets::Secrets;
use crate::{ClusterImage, ClusterInventory, ClusterOptions, KubeError, WorkloadSpec};

/// The registry host of an image reference, as the container runtime resolves it:
/// `docker.io` when the first component is not a host.
pub fn registry_host(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

/// `repo@sha256:...` out of a container status' `imageID` (`docker-pullable://` and
/// `docker://` prefixes dropped); `None` for a bare image id.
fn pullable(image_id: &str) -> Option<(&str, &str)> {
    let id = image_id
        .strip_prefix("docker-pullable://")
        .or_else(|| image_id.strip_prefix("docker://"))
        .unwrap_or(image_id);
    let (repo, digest) = id.split_once('@')?;
    (!repo.is_empty() && digest.starts_with("sha256:")).then_some((repo, digest))
}

/// Looks owners up once each.
struct Owners {
    client: Client,
    found: HashMap<(String, String, String), Option<PodOwner>>,
}

impl Owners {
    /// The workload behind a pod's controller reference: a ReplicaSet's Deployment, a
    /// Job's CronJob, else the controller itself.
    async fn of(&mut self, ns: &str, reference: &OwnerReference) -> PodOwner {
        let own = PodOwner {
            kind: reference.kind.clone(),
            name: reference.name.clone(),
        };
        let key = (
            ns.to_string(),
            reference.kind.clone(),
            reference.name.clone(),
        );
        if let Some(found) = self.found.get(&key) {
            return found.clone().unwrap_or(own);
        }
        let parent = match reference.kind.as_str() {
            "ReplicaSet" => Api::<ReplicaSet>::namespaced(self.client.clone(), ns)
                .get_opt(&reference.name)
                .await
                .ok()
                .flatten()
                .and_then(|rs| controller(&rs.metadata.owner_references)),
            "Job" => Api::<Job>::namespaced(self.client.clone(), ns)
                .get_opt(&reference.name)
                .await
                .ok()
                .flatten()
                .and_then(|job| controller(&job.metadata.owner_references)),
            _ => None,
        };
        let parent = parent.map(|p| PodOwner {
            kind: p.kind,
            name: p.name,
        });
        self.found.insert(key, parent.clone());
        parent.unwrap_or(own)
    }
}

fn controller(refs: &Option<Vec<OwnerReference>>) -> Option<OwnerReference> {
    refs.as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
        .cloned()
}

/// Every pod the options select, page by page.
async fn list_pods(client: &Client, options: &ClusterOptions) -> Result<Vec<Pod>, KubeError> {
    let api: Api<Pod> = match &options.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut params = ListParams::default();
    if let Some(selector) = &options.selector {
        params = params.labels(selector);
    }
    crate::list_paged(&api, params, options.page_size)
        .await
        .map_err(|e| KubeError::ListPods(e.to_string()))
}

/// Reads the pods and their images; exposure is added by the caller.
/// The pull secrets a pod may use: its own, then its service account's (read once per
/// account and kept in `accounts`), by name.
pub(crate) async fn pull_secret_names(
    client: &Client,
    ns: &str,
    spec: &PodSpec,
    accounts: &mut HashMap<(String, String), Vec<String>>,
) -> Vec<String> {
    let mut names: Vec<String> = spec
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();
    let account = spec
        .service_account_name
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "default".into());
    let key = (ns.to_string(), account.clone());
    if !accounts.contains_key(&key) {
        let found = Api::<ServiceAccount>::namespaced(client.clone(), ns)
            .get_opt(&account)
            .await
            .ok()
            .flatten()
            .map(|sa| {
                sa.image_pull_secrets
                    .iter()
                    .flatten()
                    .map(|r| r.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        accounts.insert(key.clone(), found);
    }
    for n in &accounts[&key] {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

pub(crate) async fn read(
    client: &Client,
    options: &ClusterOptions,
) -> Result<ClusterInventory, KubeError> {
    let pods = list_pods(client, options).await?;
    let mut owners = Owners {
        client: client.clone(),
        found: HashMap::new(),
    };
    let mut secrets = Secrets::new(client.clone());
    let mut accounts: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut inventory = ClusterInventory::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut workloads: HashMap<(String, String, String), usize> = HashMap::new();
    // A broken secret is said once per namespace and image, not once per pod.
    let mut reported = std::collections::HashSet::new();
    for pod in pods {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        if options.skip_namespaces.contains(&ns) {
            continue;
        }
        let owner = match controller(&pod.metadata.owner_references) {
            Some(r) => Some(owners.of(&ns, &r).await),
            None => None,
        };
        // One pod spec per workload for the configuration checks: its pods share a
        // template, and the first one met stands for them.
        let workload = match &owner {
            Some(o) => (ns.clone(), o.kind.clone(), o.name.clone()),
            None => (ns.clone(), "Pod".to_string(), name.clone()),
        };
        match workloads.get(&workload) {
            Some(&i) => inventory.workloads[i].pods += 1,
            None => {
                workloads.insert(workload.clone(), inventory.workloads.len());
                inventory.workloads.push(WorkloadSpec {
                    namespace: workload.0,
                    kind: workload.1,
                    name: workload.2,
                    pod: pod_document(&pod),
                    pods: 1,
                });
            }
        }
        let spec = pod.spec.clone().unwrap_or_default();
        let status = pod.status.clone().unwrap_or_default();
        let secret_names = pull_secret_names(client, &ns, &spec, &mut accounts).await;
        let containers = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| (format!("init:{}", c.name), c.name.clone(), c.image.clone()))
            .chain(
                spec.containers
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone(), c.image.clone())),
            );
        let statuses: Vec<&ContainerStatus> = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten())
            .collect();
        let mut images = Vec::new();
        for (label, container, reference) in containers {
            let Some(reference) = reference.filter(|r| !r.is_empty()) else {
                inventory.errors.push(ClusterError {
                    namespace: Some(ns.clone()),
                    pod: Some(name.clone()),
                    image: None,
                    message: format!("container `{container}` names no image"),
                });
                continue;
            };
            let resolved = statuses
                .iter()
                .find(|s| s.name == container)
                .and_then(|s| pullable(&s.image_id).map(|(r, d)| (r.to_string(), d.to_string())));
            let digest = resolved.as_ref().map(|(_, d)| d.clone());
            images.push(PodImage {
                container: label,
                reference: reference.clone(),
                digest: digest.clone(),
                target: None,
            });
            let host = registry_host(&reference);
            let skipped = options.skip_registries.contains(&host);
            let docker_config = if skipped {
                None
            } else {
                let (config, errors) = secrets.docker_config(&ns, &secret_names).await;
                for message in errors {
                    if !reported.insert((ns.clone(), reference.clone(), message.clone())) {
                        continue;
                    }
                    inventory.errors.push(ClusterError {
                        namespace: Some(ns.clone()),
                        pod: Some(name.clone()),
                        image: Some(reference.clone()),
                        message,
                    });
                }
                config
            };
            let key = ClusterInventory::image_key(&reference, digest.as_deref());
            match index.get(&key) {
                Some(&i) => {
                    let image = &mut inventory.images[i];
                    if image.docker_config.is_none() {
                        image.docker_config = docker_config;
                    }
                }
                None => {
                    index.insert(key.clone(), inventory.images.len());
                    inventory.images.push(ClusterImage {
                        key,
                        reference: match &resolved {
                            Some((repo, d)) => format!("{repo}@{d}"),
                            None => reference.clone(),
                        },
                        digest,
                        docker_config,
                        skipped,
                    });
                }
            }
        }
        inventory.pods.push(ClusterPod {
            namespace: ns,
            name,
            owner,
            images,
            is_public: false,
            exposure: Vec::new(),
        });
    }
    Ok(inventory)
}

/// The pod as the API gave it, without its status and managed fields (what the
/// configuration checks do not read, and most of its size).
fn pod_document(pod: &Pod) -> serde_json::Value {
    let mut doc = serde_json::to_value(pod).unwrap_or_default();
    if let Some(o) = doc.as_object_mut() {
        o.remove("status");
        o.insert("apiVersion".into(), "v1".into());
        o.insert("kind".into(), "Pod".into());
    }
    if let Some(m) = doc.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        m.remove("managedFields");
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_references() {
        assert_eq!(registry_host("nginx:1"), "docker.io");
        assert_eq!(registry_host("team/app"), "docker.io");
        assert_eq!(registry_host("quay.io/team/app:1"), "quay.io");
        assert_eq!(registry_host("127.0.0.1:5000/app"), "127.0.0.1:5000");
        assert_eq!(registry_host("localhost/app"), "localhost");
    }

    #[test]
    fn image_ids_that_can_be_pulled() {
        assert_eq!(
            pullable("docker-pullable://reg:5000/app@sha256:abc"),
            Some(("reg:5000/app", "sha256:abc"))
        );
        assert_eq!(
            pullable("reg:5000/app@sha256:abc"),
            Some(("reg:5000/app", "sha256:abc"))
        );
        assert_eq!(pullable("sha256:abc"), None);
        assert_eq!(pullable(""), None);
    }
}
