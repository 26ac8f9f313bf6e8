//! Docker Engine API calls as operation names, and the image each one concerns.
//!
//! A policy's `action` names an operation. The names are veinmind-runner's (so its
//! configs keep working: `container_create`, `image_create`, `image_push`,
//! `images_archive`, ...), plus the operations newer API versions added
//! (`container_update`, `container_prune`, `plugin_*`, ...). [`ROUTES`] is the whole
//! mapping, method and path pattern to name; the path is matched after the optional
//! version prefix (`/v1.47`) and the query are taken off, and each segment is
//! percent-decoded. `{id}` matches one segment, `{name*}` one or more (image names hold
//! slashes). A call no route matches has no operation name: no policy can cover it, so it
//! is allowed.
//!
//! What a policy scans depends on its operation ([`Concerns`]):
//!
//! | operation | image scanned |
//! |---|---|
//! | `container_create` | the body's `Image`, resolved to an image id by the daemon |
//! | `image_create` (pull) | `fromImage` + `tag` (or digest), read from the registry |
//! | `image_push` | the local image `NAME:tag` (every local tag of `NAME` for `--all-tags`) |
//! | `image_tag`, `image_delete` | the local image in the path |
//! | `container_*` on one container, `container_commit` | that container's image |
//!
//! Operations that concern no image (`volume_create`, `docker_info`, ...) cannot carry
//! a policy: holdfast scans images, and such a policy would do nothing. Nor can the
//! operations the plugin performs itself while scanning ([`SELF_USED`]): a policy on
//! them would make every scan wait for itself.

use base64::Engine;
use serde::Deserialize;

use crate::protocol::AuthZRequest;

/// What image an operation concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concerns {
    /// No image.
    Nothing,
    /// The request body's `Image` (`container_create`).
    BodyImage,
    /// The `fromImage` and `tag` query parameters, in a registry (`image_create`).
    PullReference,
    /// The image named in the path with the `tag` query parameter (`image_push`).
    PushImage,
    /// The image named in the path (`image_tag`, `image_delete`).
    PathImage,
    /// The image of the container named in the path.
    PathContainer,
    /// The image of the container named by the `container` query parameter.
    QueryContainer,
}

/// One row of the mapping.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path pattern after the version prefix.
    pub path: &'static str,
    /// The operation's name.
    pub action: &'static str,
    /// What image it concerns.
    pub concerns: Concerns,
}

const fn r(method: &'static str, path: &'static str, action: &'static str) -> Route {
    Route {
        method,
        path,
        action,
        concerns: Concerns::Nothing,
    }
}

const fn c(method: &'static str, path: &'static str, action: &'static str) -> Route {
    Route {
        method,
        path,
        action,
        concerns: Concerns::PathContainer,
    }
}

