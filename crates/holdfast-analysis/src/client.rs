//! One Chat Completions call over ureq, with the retries a public API needs: 429 with
//! `Retry-After` (honoured up to a cap), 5xx and connection failures with a short
//! backoff, a bounded number of times. Timeouts are not retried (they would multiply the
//! wait). Proxies come from the environment, chosen by the endpoint's scheme, with
//! `NO_PROXY` honoured.

use std::io::Read;
use std::time::Duration;

use holdfast_model::AnalysisWarningKind;

use crate::{Config, Token};

/// Largest response body read.
const MAX_BODY: u64 = 8 << 20;
/// Longest error text from the server kept in a warning.
const MAX_ERROR_TEXT: usize = 300;

/// A parsed endpoint: where requests go, and what may be shown of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The full Chat Completions URL.
    pub url: String,
    /// `host[:port]`, for the result and messages.
    pub host: String,
    pub scheme: String,
    pub hostname: String,
    pub port: u16,
}

impl Endpoint {
    /// Parses `--ai-endpoint`: an http(s) base URL (`BASE/chat/completions` is called; a
    /// URL already ending in `/chat/completions` is used as it is), without credentials.
    pub fn parse(base: &str) -> Result<Self, String> {
        let base = base.trim();
        let url = url::Url::parse(base)
            .map_err(|e| format!("the AI endpoint is not a URL ({e}); give a base URL such as https://api.openai.com/v1"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the AI endpoint must be an http:// or https:// URL, not `{}:`",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the AI endpoint must not hold credentials; give the token in HOLDFAST_AI_TOKEN or --ai-token-file".into());
        }
        let hostname = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the AI endpoint has no host")?
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let host = match url.port() {
            Some(p) => format!("{hostname}:{p}"),
            None => hostname.clone(),
        };
        let mut full = url.clone();
        let path = url.path().trim_end_matches('/');
        if !path.ends_with("/chat/completions") {
            full.set_path(&format!("{path}/chat/completions"));
        }
        full.set_fragment(None);
        Ok(Endpoint {
            url: full.to_string(),
            host,
            scheme: url.scheme().to_string(),
            hostname: hostname
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        })
    }

    /// Whether the host is this machine (a token over plain HTTP stays on it).
    pub fn is_loopback(&self) -> bool {
        self.hostname == "localhost"
            || self
                .hostname
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// The proxy for `endpoint` from the environment: `HTTPS_PROXY` for https, `HTTP_PROXY`
/// for http (either case), then `ALL_PROXY`; none when `NO_PROXY` names the host (`*`,
/// a host, a domain suffix with or without a leading dot, optionally with `:port`).
pub(crate) fn proxy_from_env(
    endpoint: &Endpoint,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            env(n)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    };
    if let Some(no_proxy) = get(&["NO_PROXY", "no_proxy"]) {
        if no_proxy_matches(&no_proxy, &endpoint.hostname, endpoint.port) {
            return None;
        }
    }
    let by_scheme: &[&str] = if endpoint.scheme == "https" {
        &["HTTPS_PROXY", "https_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy"]
    };
    get(by_scheme).or_else(|| get(&["ALL_PROXY", "all_proxy"]))
}

/// Whether a `NO_PROXY` list names `host` (and `port`).
pub(crate) fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            // `[::1]:8080`, `host:8080`, `host`.
            let (name, want_port) = match entry.rsplit_once(':') {
                Some((n, p)) if !n.is_empty() && p.parse::<u16>().is_ok() && !n.ends_with(':') => {
                    (n.to_string(), p.parse::<u16>().ok())
                }
                _ => (entry.clone(), None),
            };
            if want_port.is_some_and(|p| p != port) {
                return false;
            }
            let name = name.trim_start_matches('[').trim_end_matches(']');
            let name = name.trim_start_matches("*.").trim_start_matches('.');
            host == name || host.ends_with(&format!(".{name}"))
        })
}

