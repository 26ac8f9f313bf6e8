//! Image pull secrets, read one by one by name: a scanner never lists secrets.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::Client;
use serde_json::{Map, Value};

/// The `.dockerconfigjson` document of a pull secret (`kubernetes.io/dockerconfigjson`, or
/// the legacy `kubernetes.io/dockercfg` whose document is the `auths` map alone).
pub fn docker_config_from_secret(secret: &Secret) -> Result<Value, String> {
    let data = secret.data.clone().unwrap_or_default();
    let kind = secret.type_.as_deref().unwrap_or_default();
    let (key, legacy) = match kind {
        "kubernetes.io/dockerconfigjson" => (".dockerconfigjson", false),
        "kubernetes.io/dockercfg" => (".dockercfg", true),
        other => {
            return Err(format!(
            "is of type `{other}`, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg"
        ))
        }
    };
    let bytes = data.get(key).ok_or_else(|| format!("has no `{key}` key"))?;
    let doc: Value =
        serde_json::from_slice(&bytes.0).map_err(|e| format!("`{key}` is not JSON: {e}"))?;
    let auths = if legacy { doc } else { doc["auths"].clone() };
    match auths {
        Value::Object(map) => Ok(Value::Object(Map::from_iter([(
            "auths".to_string(),
            Value::Object(map),
        )]))),
        _ => Err(format!("`{key}` has no auths")),
    }
}

/// Secrets read so far, per namespace and name, with the error of those that failed.
pub(crate) struct Secrets {
    client: Client,
    read: HashMap<(String, String), Result<Value, String>>,
}

impl Secrets {
    pub(crate) fn new(client: Client) -> Self {
        Secrets {
            client,
            read: HashMap::new(),
        }
    }

    async fn get(&mut self, ns: &str, name: &str) -> Result<Value, String> {
        let key = (ns.to_string(), name.to_string());
        if let Some(found) = self.read.get(&key) {
            return found.clone();
        }
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let found = match api.get_opt(name).await {
            Ok(Some(secret)) => docker_config_from_secret(&secret),
            Ok(None) => Err("does not exist".to_string()),
            Err(e) => Err(format!("cannot be read: {e}")),
        }
        .map_err(|why| format!("pull secret `{ns}/{name}` {why}"));
        self.read.insert(key, found.clone());
        found
    }

    /// The pull secrets `names` merged into one `.dockerconfigjson` (the first secret
    /// naming a registry wins), and what was wrong with the others.
    pub(crate) async fn docker_config(
        &mut self,
        ns: &str,
        names: &[String],
    ) -> (Option<String>, Vec<String>) {
        let mut auths = Map::new();
        let mut errors = Vec::new();
        for name in names {
            match self.get(ns, name).await {
                Ok(doc) => {
                    if let Some(map) = doc["auths"].as_object() {
                        for (host, auth) in map {
                            auths.entry(host.clone()).or_insert_with(|| auth.clone());
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        let config = (!auths.is_empty()).then(|| serde_json::json!({ "auths": auths }).to_string());
        (config, errors)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

    fn secret(kind: &str, key: &str, json: &str) -> Secret {
        Secret {
            type_: Some(kind.into()),
            data: Some(BTreeMap::from([(
                key.to_string(),
                ByteString(json.as_bytes().to_vec()),
            )])),
            ..Secret::default()
        }
    }

    #[test]
    fn both_secret_formats() {
        let s = secret(
            "kubernetes.io/dockerconfigjson",
            ".dockerconfigjson",
            r#"{"auths": {"reg:5000": {"auth": "dTpw"}}}"#,
        );
        assert_eq!(
            docker_config_from_secret(&s).unwrap()["auths"]["reg:5000"]["auth"],
            "dTpw"
        );
        let s = secret(
            "kubernetes.io/dockercfg",
            ".dockercfg",
            r#"{"reg:5000": {"auth": "dTpw"}}"#,
        );
        assert_eq!(
            docker_config_from_secret(&s).unwrap()["auths"]["reg:5000"]["auth"],
            "dTpw"
        );
        let s = secret("kubernetes.io/dockerconfigjson", ".other", "{}");
        assert!(docker_config_from_secret(&s)
            .unwrap_err()
            .contains("has no `.dockerconfigjson`"));
        let s = secret("Opaque", "x", "{}");
        assert!(docker_config_from_secret(&s)
            .unwrap_err()
            .contains("Opaque"));
    }
}