/// Every Docker Engine API call holdfast names, in match order.
pub const ROUTES: &[Route] = &[
    // Containers.
    r("GET", "/containers/json", "container_list"),
    Route {
        method: "POST",
        path: "/containers/create",
        action: "container_create",
        concerns: Concerns::BodyImage,
    },
    r("POST", "/containers/prune", "container_prune"),
    r("GET", "/containers/{id}/json", "container_inspect"),
    c("GET", "/containers/{id}/top", "container_top"),
    c("GET", "/containers/{id}/logs", "container_logs"),
    c("GET", "/containers/{id}/changes", "container_changes"),
    c("GET", "/containers/{id}/export", "container_export"),
    c("GET", "/containers/{id}/stats", "container_stats"),
    c("POST", "/containers/{id}/resize", "container_resize"),
    c("POST", "/containers/{id}/start", "container_start"),
    c("POST", "/containers/{id}/stop", "container_stop"),
    c("POST", "/containers/{id}/restart", "container_restart"),
    c("POST", "/containers/{id}/kill", "container_kill"),
    c("POST", "/containers/{id}/update", "container_update"),
    c("POST", "/containers/{id}/rename", "container_rename"),
    c("POST", "/containers/{id}/pause", "container_pause"),
    c("POST", "/containers/{id}/unpause", "container_unpause"),
    c("POST", "/containers/{id}/attach", "container_attach"),
    c(
        "GET",
        "/containers/{id}/attach/ws",
        "container_attach_websocket",
    ),
    c("POST", "/containers/{id}/wait", "container_wait"),
    c("HEAD", "/containers/{id}/archive", "container_archive_info"),
    c("GET", "/containers/{id}/archive", "container_archive"),
    c(
        "PUT",
        "/containers/{id}/archive",
        "container_archive_extract",
    ),
    c("POST", "/containers/{id}/copy", "container_copyfiles"),
    c("POST", "/containers/{id}/exec", "container_exec_create"),
    c("DELETE", "/containers/{id}", "container_delete"),
    r("POST", "/exec/{id}/start", "container_exec_start"),
    r("POST", "/exec/{id}/resize", "container_exec_resize"),
    r("GET", "/exec/{id}/json", "container_exec_inspect"),
    Route {
        method: "POST",
        path: "/commit",
        action: "container_commit",
        concerns: Concerns::QueryContainer,
    },
    // Images.
    r("GET", "/images/json", "image_list"),
    r("GET", "/images/search", "images_search"),
    r("GET", "/images/get", "images_archive"),
    r("POST", "/images/load", "images_load"),
    r("POST", "/images/prune", "image_prune"),
    Route {
        method: "POST",
        path: "/images/create",
        action: "image_create",
        concerns: Concerns::PullReference,
    },
    r("GET", "/images/{name*}/json", "image_inspect"),
    r("GET", "/images/{name*}/history", "image_history"),
    r("GET", "/images/{name*}/get", "images_archive"),
    Route {
        method: "POST",
        path: "/images/{name*}/push",
        action: "image_push",
        concerns: Concerns::PushImage,
    },
    Route {
        method: "POST",
        path: "/images/{name*}/tag",
        action: "image_tag",
        concerns: Concerns::PathImage,
    },
    Route {
        method: "DELETE",
        path: "/images/{name*}",
        action: "image_delete",
        concerns: Concerns::PathImage,
    },
    r("GET", "/distribution/{name*}/json", "distribution_inspect"),
    r("POST", "/build", "image_build"),
    r("POST", "/build/prune", "build_prune"),
    r("POST", "/build/cancel", "build_cancel"),
    // System.
    r("POST", "/auth", "docker_auth"),
    r("GET", "/info", "docker_info"),
    r("GET", "/version", "docker_version"),
    r("GET", "/_ping", "docker_ping"),
    r("HEAD", "/_ping", "docker_ping"),
    r("GET", "/events", "docker_events"),
    r("GET", "/system/df", "system_df"),
    r("POST", "/session", "session"),
    r("POST", "/grpc", "grpc"),
    // Volumes.
    r("GET", "/volumes", "volume_list"),
    r("POST", "/volumes/create", "volume_create"),
    r("POST", "/volumes/prune", "volume_prune"),
    r("GET", "/volumes/{name}", "volume_inspect"),
    r("PUT", "/volumes/{name}", "volume_update"),
    r("DELETE", "/volumes/{name}", "volume_remove"),
    // Networks.
    r("GET", "/networks", "network_list"),
    r("POST", "/networks/create", "network_create"),
    r("POST", "/networks/prune", "network_prune"),
    r("GET", "/networks/{id}", "network_inspect"),
    r("DELETE", "/networks/{id}", "network_remove"),
    r("POST", "/networks/{id}/connect", "network_connect"),
    r("POST", "/networks/{id}/disconnect", "network_disconnect"),
    // Plugins.
    r("GET", "/plugins", "plugin_list"),
    r("GET", "/plugins/privileges", "plugin_privileges"),
    r("POST", "/plugins/pull", "plugin_pull"),
    r("POST", "/plugins/create", "plugin_create"),
    r("GET", "/plugins/{name*}/json", "plugin_inspect"),
    r("POST", "/plugins/{name*}/enable", "plugin_enable"),
    r("POST", "/plugins/{name*}/disable", "plugin_disable"),
    r("POST", "/plugins/{name*}/upgrade", "plugin_upgrade"),
    r("POST", "/plugins/{name*}/push", "plugin_push"),
    r("POST", "/plugins/{name*}/set", "plugin_set"),
    r("DELETE", "/plugins/{name*}", "plugin_remove"),
    // Swarm.
    r("GET", "/swarm", "swarm_inspect"),
    r("POST", "/swarm/init", "swarm_init"),
    r("POST", "/swarm/join", "swarm_join"),
    r("POST", "/swarm/leave", "swarm_leave"),
    r("POST", "/swarm/update", "swarm_update"),
    r("GET", "/swarm/unlockkey", "swarm_unlock_key"),
    r("POST", "/swarm/unlock", "swarm_unlock"),
    r("GET", "/nodes", "node_list"),
    r("GET", "/nodes/{id}", "node_inspect"),
    r("DELETE", "/nodes/{id}", "node_delete"),
    r("POST", "/nodes/{id}/update", "node_update"),
    r("GET", "/services", "service_list"),
    r("POST", "/services/create", "service_create"),
    r("GET", "/services/{id}", "service_inspect"),
    r("DELETE", "/services/{id}", "service_delete"),
    r("POST", "/services/{id}/update", "service_update"),
    r("GET", "/services/{id}/logs", "service_logs"),
    r("GET", "/tasks", "task_list"),
    r("GET", "/tasks/{id}", "task_inspect"),
    r("GET", "/tasks/{id}/logs", "task_logs"),
    r("GET", "/secrets", "secret_list"),
    r("POST", "/secrets/create", "secret_create"),
    r("GET", "/secrets/{id}", "secret_inspect"),
    r("DELETE", "/secrets/{id}", "secret_delete"),
    r("POST", "/secrets/{id}/update", "secret_update"),
    r("GET", "/configs", "config_list"),
    r("POST", "/configs/create", "config_create"),
    r("GET", "/configs/{id}", "config_inspect"),
    r("DELETE", "/configs/{id}", "config_delete"),
    r("POST", "/configs/{id}/update", "config_update"),
];