/// What went wrong with one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AskError {
    pub kind: AnalysisWarningKind,
    pub message: String,
    /// Whether asking again (another part) would fail the same way: unreachable, timed
    /// out, refused credentials, no such model or path.
    pub fatal: bool,
}

impl AskError {
    fn new(kind: AnalysisWarningKind, message: impl Into<String>, fatal: bool) -> Self {
        AskError {
            kind,
            message: message.into(),
            fatal,
        }
    }
}

/// The model's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub text: String,
    /// The model stopped at its output limit (`finish_reason: length`).
    pub cut_short: bool,
}

/// Talks to one endpoint.
pub(crate) struct Client {
    agent: ureq::Agent,
    endpoint: Endpoint,
    token: Option<Token>,
    model: String,
    temperature: Option<f64>,
    max_retries: u32,
    retry_after_cap: Duration,
    backoff: Duration,
}

impl Client {
    /// A client for `config`, with the proxy the environment names.
    pub fn new(
        config: &Config,
        endpoint: Endpoint,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut builder = ureq::AgentBuilder::new()
            .timeout_connect(config.timeout.min(Duration::from_secs(15)))
            .timeout(config.timeout)
            // A redirect of a POST is not followed: the body and the token stay where
            // they were sent.
            .redirects(0)
            .user_agent(&format!("holdfast/{}", env!("CARGO_PKG_VERSION")))
            .try_proxy_from_env(false);
        if let Some(p) = proxy_from_env(&endpoint, env) {
            let proxy = ureq::Proxy::new(&p).map_err(|_| {
                "the proxy named by the environment (HTTPS_PROXY/HTTP_PROXY/ALL_PROXY) is not an http:// proxy URL this client can use".to_string()
            })?;
            builder = builder.proxy(proxy);
        }
        Ok(Client {
            agent: builder.build(),
            endpoint,
            token: config.token.clone(),
            model: config.model.clone(),
            temperature: config.temperature,
            max_retries: config.max_retries,
            retry_after_cap: config.retry_after_cap,
            backoff: Duration::from_millis(500),
        })
    }

    /// Removes the token (whole, and its first characters as APIs echo them) from text
    /// that came back from the server.
    fn without_token(&self, text: &str) -> String {
        let mut s = text.to_string();
        if let Some(t) = &self.token {
            let t = t.expose();
            if !t.is_empty() {
                s = s.replace(t, "[token]");
                let head: String = t.chars().take(8).collect();
                if head.chars().count() >= 6 {
                    s = s.replace(&head, "[token]");
                }
            }
        }
        s
    }

