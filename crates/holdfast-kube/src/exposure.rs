//! Which pods the internet reaches, and through what.
//!
//! An Ingress rule (networking.k8s.io/v1) or a Gateway API HTTPRoute names Services; a
//! Service reaches the pods its EndpointSlices list (the legacy Endpoints object when it
//! has no slices); LoadBalancer and NodePort Services are reachable themselves. Each
//! public pod keeps every chain that made it so, e.g. `Ingress shop/web → Service shop/web
//! → EndpointSlice shop/web-x7k2 → Pod shop/web-5d9c`. A rule naming a Service that does
//! not exist is reported, not followed.

use std::collections::{BTreeMap, HashMap};

use holdfast_model::{ClusterError, ClusterPod};
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::Client;
use serde::de::DeserializeOwned;

use crate::{list_paged, ClusterOptions};

/// Public pods with their chains, and what could not be read.
#[derive(Debug, Default)]
pub struct Exposure {
    /// `(namespace, pod)` → the chains that reach it.
    pub public: HashMap<(String, String), Vec<String>>,
    pub errors: Vec<ClusterError>,
}

/// A Service's pods, each with the object that listed it.
type Backends = HashMap<(String, String), Vec<(String, String)>>;

async fn list<K>(
    client: &Client,
    options: &ClusterOptions,
    what: &str,
    errors: &mut Vec<ClusterError>,
) -> Vec<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let ns = options.namespace.as_deref();
    let api: Api<K> = match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    match list_paged(&api, kube::api::ListParams::default(), options.page_size).await {
        Ok(items) => items,
        Err(e) => {
            errors.push(ClusterError {
                namespace: ns.map(str::to_string),
                message: format!("cannot list {what} (exposure not judged from them): {e}"),
                ..ClusterError::default()
            });
            Vec::new()
        }
    }
}

fn ns_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The pods behind each Service: from its EndpointSlices, else its Endpoints.
fn backends(slices: &[EndpointSlice], endpoints: &[Endpoints]) -> Backends {
    let mut out: Backends = HashMap::new();
    for slice in slices {
        let (ns, slice_name) = ns_name(&slice.metadata);
        let Some(service) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        for endpoint in &slice.endpoints {
            if let Some(target) = endpoint
                .target_ref
                .as_ref()
                .filter(|t| t.kind.as_deref() == Some("Pod"))
            {
                out.entry((ns.clone(), service.clone())).or_default().push((
                    target.name.clone().unwrap_or_default(),
                    format!("EndpointSlice {ns}/{slice_name}"),
                ));
            }
        }
    }
    for ep in endpoints {
        let (ns, name) = ns_name(&ep.metadata);
        if out.contains_key(&(ns.clone(), name.clone())) {
            continue;
        }
        for subset in ep.subsets.iter().flatten() {
            for address in subset.addresses.iter().flatten() {
                if let Some(target) = address
                    .target_ref
                    .as_ref()
                    .filter(|t| t.kind.as_deref() == Some("Pod"))
                {
                    out.entry((ns.clone(), name.clone())).or_default().push((
                        target.name.clone().unwrap_or_default(),
                        format!("Endpoints {ns}/{name}"),
                    ));
                }
            }
        }
    }
    out
}