/// Operations the plugin performs on the daemon while scanning (version negotiation,
/// image and container inspection, the image export, the tag listing of a push): a
/// policy on one of them would make a scan wait for itself.
pub const SELF_USED: &[&str] = &[
    "docker_ping",
    "docker_version",
    "image_inspect",
    "image_history",
    "images_archive",
    "image_list",
    "container_inspect",
];

/// One API call, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The operation's name.
    pub action: &'static str,
    /// What image it concerns.
    pub concerns: Concerns,
    /// What the pattern's `{id}` or `{name*}` matched, decoded.
    pub param: Option<String>,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
}

impl Operation {
    /// The first value of a query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Names the API call `method uri`; `None` when no route matches.
pub fn operation(method: &str, uri: &str) -> Option<Operation> {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    if segs.first().is_some_and(|s| is_version(s)) {
        segs.remove(0);
    }
    let method = method.to_ascii_uppercase();
    for route in ROUTES.iter().filter(|r| r.method == method) {
        if let Some(param) = match_path(route.path, &segs) {
            return Some(Operation {
                action: route.action,
                concerns: route.concerns,
                param,
                query: parse_query(query),
            });
        }
    }
    None
}

/// Every operation name, once each, in [`ROUTES`] order.
pub fn actions() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        if !out.contains(&r.action) {
            out.push(r.action);
        }
    }
    out
}

/// Whether `name` may carry a policy; why not otherwise.
pub fn check_policy_action(name: &str) -> Result<(), String> {
    let routes: Vec<&Route> = ROUTES.iter().filter(|r| r.action == name).collect();
    if routes.is_empty() {
        return Err(format!(
            "unknown action `{name}`; expected a Docker API operation such as container_create, image_create, image_push (the full list is in the holdfast-authz documentation)"
        ));
    }
    if SELF_USED.contains(&name) {
        return Err(format!(
            "action `{name}` cannot carry a policy: the plugin itself performs it while scanning, so each scan would wait for itself"
        ));
    }
    if routes.iter().all(|r| r.concerns == Concerns::Nothing) {
        return Err(format!(
            "action `{name}` concerns no image, and holdfast scans images; policies can cover: {}",
            image_actions().join(", ")
        ));
    }
    Ok(())
}