    /// Asks one question: `system` as the instructions, `user` as the content.
    pub fn ask(&self, system: &str, user: &str) -> Result<Answer, AskError> {
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        });
        if let Some(t) = self.temperature {
            body["temperature"] = serde_json::json!(t);
        }
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut attempt = 0u32;
        loop {
            let mut req = self
                .agent
                .post(&self.endpoint.url)
                .set("Content-Type", "application/json")
                .set("Accept", "application/json");
            if let Some(t) = &self.token {
                req = req.set("Authorization", &format!("Bearer {}", t.expose()));
            }
            let wait = match req.send_string(&body) {
                Ok(resp) => return self.answer(resp),
                Err(ureq::Error::Status(code, resp)) => {
                    let retry_after = resp.header("Retry-After").map(str::to_string);
                    let text = self.error_text(code, resp);
                    match code {
                        429 => {
                            let asked = retry_after.as_deref().and_then(parse_retry_after);
                            if let Some(a) = asked.filter(|a| *a > self.retry_after_cap) {
                                return Err(AskError::new(
                                    AnalysisWarningKind::RateLimited,
                                    format!(
                                        "rate limited (HTTP 429): asked to wait {} s, more than the {} s this run waits{text}",
                                        a.as_secs(),
                                        self.retry_after_cap.as_secs()
                                    ),
                                    true,
                                ));
                            }
                            if attempt >= self.max_retries {
                                return Err(AskError::new(
                                    AnalysisWarningKind::RateLimited,
                                    format!(
                                        "rate limited (HTTP 429) after {} tries{text}",
                                        attempt + 1
                                    ),
                                    true,
                                ));
                            }
                            asked.unwrap_or_else(|| self.backoff_for(attempt))
                        }
                        500..=599 => {
                            if attempt >= self.max_retries {
                                return Err(AskError::new(
                                    AnalysisWarningKind::HttpStatus,
                                    format!(
                                        "the endpoint answered HTTP {code} after {} tries{text}",
                                        attempt + 1
                                    ),
                                    false,
                                ));
                            }
                            retry_after
                                .as_deref()
                                .and_then(parse_retry_after)
                                .filter(|a| *a <= self.retry_after_cap)
                                .unwrap_or_else(|| self.backoff_for(attempt))
                        }
                        _ => {
                            let hint = match code {
                                401 | 403 => " (check HOLDFAST_AI_TOKEN or --ai-token-file)",
                                404 => " (check --ai-endpoint: BASE/chat/completions is called, and --ai-model)",
                                _ => "",
                            };
                            return Err(AskError::new(
                                AnalysisWarningKind::HttpStatus,
                                format!("the endpoint answered HTTP {code}{hint}{text}"),
                                matches!(code, 300..=399 | 401 | 403 | 404 | 405),
                            ));
                        }
                    }
                }
                Err(ureq::Error::Transport(t)) => {
                    let message = self.without_token(&t.to_string());
                    if is_timeout(&t) {
                        return Err(AskError::new(
                            AnalysisWarningKind::Timeout,
                            format!("no answer within the timeout: {message}"),
                            true,
                        ));
                    }
                    if attempt >= self.max_retries {
                        return Err(AskError::new(
                            AnalysisWarningKind::Connection,
                            format!(
                                "cannot reach the endpoint after {} tries: {message}",
                                attempt + 1
                            ),
                            true,
                        ));
                    }
                    self.backoff_for(attempt)
                }
            };
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn backoff_for(&self, attempt: u32) -> Duration {
        self.backoff * 2u32.saturating_pow(attempt.min(5))
    }

    /// A short description of an error response: its `error.message` (or text), never for
    /// refused credentials (APIs echo part of the key there), without the token.
    fn error_text(&self, code: u16, resp: ureq::Response) -> String {
        if matches!(code, 401 | 403) {
            return String::new();
        }
        let mut raw = String::new();
        let _ = resp.into_reader().take(64 << 10).read_to_string(&mut raw);
        let msg = serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or_else(|| v.get("error"))
                    .or_else(|| v.get("message"))
                    .and_then(|m| m.as_str().map(str::to_string))
            })
            .unwrap_or(raw);
        let msg: String = msg
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let msg = self.without_token(msg.trim());
        if msg.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::summary::clip(&msg, MAX_ERROR_TEXT))
        }
    }

    fn answer(&self, resp: ureq::Response) -> Result<Answer, AskError> {
        let mut raw = Vec::new();
        resp.into_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut raw)
            .map_err(|e| {
                let timeout = matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                );
                AskError::new(
                    if timeout {
                        AnalysisWarningKind::Timeout
                    } else {
                        AnalysisWarningKind::Connection
                    },
                    format!("the answer could not be read: {e}"),
                    timeout,
                )
            })?;
        if raw.len() as u64 > MAX_BODY {
            return Err(AskError::new(
                AnalysisWarningKind::BadResponse,
                format!("the answer is larger than {} MiB", MAX_BODY >> 20),
                false,
            ));
        }
        let bad = |why: &str| {
            AskError::new(
                AnalysisWarningKind::BadResponse,
                format!("the answer is not a Chat Completions response: {why}"),
                false,
            )
        };
        let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| bad("not JSON"))?;
        let choice = v.pointer("/choices/0").ok_or_else(|| bad("no choices"))?;
        let text = choice
            .pointer("/message/content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| bad("no text in choices[0].message.content"))?;
        if text.trim().is_empty() {
            return Err(bad("the model's text is empty"));
        }
        Ok(Answer {
            text: text.trim().to_string(),
            cut_short: choice.get("finish_reason").and_then(|f| f.as_str()) == Some("length"),
        })
    }
}

