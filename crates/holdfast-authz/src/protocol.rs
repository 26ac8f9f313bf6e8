//! Docker's authorization plugin protocol, as serde types.
//!
//! dockerd speaks HTTP/1.1 with JSON bodies to `/run/docker/plugins/NAME.sock`:
//! `POST /Plugin.Activate` (the plugin answers which protocols it implements), then for
//! every API call `POST /AuthZPlugin.AuthZReq` before the daemon handles it and
//! `POST /AuthZPlugin.AuthZRes` after. Both carry the same request object (the response
//! fields are set for `AuthZRes` only) and are answered with [`AuthZResponse`].
//!
//! Go encodes `[]byte` as base64 and nil slices and maps as `null` (or leaves them out:
//! dockerd's fields are `omitempty`); all are accepted. The URI's key is `RequestUri`.
//! dockerd forwards the request body only for `application/json` requests under 1 MiB,
//! and strips `Authorization`, `X-Registry-Auth` and `X-Registry-Config` from the
//! headers it forwards.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};

/// The path dockerd activates a plugin with.
pub const ACTIVATE: &str = "/Plugin.Activate";
/// The path of the question asked before the daemon handles a request.
pub const AUTHZ_REQ: &str = "/AuthZPlugin.AuthZReq";
/// The path of the question asked after the daemon handled a request.
pub const AUTHZ_RES: &str = "/AuthZPlugin.AuthZRes";
/// The content type plugin answers carry.
pub const CONTENT_TYPE: &str = "application/vnd.docker.plugins.v1.2+json";

/// The answer to `Plugin.Activate`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Activation {
    /// The plugin protocols implemented: `["authz"]`.
    #[serde(rename = "Implements")]
    pub implements: Vec<String>,
}

impl Activation {
    /// An authorization plugin.
    pub fn authz() -> Self {
        Activation {
            implements: vec!["authz".into()],
        }
    }
}

/// What dockerd asks about one API call (`AuthZReq`, and `AuthZRes` with the response
/// fields set).
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct AuthZRequest {
    /// The authenticated user (TLS client certificate's common name), if any.
    #[serde(rename = "User")]
    pub user: String,
    /// How the user was authenticated.
    #[serde(rename = "UserAuthNMethod")]
    pub user_authn_method: String,
    /// The HTTP method of the API call.
    #[serde(rename = "RequestMethod")]
    pub request_method: String,
    /// The API call's path and query, as the client sent it (`/v1.47/containers/create`).
    /// dockerd's JSON key is `RequestUri`; Go decoders ignore case, so `RequestURI` is
    /// accepted too.
    #[serde(rename = "RequestUri", alias = "RequestURI", alias = "RequestURI")]
    pub request_uri: String,
    /// The API call's body (JSON requests under 1 MiB only).
    #[serde(
        rename = "RequestBody",
        deserialize_with = "bytes",
        serialize_with = "ser_bytes"
    )]
    pub request_body: Vec<u8>,
    /// The API call's headers, one value each.
    #[serde(rename = "RequestHeaders", deserialize_with = "map")]
    pub request_headers: BTreeMap<String, String>,
    /// The daemon's status code (`AuthZRes`).
    #[serde(rename = "ResponseStatusCode")]
    pub response_status_code: i64,
    /// The daemon's response body (`AuthZRes`, JSON responses only).
    #[serde(
        rename = "ResponseBody",
        deserialize_with = "bytes",
        serialize_with = "ser_bytes"
    )]
    pub response_body: Vec<u8>,
    /// The daemon's response headers (`AuthZRes`).
    #[serde(rename = "ResponseHeaders", deserialize_with = "map")]
    pub response_headers: BTreeMap<String, String>,
}

impl AuthZRequest {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Headers may hold credentials (`X-Registry-Auth` when a proxy forwards it): only their
/// names are shown, and no body.
impl fmt::Debug for AuthZRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthZRequest")
            .field("user", &self.user)
            .field("request_method", &self.request_method)
            .field("request_uri", &self.request_uri)
            .field("request_body_len", &self.request_body.len())
            .field(
                "request_headers",
                &self.request_headers.keys().collect::<Vec<_>>(),
            )
            .field("response_status_code", &self.response_status_code)
            .finish()
    }
}

/// The plugin's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthZResponse {
    /// Whether the daemon may go on.
    #[serde(rename = "Allow")]
    pub allow: bool,
    /// Shown to the client when denied (`authorization denied by plugin NAME: MSG`).
    #[serde(rename = "Msg")]
    pub msg: String,
    /// A plugin error; the daemon fails the request with it.
    #[serde(rename = "Err")]
    pub err: String,
}

impl AuthZResponse {
    /// Allow, with a message.
    pub fn allow(msg: impl Into<String>) -> Self {
        AuthZResponse {
            allow: true,
            msg: msg.into(),
            err: String::new(),
        }
    }

    /// Deny, with the message the client sees.
    pub fn deny(msg: impl Into<String>) -> Self {
        AuthZResponse {
            allow: false,
            msg: msg.into(),
            err: String::new(),
        }
    }
}

fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s {
        None => Ok(Vec::new()),
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom),
    }
}

fn ser_bytes<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
}

fn map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_encoding_with_nulls_and_base64() {
        let r: AuthZRequest = serde_json::from_str(
            r#"{"User":"","UserAuthNMethod":"","RequestMethod":"POST","RequestURI":"/v1.47/containers/create","RequestBody":"eyJJbWFnZSI6ImEifQ==","RequestHeaders":{"Content-Type":"application/json"},"RequestPeerCertificates":null,"ResponseStatusCode":0,"ResponseBody":null,"ResponseHeaders":null}"#,
        )
        .unwrap();
        assert_eq!(r.request_body, br#"{"Image":"a"}"#);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.response_headers.is_empty());
        let empty: AuthZRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, AuthZRequest::default());
        // What dockerd sends (its `RequestUri` key, empty fields left out).
        let r: AuthZRequest = serde_json::from_str(
            r#"{"RequestMethod":"POST","RequestUri":"/v1.41/containers/create?name=x","RequestHeaders":{"Content-Type":"application/json"}}"#,
        )
        .unwrap();
        assert_eq!(r.request_uri, "/v1.41/containers/create?name=x");
        assert!(serde_json::to_string(&r)
            .unwrap()
            .contains(r#""RequestUri":"#));
    }

    #[test]
    fn answers_use_docker_field_names() {
        assert_eq!(
            serde_json::to_string(&AuthZResponse::deny("no")).unwrap(),
            r#"{"Allow":false,"Msg":"no","Err":""}"#
        );
        assert_eq!(
            serde_json::to_string(&Activation::authz()).unwrap(),
            r#"{"Implements":["authz"]}"#
        );
    }

    #[test]
    fn debug_shows_no_header_values() {
        let mut r = AuthZRequest::default();
        r.request_headers
            .insert("X-Registry-Auth".into(), "c2VjcmV0LXZhbHVl".into());
        let d = format!("{r:?}");
        assert!(
            d.contains("X-Registry-Auth") && !d.contains("c2VjcmV0"),
            "{d}"
        );
    }
}