/// The operations a policy can cover.
pub fn image_actions() -> Vec<&'static str> {
    actions()
        .into_iter()
        .filter(|a| {
            !SELF_USED.contains(a)
                && ROUTES
                    .iter()
                    .any(|r| r.action == *a && r.concerns != Concerns::Nothing)
        })
        .collect()
}

/// What a covered request asks to be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A local image, by name, short id or id.
    Local(String),
    /// Every local tag of a repository (`docker push --all-tags`).
    AllTags(String),
    /// An image in a registry (a pull).
    Remote {
        /// `host/repo:tag` or `host/repo@digest` (Docker Hub names as the client wrote
        /// them; the reference parser completes them).
        reference: String,
        /// The `platform` query parameter (`linux/arm64`), if any.
        platform: Option<String>,
    },
    /// The image of a container, by id or name.
    Container(String),
    /// The request names no image holdfast can read; why.
    Undetermined(String),
}

impl Subject {
    /// What the decision messages call it.
    pub fn describe(&self) -> String {
        match self {
            Subject::Local(n) => n.clone(),
            Subject::AllTags(n) => format!("{n} (all tags)"),
            Subject::Remote { reference, .. } => reference.clone(),
            Subject::Container(c) => format!("container {c}"),
            Subject::Undetermined(_) => "(unknown image)".into(),
        }
    }
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "Image", default)]
    image: Option<String>,
}

/// The image a covered request concerns.
pub fn subject(op: &Operation, req: &AuthZRequest) -> Subject {
    match op.concerns {
        Concerns::Nothing => Subject::Undetermined("the operation concerns no image".into()),
        Concerns::BodyImage => {
            if req.request_body.is_empty() {
                return Subject::Undetermined(
                    "dockerd did not forward the request body that names the image (it forwards JSON bodies under 1 MiB)".into(),
                );
            }
            match serde_json::from_slice::<CreateBody>(&req.request_body) {
                Ok(CreateBody { image: Some(i) }) if !i.trim().is_empty() => {
                    Subject::Local(i.trim().to_string())
                }
                Ok(_) => Subject::Undetermined("the request body names no image".into()),
                Err(e) => Subject::Undetermined(format!("the request body is not JSON: {e}")),
            }
        }
        Concerns::PullReference => {
            if op.query("fromSrc").is_some_and(|s| !s.is_empty()) {
                return Subject::Undetermined(
                    "an import (fromSrc) makes its image from an upload that is not forwarded to plugins".into(),
                );
            }
            let Some(from) = op.query("fromImage").filter(|s| !s.is_empty()) else {
                return Subject::Undetermined("the pull names no image (fromImage)".into());
            };
            let tag = op.query("tag").unwrap_or("");
            let reference = if !tag.is_empty() {
                if tag.contains(':') {
                    format!("{from}@{tag}")
                } else {
                    format!("{from}:{tag}")
                }
            } else if has_tag_or_digest(from) {
                from.to_string()
            } else {
                return Subject::Undetermined(format!(
                    "a pull of every tag of `{from}` (--all-tags) is not scanned tag by tag"
                ));
            };
            Subject::Remote {
                reference,
                platform: op
                    .query("platform")
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
            }
        }
        Concerns::PushImage => {
            let Some(name) = op.param.clone() else {
                return Subject::Undetermined("the push names no image".into());
            };
            match op.query("tag").filter(|t| !t.is_empty()) {
                Some(tag) => Subject::Local(format!("{name}:{tag}")),
                None if has_tag_or_digest(&name) => Subject::Local(name),
                None => Subject::AllTags(name),
            }
        }
        Concerns::PathImage => match &op.param {
            Some(n) => Subject::Local(n.clone()),
            None => Subject::Undetermined("the path names no image".into()),
        },
        Concerns::PathContainer => match &op.param {
            Some(id) => Subject::Container(id.clone()),
            None => Subject::Undetermined("the path names no container".into()),
        },
        Concerns::QueryContainer => match op.query("container").filter(|c| !c.is_empty()) {
            Some(id) => Subject::Container(id.to_string()),
            None => Subject::Undetermined("the commit names no container".into()),
        },
    }
}