/// Reads Services, EndpointSlices, Endpoints, Ingresses and HTTPRoutes (where the CRD
/// exists) in `ns` (or everywhere) and marks the pods they expose.
pub async fn read(client: &Client, options: &ClusterOptions, pods: &[ClusterPod]) -> Exposure {
    let mut errors = Vec::new();
    let services: Vec<Service> = list(client, options, "services", &mut errors).await;
    let slices: Vec<EndpointSlice> = list(client, options, "endpointslices", &mut errors).await;
    let endpoints: Vec<Endpoints> = list(client, options, "endpoints", &mut errors).await;
    let ingresses: Vec<Ingress> = list(client, options, "ingresses", &mut errors).await;
    let routes = http_routes(client, options).await;
    let backends = backends(&slices, &endpoints);
    let known: HashMap<(String, String), &Service> =
        services.iter().map(|s| (ns_name(&s.metadata), s)).collect();
    let scanned: std::collections::HashSet<(String, String)> = pods
        .iter()
        .map(|p| (p.namespace.clone(), p.name.clone()))
        .collect();
    let mut public: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    // Marks the pods behind Service ns/name, each chain starting with `head`, which ends
    // at the Service.
    let reach = |head: String,
                 ns: &str,
                 service: &str,
                 public: &mut BTreeMap<(String, String), Vec<String>>| {
        for (pod, via) in backends
            .get(&(ns.to_string(), service.to_string()))
            .into_iter()
            .flatten()
        {
            let key = (ns.to_string(), pod.clone());
            if scanned.contains(&key) {
                let chain = format!("{head} → {via} → Pod {ns}/{pod}");
                let chains = public.entry(key).or_default();
                if !chains.contains(&chain) {
                    chains.push(chain);
                }
            }
        }
    };
    for service in &services {
        let (sns, name) = ns_name(&service.metadata);
        let kind = service
            .spec
            .as_ref()
            .and_then(|s| s.type_.clone())
            .unwrap_or_default();
        if kind == "LoadBalancer" || kind == "NodePort" {
            reach(
                format!("{kind} Service {sns}/{name}"),
                &sns,
                &name,
                &mut public,
            );
        }
    }
    let missing = |what: String, ns: &str, service: &str, errors: &mut Vec<ClusterError>| {
        if !known.contains_key(&(ns.to_string(), service.to_string())) {
            errors.push(ClusterError {
                namespace: Some(ns.to_string()),
                message: format!("{what} names Service {ns}/{service}, which does not exist"),
                ..ClusterError::default()
            });
            return true;
        }
        false
    };
    for ingress in &ingresses {
        let (ins, name) = ns_name(&ingress.metadata);
        let head = format!("Ingress {ins}/{name}");
        let Some(spec) = &ingress.spec else { continue };
        let defaults = spec.default_backend.iter();
        let ruled = spec
            .rules
            .iter()
            .flatten()
            .filter_map(|r| r.http.as_ref())
            .flat_map(|h| h.paths.iter().map(|p| &p.backend));
        let mut services: Vec<String> = defaults
            .chain(ruled)
            .filter_map(|b| b.service.as_ref().map(|s| s.name.clone()))
            .collect();
        services.dedup();
        for service in services {
            if !missing(head.clone(), &ins, &service, &mut errors) {
                reach(
                    format!("{head} → Service {ins}/{service}"),
                    &ins,
                    &service,
                    &mut public,
                );
            }
        }
    }
    for (rns, name, services) in routes {
        let head = format!("HTTPRoute {rns}/{name}");
        for (sns, service) in services {
            if !missing(head.clone(), &sns, &service, &mut errors) {
                reach(
                    format!("{head} → Service {sns}/{service}"),
                    &sns,
                    &service,
                    &mut public,
                );
            }
        }
    }
    Exposure {
        public: public.into_iter().collect(),
        errors,
    }
}

/// HTTPRoutes and the Services their rules send to; none where Gateway API is not
/// installed.
async fn http_routes(
    client: &Client,
    options: &ClusterOptions,
) -> Vec<(String, String, Vec<(String, String)>)> {
    let ns = options.namespace.as_deref();
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "httproutes");
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let Ok(routes) = list_paged(&api, kube::api::ListParams::default(), options.page_size).await
    else {
        return Vec::new();
    };
    routes
        .into_iter()
        .map(|route| {
            let (rns, name) = ns_name(&route.metadata);
            let services = route.data["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|rule| rule["backendRefs"].as_array().cloned().unwrap_or_default())
                .filter(|b| b["kind"].as_str().unwrap_or("Service") == "Service")
                .filter_map(|b| {
                    let service = b["name"].as_str()?.to_string();
                    let sns = b["namespace"].as_str().unwrap_or(&rns).to_string();
                    Some((sns, service))
                })
                .collect();
            (rns, name, services)
        })
        .collect()
}
