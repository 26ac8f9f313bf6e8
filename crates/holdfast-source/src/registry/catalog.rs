//! Listing a registry: repositories (`/v2/_catalog`) and each repository's tags, both
//! paginated. `oci-client` has no catalog call, so the catalog is read with the same
//! reqwest settings; a bearer challenge is answered with a `registry:catalog:*` token.

use std::collections::HashSet;
use std::sync::Arc;

use oci_client::Reference;
use serde::Deserialize;

use super::connection::RegistryConnection;
use super::Credential;
use crate::SourceError;

/// Page size asked for; the registry may send fewer.
const PAGE: usize = 100;
/// Bounds on what a hostile or broken registry can make us read.
const MAX_PAGES: usize = 10_000;
const MAX_PAGE_BYTES: usize = 16 << 20;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Vec<String>,
}

/// Every repository of the registry, in the order it lists them.
pub fn list_repositories(conn: &Arc<RegistryConnection>) -> Result<Vec<String>, SourceError> {
    let base = format!("{}://{}", conn.scheme, conn.host);
    let mut url = format!("{base}/v2/_catalog?n={PAGE}");
    let mut repos = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (page, next) = conn.runtime.block_on(fetch_page(conn, &url, &mut token))?;
        let before = repos.len();
        repos.extend(page.repositories);
        match next {
            Some(n) if repos.len() > before => {
                url = if n.starts_with('/') {
                    format!("{base}{n}")
                } else {
                    n
                };
                if !url.starts_with(&base) {
                    return Err(conn.message(format!(
                        "registry `{}`: the catalog's next page points elsewhere; not followed",
                        conn.host
                    )));
                }
            }
            _ => return Ok(repos),
        }
    }
    Err(conn.message(format!(
        "registry `{}`: the catalog has more than {MAX_PAGES} pages",
        conn.host
    )))
}

async fn fetch_page(
    conn: &RegistryConnection,
    url: &str,
    token: &mut Option<String>,
) -> Result<(CatalogPage, Option<String>), SourceError> {
    let fail = |what: String| conn.message(format!("registry `{}`: catalog: {what}", conn.host));
    for attempt in 0..2 {
        let mut req = conn.http.get(url);
        req = match (&*token, &conn.credential) {
            (Some(t), _) => req.bearer_auth(t),
            (None, Credential::Basic { username, password }) => {
                req.basic_auth(username, Some(password.expose()))
            }
            (None, Credential::Bearer(t)) => req.bearer_auth(t.expose()),
            (None, Credential::Anonymous) => req,
        };
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 && token.is_none() {
            let challenge = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if let Some(c) = challenge.as_deref().and_then(parse_bearer_challenge) {
                *token = Some(fetch_token(conn, &c).await?);
                continue;
            }
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(conn.message(format!(
                "registry `{}` refused access to the catalog ({}; HTTP 401 Unauthorized)",
                conn.host,
                conn.credential.describe()
            )));
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        let next = resp
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let body = bounded_body(resp).await.map_err(fail)?;
        let page: CatalogPage =
            serde_json::from_slice(&body).map_err(|e| fail(format!("not a catalog page: {e}")))?;
        return Ok((page, next));
    }
    Err(fail("the registry keeps asking for credentials".into()))
}

async fn bounded_body(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_PAGE_BYTES {
            return Err(format!("a page is larger than {MAX_PAGE_BYTES} bytes"));
        }
    }
    Ok(body)
}

/// `realm` and `service` of a `Bearer` challenge.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

fn parse_bearer_challenge(header: &str) -> Option<Challenge> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut realm = None;
    let mut service = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            _ => {}
        }
    }
    Some(Challenge {
        realm: realm?,
        service,
    })
}

async fn fetch_token(conn: &RegistryConnection, c: &Challenge) -> Result<String, SourceError> {
    #[derive(Deserialize)]
    struct TokenResponse {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
    }
    let mut query = vec![("scope", "registry:catalog:*".to_string())];
    if let Some(s) = &c.service {
        query.push(("service", s.clone()));
    }
    let mut req = conn.http.get(&c.realm).query(&query);
    if let Credential::Basic { username, password } = &conn.credential {
        req = req.basic_auth(username, Some(password.expose()));
    }
    let fail = |what: String| {
        conn.message(format!(
            "registry `{}`: catalog token from its auth server: {what}",
            conn.host
        ))
    };
    let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let body = bounded_body(resp).await.map_err(fail)?;
    let t: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| fail(format!("unreadable answer: {e}")))?;
    t.token
        .or(t.access_token)
        .ok_or_else(|| fail("no token in the answer".into()))
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Every tag of `repository`, paginated with `n`/`last`.
pub fn list_tags(
    conn: &Arc<RegistryConnection>,
    repository: &str,
) -> Result<Vec<String>, SourceError> {
    let reference = Reference::with_tag(conn.host.clone(), repository.to_string(), "latest".into());
    let mut tags: Vec<String> = Vec::new();
    // The tags already listed, so a registry that repeats pages costs no quadratic scan.
    let mut seen: HashSet<String> = HashSet::new();
    let mut last: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = conn
            .runtime
            .block_on(
                conn.client
                    .list_tags(&reference, &conn.auth, Some(PAGE), last.as_deref()),
            )
            .map_err(|e| conn.error(&format!("tags of `{repository}`"), &e))?;
        let fresh: Vec<String> = page
            .tags
            .into_iter()
            .filter(|t| !seen.contains(t))
            .collect();
        if fresh.is_empty() {
            return Ok(tags);
        }
        let short = fresh.len() < PAGE;
        last = fresh.last().cloned();
        seen.extend(fresh.iter().cloned());
        tags.extend(fresh);
        if short {
            return Ok(tags);
        }
    }
    Err(conn.message(format!(
        "registry `{}`: `{repository}` has more than {MAX_PAGES} pages of tags",
        conn.host
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_and_challenge_parsing() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(
            parse_bearer_challenge(
                r#"Bearer realm="https://auth.example.invalid/token",service="reg""#
            ),
            Some(Challenge {
                realm: "https://auth.example.invalid/token".into(),
                service: Some("reg".into())
            })
        );
        assert_eq!(parse_bearer_challenge(r#"Basic realm="x""#), None);
    }
}