/// Registry credentials a client sent in `X-Registry-Auth` (base64url JSON).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The user name.
    #[serde(default)]
    pub username: String,
    /// The password.
    #[serde(default)]
    pub password: String,
    /// `user:password` in base64, as `docker login` stores it.
    #[serde(default)]
    pub auth: String,
    /// The registry the credentials are for.
    #[serde(default)]
    pub serveraddress: String,
    /// A bearer token for the registry.
    #[serde(default)]
    pub registrytoken: String,
    /// An OAuth refresh token (not usable here).
    #[serde(default)]
    pub identitytoken: String,
    /// A `.dockerconfigjson` document (a pod's pull secrets, merged): the credential of
    /// each image's registry is looked up in it. Never sent by dockerd.
    #[serde(skip)]
    pub docker_config: Option<String>,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("serveraddress", &self.serveraddress)
            .finish_non_exhaustive()
    }
}

impl RegistryAuth {
    /// Decodes an `X-Registry-Auth` value: base64url (or standard base64), padded or
    /// not, of a JSON object. `None` when absent, empty (`{}`) or unreadable.
    pub fn from_header(value: &str) -> Option<Self> {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
        let v = value.trim();
        let bytes = URL_SAFE
            .decode(v)
            .or_else(|_| URL_SAFE_NO_PAD.decode(v))
            .or_else(|_| STANDARD.decode(v))
            .ok()?;
        let mut auth: RegistryAuth = serde_json::from_slice(&bytes).ok()?;
        if auth.username.is_empty() && !auth.auth.is_empty() {
            let decoded = STANDARD.decode(auth.auth.trim()).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (u, p) = text.split_once(':')?;
            auth.username = u.to_string();
            auth.password = p.to_string();
        }
        let usable = !auth.registrytoken.is_empty() || !auth.username.is_empty();
        usable.then_some(auth)
    }

    /// Credentials from a `.dockerconfigjson` document, looked up per registry.
    pub fn from_docker_config(document: String) -> Self {
        RegistryAuth {
            docker_config: Some(document),
            ..RegistryAuth::default()
        }
    }
}

/// Whether the last path component of a reference carries a tag or a digest.
fn has_tag_or_digest(reference: &str) -> bool {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.contains(':') || last.contains('@')
}

