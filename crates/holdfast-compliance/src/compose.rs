//! Compose files (`docker-compose.yml`, `compose.yaml`) parsed into the `compose` input
//! document (`docs/checks.md`): each service as written, plus its volumes and ports in
//! one shape whichever syntax (short or long) the file used.

use serde::Serialize;
use serde_json::{json, Value};

/// A compose file: the `compose` input document.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComposeFile {
    /// Always `compose`.
    pub kind: &'static str,
    /// The file, as the scan names it.
    pub path: String,
    /// Every service, in file order: the service as written plus `name`, `mounts`
    /// (`{type, source, target, read_only}`) and `published` (`{host_ip, published,
    /// target, protocol}`).
    pub services: Vec<Value>,
}

/// Why a compose file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ComposeError {
    /// Not YAML.
    #[error("{0}")]
    Yaml(String),
    /// YAML, but without a `services` mapping.
    #[error("no `services` mapping")]
    NoServices,
}

/// Whether a file's name says it is a compose file.
pub fn is_compose_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".yml")
        .or_else(|| lower.strip_suffix(".yaml"));
    stem.is_some_and(|s| {
        s == "compose"
            || s == "docker-compose"
            || s.starts_with("docker-compose.")
            || s.starts_with("compose.")
            || s.ends_with(".compose")
    })
}

/// Parses a compose file's text; `path` is what the document calls it.
pub fn parse(path: &str, text: &str) -> Result<ComposeFile, ComposeError> {
    let doc: Value = serde_norway::from_str(text).map_err(|e| ComposeError::Yaml(e.to_string()))?;
    let services = doc
        .get("services")
        .and_then(Value::as_object)
        .ok_or(ComposeError::NoServices)?;
    let services = services
        .iter()
        .map(|(name, s)| {
            let mut s = match s {
                Value::Object(_) => s.clone(),
                _ => json!({}),
            };
            s["name"] = json!(name);
            s["mounts"] = Value::Array(list(&s["volumes"]).iter().filter_map(mount).collect());
            s["published"] = Value::Array(list(&s["ports"]).iter().filter_map(port).collect());
            s
        })
        .collect();
    Ok(ComposeFile {
        kind: "compose",
        path: path.to_string(),
        services,
    })
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// `SRC:DST[:MODE]` or the long syntax, as `{type, source, target, read_only}`. A source
/// that is a path (`/`, `.`, `~`) is a bind mount, else a named volume.
fn mount(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            let (source, target, mode) = match parts.as_slice() {
                [target] => ("", *target, ""),
                [source, target] => (*source, *target, ""),
                [source, target, mode, ..] => (*source, *target, *mode),
                [] => return None,
            };
            let bind =
                source.starts_with('/') || source.starts_with('.') || source.starts_with('~');
            Some(json!({
                "type": if source.is_empty() { "volume" } else if bind { "bind" } else { "volume" },
                "source": source,
                "target": target,
                "read_only": mode.split(',').any(|m| m == "ro"),
            }))
        }
        Value::Object(o) => Some(json!({
            "type": o.get("type").and_then(Value::as_str).unwrap_or("volume"),
            "source": o.get("source").and_then(Value::as_str).unwrap_or(""),
            "target": o.get("target").and_then(Value::as_str).unwrap_or(""),
            "read_only": o.get("read_only").and_then(Value::as_bool).unwrap_or(false),
        })),
        _ => None,
    }
}

/// `[HOST_IP:][PUBLISHED:]TARGET[/PROTO]` or the long syntax, as `{host_ip, published,
/// target, protocol}`; a port that is not published on the host gives nothing.
fn port(v: &Value) -> Option<Value> {
    match v {
        Value::String(_) | Value::Number(_) => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let (spec, protocol) = s.split_once('/').unwrap_or((&s, "tcp"));
            // An IPv6 host address is bracketed: [::1]:8080:80.
            let (host_ip, rest) = match spec.strip_prefix('[') {
                Some(r) => {
                    let (ip, rest) = r.split_once("]:")?;
                    (ip.to_string(), rest.to_string())
                }
                None => (String::new(), spec.to_string()),
            };
            let parts: Vec<&str> = rest.split(':').collect();
            let (ip, published, target) = match parts.as_slice() {
                [_target] => return None,
                [published, target] => (host_ip, *published, *target),
                [ip, published, target] => (ip.to_string(), *published, *target),
                _ => return None,
            };
            Some(
                json!({"host_ip": ip, "published": published, "target": target, "protocol": protocol}),
            )
        }
        Value::Object(o) => {
            let published = o.get("published")?;
            Some(json!({
                "host_ip": o.get("host_ip").and_then(Value::as_str).unwrap_or(""),
                "published": match published { Value::String(s) => s.clone(), other => other.to_string() },
                "target": o.get("target").map(|t| t.to_string()).unwrap_or_default(),
                "protocol": o.get("protocol").and_then(Value::as_str).unwrap_or("tcp"),
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_mounts_and_ports() {
        let text = "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\", \"127.0.0.1:8443:443/tcp\", \"9000\", {target: 53, published: 53, protocol: udp}]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - data:/data\n      - {type: bind, source: /etc, target: /host/etc}\n  db: {image: postgres}\n";
        let c = parse("compose.yaml", text).unwrap();
        assert_eq!(c.services.len(), 2);
        let web = &c.services[0];
        assert_eq!(web["name"], "web");
        let m = web["mounts"].as_array().unwrap();
        assert_eq!(m[0]["type"], "bind");
        assert_eq!(m[0]["read_only"], true);
        assert_eq!(m[1]["type"], "volume");
        assert_eq!(m[2]["source"], "/etc");
        let p = web["published"].as_array().unwrap();
        assert_eq!(p.len(), 3, "9000 is not published");
        assert_eq!(p[0]["host_ip"], "");
        assert_eq!(p[1]["host_ip"], "127.0.0.1");
        assert_eq!(p[2]["protocol"], "udp");
        assert_eq!(
            parse("c.yml", "version: '3'\n"),
            Err(ComposeError::NoServices)
        );
    }

    #[test]
    fn compose_names() {
        for n in [
            "docker-compose.yml",
            "compose.yaml",
            "docker-compose.prod.yml",
            "app.compose.yaml",
        ] {
            assert!(is_compose_name(n), "{n}");
        }
        assert!(!is_compose_name("deployment.yaml"));
    }
}
