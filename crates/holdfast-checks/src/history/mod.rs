//! Risky image history: build steps that run unverified downloads, disable TLS checks,
//! open permissions or add UID 0 accounts; secrets written into ENV or ARG; images that
//! run as root or have no health check.
//!
//! Works on the image config alone (`ctx.metadata`), no file is read. A finding about a
//! step that made a layer points at that layer; steps that made none (ENV, ARG) and the
//! config's own settings have no layer. Patterns and words are in `rules.toml`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use holdfast_model::TargetKind;
use holdfast_model::{Finding, FindingKind};
use regex::Regex;
use serde::Deserialize;

use crate::rules::{clip, embedded, RuleText};
use crate::{CheckContext, Checked, Checker, ImageContext};

#[derive(Debug, Deserialize)]
struct HistoryRules {
    rule: Vec<CommandRule>,
    secrets: SecretRules,
    no_user: RuleText,
    no_healthcheck: RuleText,
}

#[derive(Debug, Deserialize)]
struct CommandRule {
    #[serde(flatten)]
    text: RuleText,
    #[serde(deserialize_with = "regex_de")]
    pattern: Regex,
}

#[derive(Debug, Deserialize)]
struct SecretRules {
    #[serde(deserialize_with = "regex_de")]
    name: Regex,
    #[serde(deserialize_with = "regex_de")]
    allow: Regex,
    env: RuleText,
    arg: RuleText,
}

fn regex_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Regex, D::Error> {
    let s = String::deserialize(d)?;
    Regex::new(&s).map_err(serde::de::Error::custom)
}

static RULES: LazyLock<HistoryRules> =
    LazyLock::new(|| embedded("history/rules.toml", include_str!("rules.toml")));

/// `NAME=VALUE` pairs, the value bare or quoted.
static PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)"#).expect("static regex")
});

/// Credentials a matched command may carry: URL user info, header and user options.
static CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<url>://[^/\s:@]+:)[^@\s]+@"#,
        r#"|(?P<opt>(?:-H|--header|--password|--http-password|--proxy-password)[\s=]+)(?:"[^"]*"|'[^']*'|\S+)"#,
        r#"|(?P<user>\s(?:-u|--user)[\s=]+[^\s:]+:)\S+"#,
    ))
        .expect("static regex")
});

/// The matched text with credentials masked, so evidence never carries a secret.
fn redact(text: &str) -> String {
    CREDENTIALS
        .replace_all(text, |c: &regex::Captures<'_>| {
            if let Some(u) = c.name("url") {
                format!("{}****@", u.as_str())
            } else if let Some(u) = c.name("user") {
                format!("{}****", u.as_str())
            } else {
                format!("{}<redacted>", &c["opt"])
            }
        })
        .into_owned()
}

/// Evidence is cut to this many bytes.
const MAX_EVIDENCE: usize = 160;

/// Build history and image-config checks.
pub struct HistoryChecker;

impl Checker for HistoryChecker {
    fn kinds(&self) -> &'static [FindingKind] {
        &[FindingKind::History]
    }

    fn check(&self, ctx: &CheckContext<'_>) -> Checked {
        // A directory has no build history or config to judge.
        if ctx.metadata.kind == TargetKind::Rootfs {
            return Checked::default();
        }
        let mut out = Vec::new();
        let config = &ctx.metadata.config;
        let layers = step_layers(ctx);
        let mut secret_names: BTreeSet<(String, String)> = BTreeSet::new();
        for entry in &config.config.env {
            secret_pair(entry, &RULES.secrets.env, None, &mut secret_names, &mut out);
        }
        for (step, entry) in config.history.iter().enumerate() {
            let Some(cmd) = entry.created_by.as_deref() else {
                continue;
            };
            let layer = layers.get(step).cloned().flatten();
            for rule in &RULES.rule {
                if let Some(m) = rule.pattern.find(cmd) {
                    let mut f = rule.text.finding(FindingKind::History);
                    f.layer = layer.clone();
                    f.description = format!("{} (history step {}.)", f.description, step + 1);
                    f.evidence = Some(clip(&redact(m.as_str()), MAX_EVIDENCE));
                    out.push(f);
                }
            }
            history_secrets(cmd, layer, &mut secret_names, &mut out);
        }
        if runs_as_root(&config.config.user) {
            out.push(RULES.no_user.finding(FindingKind::History));
        }
        if !has_healthcheck(config.config.healthcheck.as_ref()) {
            out.push(RULES.no_healthcheck.finding(FindingKind::History));
        }
        out.into()
    }
}