fn is_version(seg: &str) -> bool {
    seg.strip_prefix('v').is_some_and(|v| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Matches path segments against a pattern; the capture (if the pattern has one).
fn match_path(pattern: &str, segs: &[String]) -> Option<Option<String>> {
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut capture = None;
    let mut i = 0; // in pat
    let mut j = 0; // in segs
    while i < pat.len() {
        let p = pat[i];
        if p.starts_with('{') && p.ends_with("*}") {
            let trailing = pat.len() - i - 1;
            let end = segs.len().checked_sub(trailing)?;
            if end <= j {
                return None;
            }
            capture = Some(segs[j..end].join("/"));
            j = end;
        } else if p.starts_with('{') {
            let s = segs.get(j)?;
            if s.is_empty() {
                return None;
            }
            capture = Some(s.clone());
            j += 1;
        } else {
            if segs.get(j).map(String::as_str) != Some(p) {
                return None;
            }
            j += 1;
        }
        i += 1;
    }
    (j == segs.len()).then_some(capture)
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(method: &str, uri: &str) -> Option<&'static str> {
        operation(method, uri).map(|o| o.action)
    }

    #[test]
    fn versioned_and_unversioned_paths() {
        let cases = [
            ("POST", "/v1.47/containers/create", "container_create"),
            ("POST", "/containers/create?name=web", "container_create"),
            ("POST", "/v1.24/containers/create", "container_create"),
            ("GET", "/v1.47/containers/json?all=1", "container_list"),
            ("GET", "/containers/abc123/json", "container_inspect"),
            ("POST", "/v1.41/containers/abc/start", "container_start"),
            ("POST", "/containers/abc/stop?t=10", "container_stop"),
            ("POST", "/containers/abc/kill", "container_kill"),
            ("POST", "/containers/abc/exec", "container_exec_create"),
            ("POST", "/exec/e1/start", "container_exec_start"),
            (
                "GET",
                "/containers/abc/attach/ws",
                "container_attach_websocket",
            ),
            (
                "PUT",
                "/containers/abc/archive?path=/tmp",
                "container_archive_extract",
            ),
            (
                "HEAD",
                "/containers/abc/archive?path=/",
                "container_archive_info",
            ),
            (
                "DELETE",
                "/v1.47/containers/abc?force=1",
                "container_delete",
            ),
            ("POST", "/containers/prune", "container_prune"),
            ("POST", "/commit?container=abc&repo=x", "container_commit"),
            (
                "POST",
                "/v1.47/images/create?fromImage=alpine&tag=3",
                "image_create",
            ),
            (
                "POST",
                "/images/127.0.0.1:5000/team/app/push?tag=1",
                "image_push",
            ),
            ("POST", "/v1.47/images/app/tag?repo=x&tag=2", "image_tag"),
            ("GET", "/images/json", "image_list"),
            (
                "GET",
                "/images/docker.io/library/alpine:3/json",
                "image_inspect",
            ),
            ("GET", "/images/sha256:abc/history", "image_history"),
            ("GET", "/images/sha256:abc/get", "images_archive"),
            ("GET", "/images/get?names=a", "images_archive"),
            ("POST", "/images/load?quiet=1", "images_load"),
            ("GET", "/images/search?term=x", "images_search"),
            ("DELETE", "/images/reg.example/team/app:1", "image_delete"),
            ("POST", "/images/prune", "image_prune"),
            ("POST", "/build?t=x", "image_build"),
            ("POST", "/v1.47/build/prune", "build_prune"),
            ("GET", "/_ping", "docker_ping"),
            ("HEAD", "/_ping", "docker_ping"),
            ("GET", "/v1.47/version", "docker_version"),
            ("GET", "/info", "docker_info"),
            ("POST", "/auth", "docker_auth"),
            ("GET", "/events?since=1", "docker_events"),
            ("GET", "/system/df", "system_df"),
            ("POST", "/volumes/create", "volume_create"),
            ("GET", "/volumes/v1", "volume_inspect"),
            ("DELETE", "/volumes/v1", "volume_remove"),
            ("POST", "/networks/create", "network_create"),
            ("POST", "/networks/n1/connect", "network_connect"),
            ("GET", "/plugins/privileges?remote=x", "plugin_privileges"),
            (
                "POST",
                "/plugins/vieux/sshfs:latest/enable",
                "plugin_enable",
            ),
            ("GET", "/distribution/alpine:3/json", "distribution_inspect"),
            ("POST", "/services/s1/update", "service_update"),
            ("GET", "/swarm", "swarm_inspect"),
            ("POST", "/session", "session"),
        ];
        for (m, uri, want) in cases {
            assert_eq!(name(m, uri), Some(want), "{m} {uri}");
        }
        assert_eq!(name("GET", "/containers/create"), None);
        assert_eq!(name("POST", "/v1.47/nonsense"), None);
        assert_eq!(name("POST", "/images"), None);
        // A version-looking first segment only.
        assert_eq!(name("GET", "/v1.x/info"), None);
    }

    #[test]
    fn captures_and_queries() {
        let op = operation("POST", "/v1.47/images/127.0.0.1:5000/team/app/push?tag=1").unwrap();
        assert_eq!(op.param.as_deref(), Some("127.0.0.1:5000/team/app"));
        assert_eq!(op.query("tag"), Some("1"));
        let op = operation("POST", "/images/create?fromImage=reg%2Fa&tag=1%2B2").unwrap();
        assert_eq!(op.query("fromImage"), Some("reg/a"));
        assert_eq!(op.query("tag"), Some("1+2"));
        let op = operation("POST", "/images/a%25b/tag").unwrap();
        assert_eq!(op.param.as_deref(), Some("a%b"));
    }

    fn subject_of(method: &str, uri: &str, body: &str) -> Subject {
        let req = AuthZRequest {
            request_method: method.into(),
            request_uri: uri.into(),
            request_body: body.as_bytes().to_vec(),
            ..AuthZRequest::default()
        };
        subject(&operation(method, uri).unwrap(), &req)
    }

    #[test]
    fn subjects() {
        assert_eq!(
            subject_of(
                "POST",
                "/v1.47/containers/create?name=x",
                r#"{"Image":"app:1","Cmd":["sh"]}"#
            ),
            Subject::Local("app:1".into())
        );
        assert!(matches!(
            subject_of("POST", "/containers/create", ""),
            Subject::Undetermined(_)
        ));
        assert!(matches!(
            subject_of("POST", "/containers/create", "{}"),
            Subject::Undetermined(_)
        ));
        assert_eq!(
            subject_of(
                "POST",
                "/images/create?fromImage=127.0.0.1%3A5000%2Fweak&tag=1",
                ""
            ),
            Subject::Remote {
                reference: "127.0.0.1:5000/weak:1".into(),
                platform: None
            }
        );
        assert_eq!(
            subject_of(
                "POST",
                "/images/create?fromImage=alpine&tag=sha256:0123&platform=linux%2Farm64",
                ""
            ),
            Subject::Remote {
                reference: "alpine@sha256:0123".into(),
                platform: Some("linux/arm64".into())
            }
        );
        assert!(matches!(
            subject_of("POST", "/images/create?fromImage=alpine", ""),
            Subject::Undetermined(w) if w.contains("--all-tags")
        ));
        assert!(matches!(
            subject_of("POST", "/images/create?fromSrc=-&repo=x", ""),
            Subject::Undetermined(w) if w.contains("import")
        ));
        assert_eq!(
            subject_of("POST", "/images/127.0.0.1:5000/app/push?tag=2", ""),
            Subject::Local("127.0.0.1:5000/app:2".into())
        );
        assert_eq!(
            subject_of("POST", "/images/127.0.0.1:5000/app/push", ""),
            Subject::AllTags("127.0.0.1:5000/app".into())
        );
        assert_eq!(
            subject_of("POST", "/containers/web/start", ""),
            Subject::Container("web".into())
        );
        assert_eq!(
            subject_of("POST", "/commit?container=web", ""),
            Subject::Container("web".into())
        );
        assert_eq!(
            subject_of("DELETE", "/images/app:1", ""),
            Subject::Local("app:1".into())
        );
    }

    #[test]
    fn policy_actions() {
        for ok in [
            "container_create",
            "image_create",
            "image_push",
            "image_tag",
            "container_start",
            "container_commit",
        ] {
            assert!(check_policy_action(ok).is_ok(), "{ok}");
        }
        assert!(check_policy_action("volume_create")
            .unwrap_err()
            .contains("concerns no image"));
        assert!(check_policy_action("image_inspect")
            .unwrap_err()
            .contains("the plugin itself"));
        assert!(check_policy_action("images_archive").is_err());
        assert!(check_policy_action("nope")
            .unwrap_err()
            .contains("unknown action"));
        // Every name is unique to its routes' meaning, and listed once.
        let all = actions();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        for s in SELF_USED {
            assert!(all.contains(s), "{s}");
        }
    }

    #[test]
    fn registry_auth_header() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let h = URL_SAFE.encode(r#"{"username":"u","password":"p?>x","serveraddress":"reg"}"#);
        let a = RegistryAuth::from_header(&h).unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("u", "p?>x"));
        assert!(!format!("{a:?}").contains("p?>x"));
        let auth = STANDARD.encode("v:w");
        let h = STANDARD.encode(format!(r#"{{"auth":"{auth}"}}"#));
        let a = RegistryAuth::from_header(&h).unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("v", "w"));
        assert!(RegistryAuth::from_header(&URL_SAFE.encode("{}")).is_none());
        assert!(RegistryAuth::from_header("!!!").is_none());
    }
}