/// Whether a transport error is the timeout running out.
fn is_timeout(t: &ureq::Transport) -> bool {
    use std::error::Error;
    let mut source: Option<&(dyn Error + 'static)> = t.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                return true;
            }
        }
        source = e.source();
    }
    let text = t.to_string().to_ascii_lowercase();
    text.contains("timed out") || text.contains("timeout")
}

/// `Retry-After` in seconds (an HTTP date is not parsed: the backoff applies).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed_and_shown_without_path_or_credentials() {
        let e = Endpoint::parse("https://api.example.com/v1/").unwrap();
        assert_eq!(e.url, "https://api.example.com/v1/chat/completions");
        assert_eq!(e.host, "api.example.com");
        assert_eq!(e.port, 443);
        let e = Endpoint::parse("http://127.0.0.1:8080/v1/chat/completions").unwrap();
        assert_eq!(e.url, "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(e.host, "127.0.0.1:8080");
        assert!(e.is_loopback());
        let e = Endpoint::parse("http://[::1]:9/x?api-version=1").unwrap();
        assert_eq!(e.url, "http://[::1]:9/x/chat/completions?api-version=1");
        assert!(e.is_loopback());
        assert!(Endpoint::parse("https://user:pw@api.example.com/v1")
            .unwrap_err()
            .contains("credentials"));
        assert!(Endpoint::parse("ftp://x/").is_err());
        assert!(Endpoint::parse("api.example.com").is_err());
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn proxies_follow_the_scheme_and_no_proxy() {
        let https = Endpoint::parse("https://api.example.com/v1").unwrap();
        let http = Endpoint::parse("http://models.internal:8000/v1").unwrap();
        let env = env_of(&[
            ("HTTPS_PROXY", "http://sproxy:3128"),
            ("http_proxy", "http://proxy:3128"),
        ]);
        assert_eq!(
            proxy_from_env(&https, &env).as_deref(),
            Some("http://sproxy:3128")
        );
        assert_eq!(
            proxy_from_env(&http, &env).as_deref(),
            Some("http://proxy:3128")
        );
        let env = env_of(&[
            ("HTTPS_PROXY", "http://sproxy:3128"),
            ("HTTP_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "localhost, .internal"),
        ]);
        assert_eq!(proxy_from_env(&http, &env), None);
        assert!(proxy_from_env(&https, &env).is_some());
        let env = env_of(&[("ALL_PROXY", "http://all:1")]);
        assert_eq!(
            proxy_from_env(&https, &env).as_deref(),
            Some("http://all:1")
        );
        assert_eq!(proxy_from_env(&https, &env_of(&[])), None);
    }

    #[test]
    fn no_proxy_entries() {
        assert!(no_proxy_matches("*", "a.b", 1));
        assert!(no_proxy_matches("example.com", "api.example.com", 443));
        assert!(no_proxy_matches(".example.com", "api.example.com", 443));
        assert!(no_proxy_matches("*.example.com", "api.example.com", 443));
        assert!(!no_proxy_matches("example.com", "notexample.com", 443));
        assert!(no_proxy_matches("127.0.0.1:8080", "127.0.0.1", 8080));
        assert!(!no_proxy_matches("127.0.0.1:8080", "127.0.0.1", 9090));
        assert!(no_proxy_matches("[::1]", "::1", 80));
        assert!(no_proxy_matches("::1", "::1", 80));
        assert!(!no_proxy_matches("", "a", 1));
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