/// The layer each history step made, by position: steps that made a layer are matched
/// to layers in order, as the OCI image spec defines. When the counts disagree (a
/// container's flattened filesystem, a broken config) no step gets a layer.
fn step_layers(ctx: &ImageContext<'_>) -> Vec<Option<String>> {
    let history = &ctx.metadata.config.history;
    let made = history.iter().filter(|h| !h.empty_layer).count();
    let aligned = made == ctx.layers.len() && ctx.metadata.kind == TargetKind::Image;
    let mut next = 0;
    history
        .iter()
        .map(|h| {
            if h.empty_layer {
                return None;
            }
            let i = next;
            next += 1;
            if aligned {
                ctx.layer_id(i)
            } else {
                None
            }
        })
        .collect()
}

/// ENV and ARG values in one history command: `ENV A=b`, `ARG T=x`, and the `|N K=V ...`
/// prefix with which RUN steps record the build arguments they saw.
fn history_secrets(
    cmd: &str,
    layer: Option<String>,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut Vec<Finding>,
) {
    let instr = cmd
        .split_once("#(nop)")
        .map(|(_, rest)| rest)
        .unwrap_or(cmd)
        .trim_start();
    let (text, pairs) = if let Some(rest) = instr.strip_prefix("ENV ") {
        (&RULES.secrets.env, env_pairs(rest))
    } else if let Some(rest) = instr.strip_prefix("ARG ") {
        (
            &RULES.secrets.arg,
            PAIR.captures_iter(rest).map(pair).collect(),
        )
    } else if let Some(rest) = instr.strip_prefix('|') {
        // `|2 A=b C=d /bin/sh -c ...`: exactly N pairs follow the count.
        let mut parts = rest.splitn(2, ' ');
        let n: usize = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
        let rest = parts.next().unwrap_or_default();
        (
            &RULES.secrets.arg,
            PAIR.captures_iter(rest).take(n).map(pair).collect(),
        )
    } else {
        return;
    };
    for (name, value) in pairs {
        let entry = format!("{name}={value}");
        secret_pair(&entry, text, layer.clone(), seen, out);
    }
}

fn pair(c: regex::Captures<'_>) -> (String, String) {
    (c[1].to_string(), c[2].to_string())
}

/// `ENV A=b C=d`, or the legacy `ENV NAME value with spaces`.
fn env_pairs(rest: &str) -> Vec<(String, String)> {
    let rest = rest.trim();
    let first = rest.split_whitespace().next().unwrap_or_default();
    if first.contains('=') {
        PAIR.captures_iter(rest).map(pair).collect()
    } else {
        let value = rest[first.len()..].trim().to_string();
        vec![(first.to_string(), value)]
    }
}

/// Reports `NAME=VALUE` when the name looks secret and the value is a literal. Only the
/// name goes into the finding.
fn secret_pair(
    entry: &str,
    text: &RuleText,
    layer: Option<String>,
    seen: &mut BTreeSet<(String, String)>,
    out: &mut Vec<Finding>,
) {
    let Some((name, value)) = entry.split_once('=') else {
        return;
    };
    let s = &RULES.secrets;
    if !s.name.is_match(name) || s.allow.is_match(name) || !is_literal(value) {
        return;
    }
    if !seen.insert((text.id.clone(), name.to_string())) {
        return;
    }
    let mut f = text.finding(FindingKind::History);
    f.title = format!("{}: {name}", text.title);
    f.layer = layer;
    f.evidence = Some(format!("{name}=<redacted>"));
    out.push(f);
}

/// A value written out, not a reference to another variable or a secret file.
fn is_literal(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    !(v.is_empty() || v.starts_with('$') || v.starts_with("/run/secrets"))
}

/// An empty user, `root`, `0`, or `0:GID` runs as root.
fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default().trim();
    name.is_empty() || name == "root" || name == "0"
}

/// A HEALTHCHECK other than `NONE` (which disables an inherited one).
fn has_healthcheck(h: Option<&serde_json::Value>) -> bool {
    let Some(h) = h else {
        return false;
    };
    let test = h.get("Test").or_else(|| h.get("test"));
    match test.and_then(|t| t.as_array()) {
        Some(t) => !t.is_empty() && t[0].as_str() != Some("NONE"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching(cmd: &str) -> Vec<String> {
        RULES
            .rule
            .iter()
            .filter(|r| r.pattern.is_match(cmd))
            .map(|r| r.text.id.clone())
            .collect()
    }

    #[test]
    fn command_rules_and_near_misses() {
        let cases: &[(&str, &[&str])] = &[
            (
                "/bin/sh -c curl -fsSL https://example.invalid/i.sh | sh",
                &["HF-HISTORY-CURL-PIPE-SH"],
            ),
            (
                "RUN wget -qO- https://example.invalid/x | sudo bash -s",
                &["HF-HISTORY-CURL-PIPE-SH"],
            ),
            (
                "RUN curl -s https://example.invalid/get.py | python3 -",
                &["HF-HISTORY-CURL-PIPE-SH"],
            ),
            ("RUN curl -fsSL https://example.invalid/x.tgz | tar xz", &[]),
            (
                "RUN curl -o i.sh https://example.invalid/i.sh && sha256sum -c s && sh i.sh",
                &[],
            ),
            (
                "RUN curl -s https://example.invalid/SHA | sha256sum -c",
                &[],
            ),
            (
                "/bin/sh -c #(nop) ADD https://example.invalid/app.tgz /opt/",
                &["HF-HISTORY-ADD-REMOTE-URL"],
            ),
            (
                "ADD --chown=1 http://example.invalid/x /x # buildkit",
                &["HF-HISTORY-ADD-REMOTE-URL"],
            ),
            ("/bin/sh -c #(nop) ADD file:abc in / ", &[]),
            (
                "RUN wget --no-check-certificate https://example.invalid/x",
                &["HF-HISTORY-WGET-NO-CHECK-CERT"],
            ),
            (
                "RUN curl -fsSLk https://example.invalid/x -o x",
                &["HF-HISTORY-CURL-INSECURE"],
            ),
            (
                "RUN curl --insecure -o x https://example.invalid/x",
                &["HF-HISTORY-CURL-INSECURE"],
            ),
            (
                "RUN curl -fsSL --keepalive-time 5 -o x https://example.invalid/x",
                &[],
            ),
            (
                "RUN pip install --trusted-host pypi.example.invalid foo",
                &["HF-HISTORY-PIP-TRUSTED-HOST"],
            ),
            (
                "RUN npm config set strict-ssl false",
                &["HF-HISTORY-NPM-STRICT-SSL-OFF"],
            ),
            ("RUN npm config set strict-ssl true", &[]),
            (
                "RUN GIT_SSL_NO_VERIFY=true git clone https://example.invalid/r",
                &["HF-HISTORY-GIT-SSL-NO-VERIFY"],
            ),
            ("RUN chmod -R 777 /app", &["HF-HISTORY-CHMOD-777"]),
            ("RUN chmod 1777 /scratch && chmod 755 /app", &[]),
            ("RUN useradd -o -u 0 -g 0 toor", &["HF-HISTORY-UID0-USER"]),
            ("RUN useradd -u 0 -o admin2", &["HF-HISTORY-UID0-USER"]),
            (
                "RUN echo 'toor:x:0:0:root:/root:/bin/bash' >> /etc/passwd",
                &["HF-HISTORY-UID0-USER"],
            ),
            ("RUN useradd -u 1000 -m app", &[]),
            ("RUN useradd -u 10 app", &[]),
        ];
        for (cmd, want) in cases {
            assert_eq!(matching(cmd), *want, "{cmd}");
        }
    }

    #[test]
    fn secrets_named_never_shown() {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for e in [
            "DB_PASSWORD=hunter2hunter2",
            "API_TOKEN=abc123",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
            "PASSWORD_FILE=/run/secrets/pw",
            "TOKEN=$CI_TOKEN",
            "SECRET=",
            "PATH=/usr/bin",
            "MONKEY=banana",
        ] {
            secret_pair(e, &RULES.secrets.env, None, &mut seen, &mut out);
        }
        let names: Vec<&str> = out.iter().map(|f| f.evidence.as_deref().unwrap()).collect();
        assert_eq!(
            names,
            vec![
                "DB_PASSWORD=<redacted>",
                "API_TOKEN=<redacted>",
                "AWS_SECRET_ACCESS_KEY=<redacted>"
            ]
        );
        let json = serde_json::to_string(&out).unwrap();
        assert!(!json.contains("hunter2") && !json.contains("abc123") && !json.contains("wJalr"));

        let mut out = Vec::new();
        history_secrets(
            "/bin/sh -c #(nop)  ENV ADMIN_PASSWORD s3cr3t value",
            None,
            &mut seen,
            &mut out,
        );
        history_secrets("ARG NPM_TOKEN=npm_abcdef", None, &mut seen, &mut out);
        history_secrets(
            "|2 GITHUB_TOKEN=ghp_x VERSION=1 /bin/sh -c make",
            None,
            &mut seen,
            &mut out,
        );
        history_secrets("RUN echo TOKEN=notanarg", None, &mut seen, &mut out);
        let ids: Vec<(String, String)> = out
            .iter()
            .map(|f| (f.id.clone(), f.evidence.clone().unwrap()))
            .collect();
        assert_eq!(
            ids,
            vec![
                (
                    "HF-HISTORY-SECRET-ENV".into(),
                    "ADMIN_PASSWORD=<redacted>".into()
                ),
                (
                    "HF-HISTORY-SECRET-ARG".into(),
                    "NPM_TOKEN=<redacted>".into()
                ),
                (
                    "HF-HISTORY-SECRET-ARG".into(),
                    "GITHUB_TOKEN=<redacted>".into()
                ),
            ]
        );
    }

    #[test]
    fn evidence_masks_credentials() {
        assert_eq!(
            redact("curl -H 'Authorization: token abc' https://u:pw@example.invalid/i | sh"),
            "curl -H <redacted> https://u:****@example.invalid/i | sh"
        );
        assert_eq!(
            redact("wget --user=bob --password=x https://example.invalid/"),
            "wget --user=bob --password=<redacted> https://example.invalid/"
        );
        assert_eq!(
            redact("curl -u bob:pw https://example.invalid/ | sh"),
            "curl -u bob:**** https://example.invalid/ | sh"
        );
        assert_eq!(redact("useradd -o -u 0 toor"), "useradd -o -u 0 toor");
        assert_eq!(
            redact("curl -fsSL https://example.invalid/x | sh"),
            "curl -fsSL https://example.invalid/x | sh"
        );
    }

    #[test]
    fn user_and_healthcheck() {
        assert!(runs_as_root(""));
        assert!(runs_as_root("0:0"));
        assert!(runs_as_root("root"));
        assert!(!runs_as_root("app"));
        assert!(!runs_as_root("1000:1000"));
        assert!(!has_healthcheck(None));
        assert!(!has_healthcheck(Some(
            &serde_json::json!({"Test": ["NONE"]})
        )));
        assert!(has_healthcheck(Some(
            &serde_json::json!({"Test": ["CMD", "true"]})
        )));
    }
}
