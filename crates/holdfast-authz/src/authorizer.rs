//! Deciding one request: which policies cover it, which image it concerns, the verdicts
//! (cached, or scanned once however many requests ask at the same time), the deadline,
//! and the answer, the log line and the alert.
//!
//! ```text
//! AuthZReq ─► operation (action.rs) ─► policies covering it? ─ no ─► allow at once
//!                                          │ yes
//!            subject (body, query, path) ─► resolve: image id / registry digest (Backend)
//!                                          │
//!   per (image digest, policy version): cache hit ─► verdict
//!                                       in flight ─► wait for it
//!                                       else      ─► scan on a blocking thread ─► cache
//!                                          │
//!   deadline passed or scan failed ─► fail_mode (closed: deny, open: allow);
//!   the scan goes on in the background and fills the cache
//! ```

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use holdfast_model::{FindingKind, ScanResult, Severity};
use holdfast_source::registry::RegistryOptions;
use holdfast_source::Platform;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::action::{self, RegistryAuth, Subject};
use crate::audit::{one_line, Audit, PluginLog};
use crate::config::{Config, FailMode, PolicyConfig};
use crate::protocol::{AuthZRequest, AuthZResponse};

/// Most findings a verdict keeps for messages and alerts.
const KEPT_FINDINGS: usize = 20;
/// Findings named in a deny message, per image.
const NAMED_FINDINGS: usize = 5;
/// Longest deny message.
const MAX_MESSAGE: usize = 1500;
/// Most verdicts cached.
const MAX_CACHED: usize = 4096;

/// Where a scan reads an image.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// An image of the Docker daemon, by id.
    Daemon {
        /// `sha256:...`.
        id: String,
    },
    /// An image in a registry, pinned by digest.
    Registry {
        /// `host/repo@sha256:...`.
        reference: String,
        /// The platform to choose from an index.
        platform: Option<Platform>,
        /// How to reach the registry (credentials, plain HTTP).
        options: Box<RegistryOptions>,
    },
}

/// One image a request concerns, resolved.
#[derive(Debug, Clone)]
pub struct ImageRef {
    /// What the request called it.
    pub name: String,
    /// The image id (config digest): the cache key, shared by a pulled image and the
    /// same image in the daemon.
    pub digest: String,
    /// Where to read it.
    pub source: ImageSource,
}

/// What a subject resolved to.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// The images to scan.
    Images(Vec<ImageRef>),
    /// There is no such image (or container): the daemon refuses the request itself;
    /// why.
    Absent(String),
}

/// What finds and scans images; the engine in production ([`crate::engine`]), a stand-in
/// in tests.
pub trait Backend: Send + Sync + 'static {
    /// Resolves a subject to images (daemon and registry lookups).
    fn resolve(
        &self,
        subject: &Subject,
        credentials: Option<RegistryAuth>,
    ) -> impl Future<Output = Result<Resolved, String>> + Send;

    /// Scans one image for one policy. Blocking: runs on a blocking thread.
    fn scan(&self, image: &ImageRef, rule: &Rule) -> Result<ScanResult, String>;

    /// What, besides the policy's own words, changes its verdicts (plugin versions,
    /// the database, settings); part of the policy version.
    fn fingerprint(&self, _policy_index: usize) -> String {
        String::new()
    }
}

/// A policy, ready to judge.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its position in the config.
    pub index: usize,
    /// What the config says.
    pub config: PolicyConfig,
    /// The filter its verdicts are judged with (`risk_level_filter`).
    pub policy: holdfast_policy::Policy,
    /// A hash of everything that decides its verdicts: the cache key's second half.
    pub version: String,
}

impl Rule {
    /// The rule for `config`, whose verdicts also depend on `fingerprint`.
    pub fn new(index: usize, config: PolicyConfig, fingerprint: &str) -> Self {
        let policy = holdfast_policy::Policy {
            severities: config.severities.clone(),
            ignore_unfixed: config.ignore_unfixed,
            ignore: config.exceptions.clone(),
            ..holdfast_policy::Policy::default()
        };
        let words = json!({
            "holdfast": env!("CARGO_PKG_VERSION"),
            "scanners": config.scanners.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "plugins": config.plugins,
            "params": format!("{:?}", config.plugin_params),
            "severities": config.severities.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "ignore_unfixed": config.ignore_unfixed,
            "exceptions": format!("{:?}", config.exceptions.rules),
            "max_image_age": config.max_image_age.map(|d| d.as_secs()),
            "fingerprint": fingerprint,
        });
        let version = hex::encode(&Sha256::digest(words.to_string().as_bytes())[..6]);
        Rule {
            index,
            config,
            policy,
            version,
        }
    }
}

impl Rule {
    /// The filter a scan for this rule applies: the rule's own, without its exceptions,
    /// which expire and so are applied when judging ([`Rule::judge`]), never baked into
    /// a result.
    pub fn scan_policy(&self) -> holdfast_policy::Policy {
        holdfast_policy::Policy {
            ignore: Default::default(),
            ..self.policy.clone()
        }
    }

    /// Judges a scan result on `now`'s date: exceptions still in force, and the image's
    /// age against `max_image_age`.
    pub fn judge(&self, result: &ScanResult, now: time::OffsetDateTime) -> Judgement {
        let policy = holdfast_policy::Policy {
            today: Some(now.date()),
            ..self.policy.clone()
        };
        let mut j = judge(&policy, result);
        if let Some(max) = self.config.max_image_age {
            j.too_old = image_age_problem(result, max, now);
            j.fails |= j.too_old.is_some();
        }
        j
    }

    /// Why `reference` may not be used under this rule (`allowed_registries`,
    /// `require_digest`), before any scan; `None` when it may.
    pub fn reference_problem(&self, reference: &str) -> Option<String> {
        let c = &self.config;
        if c.allowed_registries.is_empty() && !c.require_digest {
            return None;
        }
        let parsed = match holdfast_source::registry::parse_reference(reference) {
            Ok(r) => r,
            Err(_) => return Some("not an image reference".into()),
        };
        if !c.allowed_registries.is_empty() {
            let full =
                format!("{}/{}", parsed.registry(), parsed.repository()).to_ascii_lowercase();
            let allowed = c
                .allowed_registries
                .iter()
                .any(|a| full == *a || full.starts_with(&format!("{a}/")));
            if !allowed {
                return Some(format!(
                    "{} is not an allowed registry (allowed_registries: {})",
                    parsed.registry(),
                    c.allowed_registries.join(", ")
                ));
            }
        }
        if c.require_digest && parsed.digest().is_none() {
            return Some("named by tag, not by digest (require_digest)".into());
        }
        None
    }
}

/// The image's age problem under `max`: built before `now - max`, or no build time (or
/// one in the future, which cannot be trusted either).
fn image_age_problem(
    result: &ScanResult,
    max: Duration,
    now: time::OffsetDateTime,
) -> Option<String> {
    let limit = match max.as_secs() {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ => humantime::format_duration(max).to_string(),
    };
    let created = result.targets.iter().find_map(|t| t.created.as_deref());
    let Some(text) = created else {
        return Some(format!(
            "the image states no build time (max_image_age {limit})"
        ));
    };
    let Ok(built) =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    else {
        return Some(format!(
            "the image's build time `{}` is not a date (max_image_age {limit})",
            one_line(text)
        ));
    };
    let age = now - built;
    if age.is_negative() && age.unsigned_abs() > Duration::from_secs(86_400) {
        return Some(format!(
            "the image claims to be built in the future ({text})"
        ));
    }
    (age.unsigned_abs() > max && age.is_positive()).then(|| {
        format!(
            "built {} ({} days ago), older than max_image_age {limit}",
            built.date(),
            age.whole_days()
        )
    })
}

/// A finding that counted against an image, as messages and alerts name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The finding's id.
    pub id: String,
    /// Its kind.
    pub kind: FindingKind,
    /// Its severity.
    pub severity: Severity,
    /// The package, for findings about one.
    pub package: Option<String>,
    /// The package's version.
    pub version: Option<String>,
    /// The file, for findings about one.
    pub path: Option<String>,
    /// The finding's title.
    pub title: String,
}

impl Counted {
    /// One short line for the client: `ID (SEVERITY) package version: title` (or the
    /// path instead of the package), control characters replaced.
    pub fn short(&self) -> String {
        let what = match (&self.package, &self.version, &self.path) {
            (Some(p), Some(v), _) => format!(" {p} {v}"),
            (Some(p), None, _) => format!(" {p}"),
            (None, _, Some(path)) => format!(" {path}"),
            _ => String::new(),
        };
        let mut title: String = self.title.chars().take(80).collect();
        if title.len() < self.title.len() {
            title.push('…');
        }
        one_line(&format!(
            "{} ({}){what}: {title}",
            self.id,
            self.severity.as_str()
        ))
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id, "kind": self.kind.as_str(), "severity": self.severity.as_str(),
            "package": self.package, "version": self.version, "path": self.path,
            "title": self.title,
        })
    }
}

/// A policy's verdict on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Whether a finding counted.
    pub fails: bool,
    /// How many findings counted.
    pub total: usize,
    /// The worst of them (at most 20), worst first.
    pub findings: Vec<Counted>,
    /// Why the image is too old under `max_image_age`, when it is.
    pub too_old: Option<String>,
}

/// Judges a scan result with `holdfast_policy::verdict` and keeps what messages need.
pub fn judge(policy: &holdfast_policy::Policy, result: &ScanResult) -> Judgement {
    let verdict = holdfast_policy::verdict(policy, result);
    let mut used: HashSet<(usize, usize)> = HashSet::new();
    let mut findings = Vec::new();
    for d in verdict.deciders.iter().take(KEPT_FINDINGS) {
        let found = result.targets.iter().enumerate().find_map(|(ti, t)| {
            if t.name != d.target {
                return None;
            }
            t.findings.iter().enumerate().find_map(|(fi, f)| {
                (f.id == d.id && f.severity == d.severity && !used.contains(&(ti, fi)))
                    .then_some((ti, fi, f))
            })
        });
        let counted = match found {
            Some((ti, fi, f)) => {
                used.insert((ti, fi));
                Counted {
                    id: f.id.clone(),
                    kind: f.kind,
                    severity: f.severity,
                    package: f.package.clone(),
                    version: f.installed_version.clone(),
                    path: f.path.clone(),
                    title: f.title.clone(),
                }
            }
            None => Counted {
                id: d.id.clone(),
                kind: d.kind,
                severity: d.severity,
                package: d.package.clone(),
                version: None,
                path: None,
                title: String::new(),
            },
        };
        findings.push(counted);
    }
    Judgement {
        fails: verdict.fails(),
        total: verdict.deciders.len(),
        findings,
        too_old: None,
    }
}

type Key = (String, String);
type Shared = Result<Arc<Judgement>, String>;

/// Verdicts by (image digest, policy version), for `ttl`.
struct VerdictCache {
    entries: HashMap<Key, (Instant, Arc<Judgement>)>,
    ttl: Duration,
}

impl VerdictCache {
    fn get(&mut self, key: &Key) -> Option<Arc<Judgement>> {
        match self.entries.get(key) {
            Some((at, j)) if at.elapsed() < self.ttl => Some(j.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn insert(&mut self, key: Key, j: Arc<Judgement>) {
        if self.entries.len() >= MAX_CACHED && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.entries.insert(key, (Instant::now(), j));
    }
}

/// How one (image, policy) pair ended for one request.
#[derive(Debug, Clone)]
enum Outcome {
    Judged {
        judgement: Arc<Judgement>,
        cached: bool,
    },
    Failed(String),
    TimedOut,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Judged { judgement, .. } if judgement.fails => "fail",
            Outcome::Judged { .. } => "pass",
            Outcome::Failed(_) => "error",
            Outcome::TimedOut => "timeout",
        }
    }
}

/// Decides requests; shared by every connection.
pub struct Authorizer<B: Backend> {
    backend: Arc<B>,
    rules: Vec<Arc<Rule>>,
    fail_mode: FailMode,
    timeout: Duration,
    log_uncovered: bool,
    cache: Arc<Mutex<VerdictCache>>,
    inflight: Arc<Mutex<HashMap<Key, watch::Receiver<Option<Shared>>>>>,
    /// Turns for scans: a burst of new images queues instead of thrashing.
    turns: Arc<tokio::sync::Semaphore>,
    audit: Arc<Audit>,
    log: Arc<PluginLog>,
}

impl<B: Backend> Authorizer<B> {
    /// An authorizer for `config`'s policies, scanning with `backend`.
    pub fn new(config: &Config, backend: B, audit: Arc<Audit>, log: Arc<PluginLog>) -> Self {
        let rules = config
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| Arc::new(Rule::new(i, p.clone(), &backend.fingerprint(i))))
            .collect();
        Authorizer {
            backend: Arc::new(backend),
            rules,
            fail_mode: config.holdfast.fail_mode,
            timeout: config.holdfast.timeout,
            log_uncovered: config.holdfast.log_uncovered,
            cache: Arc::new(Mutex::new(VerdictCache {
                entries: HashMap::new(),
                ttl: config.holdfast.cache_ttl,
            })),
            inflight: Arc::new(Mutex::new(HashMap::new())),
            turns: Arc::new(tokio::sync::Semaphore::new(
                config.holdfast.max_parallel_scans.max(1),
            )),
            audit,
            log,
        }
    }

    /// The policies, ready to judge.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// How many verdicts are cached.
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.entries.len()).unwrap_or(0)
    }

    /// Answers one `AuthZReq`, within the timeout whatever the scans do.
    pub async fn authorize(&self, req: AuthZRequest) -> AuthZResponse {
        let started = Instant::now();
        let op = action::operation(&req.request_method, &req.request_uri);
        let action = op.as_ref().map(|o| o.action);
        let rules: Vec<Arc<Rule>> = match action {
            Some(a) => self
                .rules
                .iter()
                .filter(|r| r.config.action == a)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let (Some(op), false) = (op, rules.is_empty()) else {
            if self.log_uncovered {
                self.audit.record(json!({
                    "event": "decision", "user": req.user, "method": req.request_method,
                    "path": path_only(&req.request_uri), "action": action,
                    "verdict": "allow", "reason": "no policy covers this operation",
                    "elapsed_ms": started.elapsed().as_millis() as u64,
                }));
            }
            return AuthZResponse::allow("");
        };
        let subject = action::subject(&op, &req);
        let d = Decision::new(&req, op.action, &subject, started);
        let credentials = req
            .header("X-Registry-Auth")
            .and_then(RegistryAuth::from_header);
        let verdict = self.judge(d, &rules, vec![subject], credentials).await;
        if verdict.allow {
            AuthZResponse::allow("")
        } else {
            AuthZResponse::deny(verdict.reason)
        }
    }

    /// Decides an admission request: may `images` run as `object` (`Pod shop/web-1`)?
    /// The policies for `container_create` judge it, the same ones that judge `docker
    /// run`. Returns whether it is allowed, and why.
    pub async fn admit(
        &self,
        user: &str,
        operation: &str,
        object: &str,
        images: &[String],
        credentials: Option<RegistryAuth>,
    ) -> (bool, String) {
        let started = Instant::now();
        let action = "container_create";
        let rules: Vec<Arc<Rule>> = self
            .rules
            .iter()
            .filter(|r| r.config.action == action)
            .cloned()
            .collect();
        if rules.is_empty() || images.is_empty() {
            return (true, "no policy covers it".into());
        }
        let d = Decision {
            started,
            user: user.to_string(),
            auth_method: "kubernetes".into(),
            method: operation.to_string(),
            path: object.to_string(),
            action: action.to_string(),
            subject: object.to_string(),
            images: Vec::new(),
            digests: Vec::new(),
            cached: false,
            alert_findings: Vec::new(),
        };
        let subjects = images
            .iter()
            .map(|reference| Subject::Remote {
                reference: reference.clone(),
                platform: None,
            })
            .collect();
        let verdict = self.judge(d, &rules, subjects, credentials).await;
        (verdict.allow, verdict.reason)
    }

    /// Resolves the subjects, judges every image by every rule within the deadline, and
    /// logs the decision.
    async fn judge(
        &self,
        mut d: Decision,
        rules: &[Arc<Rule>],
        subjects: Vec<Subject>,
        credentials: Option<RegistryAuth>,
    ) -> Verdict {
        let deadline = tokio::time::Instant::from_std(d.started + self.timeout);
        let blocking = rules.iter().any(|r| r.config.block);
        let action = d.action.clone();
        if let Some(verdict) = self.reference_rules(&action, rules, &subjects) {
            return self.finish(&d, verdict, rules, &[]);
        }
        let mut images = Vec::new();
        let mut absent = Vec::new();
        for subject in &subjects {
            let found = match subject {
                Subject::Undetermined(why) => Err(format!("cannot tell which image: {why}")),
                _ => match tokio::time::timeout_at(
                    deadline,
                    self.backend.resolve(subject, credentials.clone()),
                )
                .await
                {
                    Err(_) => Err(format!(
                        "finding the image did not finish within {}",
                        secs(self.timeout)
                    )),
                    Ok(Err(e)) => Err(format!("cannot find the image: {e}")),
                    Ok(Ok(Resolved::Absent(why))) => {
                        absent.push(why);
                        continue;
                    }
                    Ok(Ok(Resolved::Images(v))) => Ok(v),
                },
            };
            match found {
                Ok(v) => images.extend(v),
                Err(problem) => {
                    let verdict = if blocking && self.fail_mode == FailMode::Closed {
                        Verdict::deny(format!(
                            "holdfast: blocked {} ({action}): {problem} (fail_mode = closed)",
                            subject.describe(),
                        ))
                    } else {
                        Verdict::allow(format!(
                            "{problem}; allowed ({})",
                            if blocking {
                                "fail_mode = open"
                            } else {
                                "no policy blocks"
                            }
                        ))
                    };
                    self.log
                        .warn(&format!("{action} {}: {problem}", subject.describe()));
                    return self.finish(&d, verdict, rules, &[]);
                }
            }
        }
        if images.is_empty() {
            return self.finish(&d, Verdict::allow(absent.join("; ")), rules, &[]);
        }

        let mut jobs = Vec::new();
        for image in &images {
            for rule in rules {
                jobs.push(self.outcome(image.clone(), rule.clone(), deadline));
            }
        }
        let outcomes = futures_util::future::join_all(jobs).await;
        let mut pairs = Vec::new();
        let mut k = 0;
        for image in &images {
            for rule in rules {
                pairs.push((image, rule.clone(), outcomes[k].clone()));
                k += 1;
            }
        }
        let verdict = self.decide(&mut d, &action, &pairs);
        self.finish(&d, verdict, rules, &pairs)
    }

    /// Judges the names alone (`allowed_registries`, `require_digest`): a denial when a
    /// blocking policy refuses a name, before anything is resolved or scanned.
    fn reference_rules(
        &self,
        action: &str,
        rules: &[Arc<Rule>],
        subjects: &[Subject],
    ) -> Option<Verdict> {
        let mut denials = Vec::new();
        for subject in subjects {
            let reference = match subject {
                Subject::Local(r) | Subject::AllTags(r) => r,
                Subject::Remote { reference, .. } => reference,
                Subject::Container(_) | Subject::Undetermined(_) => continue,
            };
            for rule in rules.iter().filter(|r| r.config.block) {
                if let Some(problem) = rule.reference_problem(reference) {
                    denials.push(format!(
                        "{reference} ({action}): {problem} (policy on line {})",
                        rule.config.line
                    ));
                    break;
                }
            }
        }
        (!denials.is_empty())
            .then(|| Verdict::deny(format!("holdfast: blocked {}", denials.join(" | "))))
    }

    /// The verdict from every (image, policy) outcome.
    fn decide(
        &self,
        d: &mut Decision,
        action: &str,
        pairs: &[(&ImageRef, Arc<Rule>, Outcome)],
    ) -> Verdict {
        d.images = pairs.iter().map(|(i, _, _)| i.name.clone()).collect();
        d.images.dedup();
        d.digests = pairs.iter().map(|(i, _, _)| i.digest.clone()).collect();
        d.digests.dedup();
        d.cached = pairs
            .iter()
            .all(|(_, _, o)| matches!(o, Outcome::Judged { cached: true, .. }));
        let mut denials: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        for name in &d.images {
            let mut named: Vec<String> = Vec::new();
            let mut total = 0;
            let mut problems: Vec<String> = Vec::new();
            for (image, rule, outcome) in pairs.iter().filter(|(i, _, _)| &i.name == name) {
                match outcome {
                    Outcome::Judged { judgement, .. } if judgement.fails => {
                        if rule.config.alert {
                            d.alert_findings.extend(
                                judgement
                                    .findings
                                    .iter()
                                    .map(|f| (image.name.clone(), f.clone())),
                            );
                        }
                        if rule.config.block {
                            total = total.max(judgement.total);
                            if let Some(why) = &judgement.too_old {
                                if !named.contains(why) {
                                    named.insert(0, why.clone());
                                }
                            }
                            for f in &judgement.findings {
                                let s = f.short();
                                if !named.contains(&s) {
                                    named.push(s);
                                }
                            }
                        } else {
                            notes.push(format!(
                                "{name}: {} finding(s) counted; the policy on line {} does not block",
                                judgement.total, rule.config.line
                            ));
                        }
                    }
                    Outcome::Judged { .. } => {}
                    Outcome::Failed(e) => problems.push(if rule.config.block {
                        format!("the scan failed: {e}")
                    } else {
                        format!(
                            "the scan for the policy on line {} failed: {e}",
                            rule.config.line
                        )
                    }),
                    Outcome::TimedOut => problems.push(format!(
                        "the scan did not finish within {}",
                        secs(self.timeout)
                    )),
                }
            }
            let problem_blocks = pairs.iter().any(|(i, r, o)| {
                &i.name == name
                    && r.config.block
                    && matches!(o, Outcome::Failed(_) | Outcome::TimedOut)
            });
            problems.dedup();
            if !named.is_empty() {
                let shown = named.len().min(NAMED_FINDINGS);
                let mut text = named[..shown].join("; ");
                let more = total.max(named.len()).saturating_sub(shown);
                if more > 0 {
                    text.push_str(&format!("; (+{more} more)"));
                }
                denials.push(format!("{name} ({action}): {text}"));
            } else if problem_blocks && self.fail_mode == FailMode::Closed {
                denials.push(format!(
                    "{name} ({action}): {} (fail_mode = closed)",
                    problems.join("; ")
                ));
            } else if !problems.is_empty() {
                notes.push(format!(
                    "{name}: {}; allowed ({})",
                    problems.join("; "),
                    if problem_blocks {
                        "fail_mode = open"
                    } else {
                        "no policy blocks"
                    }
                ));
            }
        }
        for (_, rule, outcome) in pairs {
            if let Outcome::Failed(e) = outcome {
                self.log.error(&format!(
                    "policy on line {} ({}): {e}",
                    rule.config.line, rule.config.action
                ));
            }
        }
        if !denials.is_empty() {
            let mut msg = format!("holdfast: blocked {}", denials.join(" | "));
            if msg.chars().count() > MAX_MESSAGE {
                msg = msg.chars().take(MAX_MESSAGE).collect::<String>() + "…";
            }
            Verdict::deny(msg)
        } else if notes.is_empty() {
            Verdict::allow("no finding counted".into())
        } else {
            Verdict::allow(notes.join(" | "))
        }
    }

    /// Logs the decision, raises the alert, and makes the answer.
    fn finish(
        &self,
        d: &Decision,
        verdict: Verdict,
        rules: &[Arc<Rule>],
        pairs: &[(&ImageRef, Arc<Rule>, Outcome)],
    ) -> Verdict {
        let policies: Vec<Value> = rules
            .iter()
            .map(|r| {
                let outcomes: Vec<&str> = pairs
                    .iter()
                    .filter(|(_, pr, _)| pr.index == r.index)
                    .map(|(_, _, o)| o.label())
                    .collect();
                json!({
                    "line": r.config.line, "version": r.version, "block": r.config.block,
                    "alert": r.config.alert, "outcomes": outcomes,
                })
            })
            .collect();
        let alerted = !d.alert_findings.is_empty();
        let elapsed_ms = d.started.elapsed().as_millis() as u64;
        let image = if d.images.is_empty() {
            d.subject.clone()
        } else {
            d.images.join(", ")
        };
        self.audit.record(json!({
            "event": "decision", "user": d.user, "auth_method": d.auth_method,
            "method": d.method, "path": d.path, "action": d.action, "image": image,
            "digests": d.digests, "verdict": if verdict.allow { "allow" } else { "deny" },
            "reason": verdict.reason, "cached": d.cached, "alert": alerted,
            "policies": policies, "elapsed_ms": elapsed_ms,
        }));
        if alerted {
            let findings: Vec<Value> = d
                .alert_findings
                .iter()
                .map(|(img, f)| {
                    let mut v = f.to_json();
                    v["image"] = Value::String(img.clone());
                    v
                })
                .collect();
            let alert = json!({
                "event": "alert", "source": "holdfast-authz", "user": d.user,
                "action": d.action, "image": image, "digests": d.digests,
                "blocked": !verdict.allow, "reason": verdict.reason, "findings": findings,
            });
            self.audit.record(alert.clone());
            if self.audit.has_webhook() {
                let mut alert = alert;
                alert["time"] = Value::String(crate::audit::now());
                self.audit.send_alert(alert, self.log.clone());
            }
        }
        verdict
    }

    /// One (image, policy) verdict: cached, or the scan in flight for it, or a new scan;
    /// waited for until `deadline`.
    async fn outcome(
        &self,
        image: ImageRef,
        rule: Arc<Rule>,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        // The date is part of the key: exceptions expire and images age by the day.
        let today = time::OffsetDateTime::now_utc().date();
        let key: Key = (image.digest.clone(), format!("{}@{today}", rule.version));
        let mut rx = {
            let Ok(mut inflight) = self.inflight.lock() else {
                return Outcome::Failed("internal lock poisoned".into());
            };
            if let Some(j) = self.cache.lock().ok().and_then(|mut c| c.get(&key)) {
                return Outcome::Judged {
                    judgement: j,
                    cached: true,
                };
            }
            match inflight.get(&key) {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    inflight.insert(key.clone(), rx.clone());
                    self.start_scan(key, image, rule, tx);
                    rx
                }
            }
        };
        let waited: Result<Result<Option<Shared>, _>, _> =
            tokio::time::timeout_at(deadline, async {
                rx.wait_for(|v| v.is_some()).await.map(|v| v.clone())
            })
            .await;
        match waited {
            Err(_) => Outcome::TimedOut,
            Ok(Ok(Some(Ok(judgement)))) => Outcome::Judged {
                judgement,
                cached: false,
            },
            Ok(Ok(Some(Err(e)))) => Outcome::Failed(e),
            Ok(Ok(None)) | Ok(Err(_)) => Outcome::Failed("the scan ended without an answer".into()),
        }
    }

    /// Scans on a blocking thread when a turn is free; the verdict goes to the cache and
    /// to whoever waits, even when the request that started it has long been answered.
    fn start_scan(
        &self,
        key: Key,
        image: ImageRef,
        rule: Arc<Rule>,
        tx: watch::Sender<Option<Shared>>,
    ) {
        let backend = self.backend.clone();
        let cache = self.cache.clone();
        let inflight = self.inflight.clone();
        let log = self.log.clone();
        let timeout = self.timeout;
        let turns = self.turns.clone();
        let queued = Instant::now();
        tokio::spawn(async move {
            let turn = turns.acquire_owned().await;
            let scanned = tokio::task::spawn_blocking(move || {
                let _turn = turn;
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    backend.scan(&image, &rule)
                }));
                let shared: Shared = match run {
                    Ok(Ok(result)) => Ok(Arc::new(
                        rule.judge(&result, time::OffsetDateTime::now_utc()),
                    )),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err("the scan panicked".into()),
                };
                (image, rule, shared)
            })
            .await;
            let (image, rule, shared) = match scanned {
                Ok(v) => v,
                Err(e) => {
                    if let Ok(mut i) = inflight.lock() {
                        i.remove(&key);
                    }
                    let _ = tx.send(Some(Err(format!("the scan stopped: {e}"))));
                    return;
                }
            };
            if let Ok(j) = &shared {
                if let Ok(mut c) = cache.lock() {
                    c.insert(key.clone(), j.clone());
                }
            }
            if let Ok(mut i) = inflight.lock() {
                i.remove(&key);
            }
            let elapsed = queued.elapsed();
            if elapsed > timeout {
                let outcome = match &shared {
                    Ok(j) if j.fails => "fails; cached",
                    Ok(_) => "passes; cached",
                    Err(_) => "failed",
                };
                log.info(&format!(
                    "scan of {} ({}) for the policy on line {} finished after {:.1}s, past the {} deadline: {outcome}",
                    image.name,
                    image.digest,
                    rule.config.line,
                    elapsed.as_secs_f64(),
                    secs(timeout),
                ));
            }
            let _ = tx.send(Some(shared));
        });
    }
}

/// What is known about a request while it is decided.
struct Decision {
    started: Instant,
    user: String,
    auth_method: String,
    method: String,
    path: String,
    action: String,
    subject: String,
    images: Vec<String>,
    digests: Vec<String>,
    cached: bool,
    alert_findings: Vec<(String, Counted)>,
}

/// The answer and why.
struct Verdict {
    allow: bool,
    reason: String,
}

impl Verdict {
    fn allow(reason: String) -> Self {
        Verdict {
            allow: true,
            reason: one_line(&reason),
        }
    }

    fn deny(reason: String) -> Self {
        Verdict {
            allow: false,
            reason: one_line(&reason),
        }
    }
}

impl Decision {
    fn new(req: &AuthZRequest, action: &str, subject: &Subject, started: Instant) -> Self {
        Decision {
            started,
            user: req.user.clone(),
            auth_method: req.user_authn_method.clone(),
            method: req.request_method.clone(),
            path: path_only(&req.request_uri),
            action: action.to_string(),
            subject: subject.describe(),
            images: Vec::new(),
            digests: Vec::new(),
            cached: false,
            alert_findings: Vec::new(),
        }
    }
}

/// The request's path without its query (which may hold build arguments).
fn path_only(uri: &str) -> String {
    uri.split('?').next().unwrap_or("").to_string()
}

fn secs(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{parse, Loaded};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A backend whose images are named in the test: `weak*` images have a weak root
    /// password and a vulnerable openssl, `slow*` ones take `delay` to scan, `absent`
    /// is not there, `broken*` ones fail to scan.
    pub(crate) struct Fake {
        pub delay: Duration,
        pub scans: Arc<AtomicUsize>,
    }

    impl Fake {
        pub(crate) fn new(delay: Duration) -> Self {
            Fake {
                delay,
                scans: Arc::new(AtomicUsize::new(0)),
            }
        }
    }

    /// A result for image `name`: built in 2001 when the name says `old`, with no build
    /// time when it says `undated`, else a day ago.
    pub(crate) fn result(name: &str, findings: serde_json::Value) -> ScanResult {
        let mut target: holdfast_model::TargetResult = serde_json::from_value(json!({
            "kind": "image", "name": name, "layers": [], "packages": [], "findings": findings,
        }))
        .unwrap();
        let rfc3339 = time::format_description::well_known::Rfc3339;
        target.created = if name.contains("old") {
            Some("2001-02-03T04:05:06.123456789Z".into())
        } else if name.contains("undated") {
            None
        } else {
            (time::OffsetDateTime::now_utc() - time::Duration::days(1))
                .format(&rfc3339)
                .ok()
        };
        holdfast_scan::scan_result(vec![target], None)
    }

    impl Backend for Fake {
        async fn resolve(
            &self,
            subject: &Subject,
            _credentials: Option<RegistryAuth>,
        ) -> Result<Resolved, String> {
            let name = match subject {
                Subject::Local(n) => n.clone(),
                Subject::Remote { reference, .. } => reference.clone(),
                Subject::Container(c) => format!("{c}-image"),
                Subject::AllTags(n) => format!("{n}:all"),
                Subject::Undetermined(w) => return Err(w.clone()),
            };
            if name == "absent" {
                return Ok(Resolved::Absent(
                    "image `absent` is not in the daemon".into(),
                ));
            }
            if name.starts_with("unreachable") {
                return Err("the daemon is unreachable".into());
            }
            Ok(Resolved::Images(vec![ImageRef {
                digest: format!("sha256:{}", hex::encode(Sha256::digest(name.as_bytes()))),
                name,
                source: ImageSource::Daemon { id: String::new() },
            }]))
        }

        fn scan(&self, image: &ImageRef, _rule: &Rule) -> Result<ScanResult, String> {
            self.scans.fetch_add(1, Ordering::SeqCst);
            if image.name.starts_with("slow") {
                std::thread::sleep(self.delay);
            }
            if image.name.starts_with("broken") {
                return Err("cannot open `broken`: no such layer".into());
            }
            let findings = if image.name.contains("weak") {
                json!([
                    {"kind": "weak-password", "id": "HF-WEAKPW-SHADOW", "severity": "HIGH",
                     "title": "Account root has a guessable password", "path": "/etc/shadow"},
                    {"kind": "vulnerability", "id": "CVE-2023-0286", "severity": "HIGH",
                     "title": "X.400 address type confusion in X.509 GeneralName",
                     "package": "openssl", "installed_version": "3.0.1"},
                    {"kind": "secret", "id": "HF-SECRET-X", "severity": "LOW",
                     "title": "a \u{1b}[31mred\nsecret", "path": "/app/.env"},
                ])
            } else {
                json!([])
            };
            Ok(result(&image.name, findings))
        }
    }

    pub(crate) fn config(extra: &str) -> Loaded {
        parse(
            &format!(
                r#"[[policies]]
action = "container_create"
enabled_plugins = ["weak-password", "vuln"]
risk_level_filter = ["High", "Critical"]
block = true
alert = true
[[policies]]
action = "image_push"
enabled_plugins = ["secret"]
alert = true
{extra}"#
            ),
            std::path::Path::new("/etc/holdfast/authz.toml"),
        )
        .unwrap()
    }

    pub(crate) fn authorizer(extra: &str, delay: Duration) -> (Arc<Authorizer<Fake>>, Arc<Audit>) {
        authorizer_for(config(extra), delay)
    }

    pub(crate) fn authorizer_for(
        loaded: Loaded,
        delay: Duration,
    ) -> (Arc<Authorizer<Fake>>, Arc<Audit>) {
        let audit = Arc::new(Audit::in_memory(None));
        let a = Authorizer::new(
            &loaded.config,
            Fake::new(delay),
            audit.clone(),
            Arc::new(PluginLog::discard()),
        );
        (Arc::new(a), audit)
    }

    /// One blocking `container_create` policy with `keys` added.
    pub(crate) fn strict(keys: &str) -> (Arc<Authorizer<Fake>>, Arc<Audit>) {
        let text = format!(
            "[[policies]]\naction = \"container_create\"\nenabled_plugins = [\"weak-password\", \"vuln\"]\nrisk_level_filter = [\"High\"]\nblock = true\n{keys}\n"
        );
        let loaded = parse(&text, std::path::Path::new("/etc/holdfast/authz.toml")).unwrap();
        authorizer_for(loaded, Duration::ZERO)
    }

    #[tokio::test]
    async fn exceptions_expire_and_registries_are_checked_before_any_scan() {
        let (a, _) = strict(
            r#"exceptions = ["HF-WEAKPW-SHADOW exp:2999-01-01", "CVE-2023-0286 exp:2000-01-01 pkg:openssl"]
allowed_registries = ["docker.io/library", "127.0.0.1:5000/"]"#,
        );
        // The live exception hides the weak password; the expired one no longer hides
        // the CVE.
        let r = a.authorize(create("127.0.0.1:5000/app:1-weak")).await;
        assert!(!r.allow);
        assert!(
            r.msg.contains("CVE-2023-0286") && !r.msg.contains("HF-WEAKPW"),
            "{}",
            r.msg
        );
        assert!(a.authorize(create("debian:12")).await.allow);
        assert_eq!(a.backend.scans.load(Ordering::SeqCst), 2);

        // Another registry, or another part of Docker Hub, is refused without a scan.
        for image in ["quay.io/team/app:1", "bitnami/redis:7"] {
            let r = a.authorize(create(image)).await;
            assert!(!r.allow);
            assert!(r.msg.contains("is not an allowed registry (allowed_registries: docker.io/library, 127.0.0.1:5000) (policy on line 2)"), "{}", r.msg);
        }
        assert_eq!(a.backend.scans.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn digests_only_and_image_age() {
        let (a, _) = strict("require_digest = true\nmax_image_age = \"90d\"");
        let r = a.authorize(create("127.0.0.1:5000/app:1")).await;
        assert!(
            !r.allow
                && r.msg
                    .contains("named by tag, not by digest (require_digest)"),
            "{}",
            r.msg
        );
        let pinned = format!("127.0.0.1:5000/app@sha256:{}", "ab".repeat(32));
        assert!(a.authorize(create(&pinned)).await.allow);

        let old = format!("127.0.0.1:5000/old@sha256:{}", "cd".repeat(32));
        let r = a.authorize(create(&old)).await;
        assert!(!r.allow);
        assert!(r.msg.contains("built 2001-02-03 ("), "{}", r.msg);
        assert!(
            r.msg.contains("days ago), older than max_image_age 90d"),
            "{}",
            r.msg
        );
        let undated = format!("127.0.0.1:5000/undated@sha256:{}", "ef".repeat(32));
        let r = a.authorize(create(&undated)).await;
        assert!(
            !r.allow && r.msg.contains("the image states no build time"),
            "{}",
            r.msg
        );
    }

    pub(crate) fn create(image: &str) -> AuthZRequest {
        AuthZRequest {
            user: "alice".into(),
            request_method: "POST".into(),
            request_uri: "/v1.47/containers/create?name=x".into(),
            request_body: format!(r#"{{"Image":"{image}"}}"#).into_bytes(),
            ..AuthZRequest::default()
        }
    }

    #[tokio::test]
    async fn the_message_names_the_findings_that_decided() {
        let (a, audit) = authorizer("", Duration::ZERO);
        let r = a.authorize(create("docker.io/x:1-weak")).await;
        assert!(!r.allow);
        assert_eq!(
            r.msg,
            "holdfast: blocked docker.io/x:1-weak (container_create): CVE-2023-0286 (HIGH) openssl 3.0.1: X.400 address type confusion in X.509 GeneralName; HF-WEAKPW-SHADOW (HIGH) /etc/shadow: Account root has a guessable password"
        );
        let entries = audit.entries();
        let decision = &entries[0];
        assert_eq!(decision["verdict"], "deny");
        assert_eq!(decision["user"], "alice");
        assert_eq!(decision["action"], "container_create");
        assert_eq!(decision["image"], "docker.io/x:1-weak");
        assert_eq!(decision["path"], "/v1.47/containers/create");
        assert_eq!(decision["cached"], false);
        assert!(decision["elapsed_ms"].is_u64());
        assert_eq!(decision["policies"][0]["outcomes"][0], "fail");
        let alert = &entries[1];
        assert_eq!(alert["event"], "alert");
        assert_eq!(alert["blocked"], true);
        assert_eq!(alert["findings"].as_array().unwrap().len(), 2);

        // A clean image is allowed; the second time from the cache.
        let r = a.authorize(create("clean:1")).await;
        assert!(r.allow, "{r:?}");
        let r = a.authorize(create("docker.io/x:1-weak")).await;
        assert!(!r.allow);
        assert_eq!(audit.entries().last().unwrap()["event"], "alert");
        let decisions: Vec<Value> = audit
            .entries()
            .into_iter()
            .filter(|e| e["event"] == "decision")
            .collect();
        assert_eq!(decisions[2]["cached"], true);
        assert_eq!(a.backend.scans.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn alert_only_policies_allow_and_alert() {
        let (a, audit) = authorizer("", Duration::ZERO);
        let push = AuthZRequest {
            request_method: "POST".into(),
            request_uri: "/images/reg/weak/push?tag=1".into(),
            ..AuthZRequest::default()
        };
        let r = a.authorize(push).await;
        assert!(r.allow, "{r:?}");
        let e = audit.entries();
        assert_eq!(e[0]["verdict"], "allow");
        assert!(e[0]["reason"].as_str().unwrap().contains("does not block"));
        assert_eq!(e[1]["event"], "alert");
        assert_eq!(e[1]["blocked"], false);
        // Control characters from the image never reach the log lines or messages.
        let title = e[1]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "HF-SECRET-X")
            .unwrap()["title"]
            .clone();
        assert_eq!(title, "a \u{1b}[31mred\nsecret");
        let c = Counted {
            id: "X".into(),
            kind: FindingKind::Secret,
            severity: Severity::Low,
            package: None,
            version: None,
            path: Some("/a\nb".into()),
            title: "t\u{1b}[2J".into(),
        };
        assert_eq!(c.short(), "X (LOW) /a?b: t?[2J");
    }

    #[tokio::test]
    async fn uncovered_and_absent_requests_are_allowed_without_a_scan() {
        let (a, audit) = authorizer("", Duration::ZERO);
        for (m, uri) in [
            ("GET", "/v1.47/containers/json"),
            ("POST", "/v1.47/images/create?fromImage=weak&tag=1"),
            ("POST", "/v1.47/nonsense"),
            ("POST", "/containers/abc/start"),
        ] {
            let req = AuthZRequest {
                request_method: m.into(),
                request_uri: uri.into(),
                ..AuthZRequest::default()
            };
            assert!(a.authorize(req).await.allow, "{m} {uri}");
        }
        assert!(audit.entries().is_empty());
        assert!(a.authorize(create("absent")).await.allow);
        assert_eq!(a.backend.scans.load(Ordering::SeqCst), 0);
        assert!(audit.entries()[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not in the daemon"));
    }

    #[tokio::test]
    async fn undetermined_images_and_lookup_errors_follow_the_fail_mode() {
        let (a, _) = authorizer("", Duration::ZERO);
        let no_body = AuthZRequest {
            request_method: "POST".into(),
            request_uri: "/containers/create".into(),
            ..AuthZRequest::default()
        };
        let r = a.authorize(no_body.clone()).await;
        assert!(!r.allow && r.msg.contains("fail_mode = closed"), "{r:?}");
        let r = a.authorize(create("unreachable")).await;
        assert!(!r.allow && r.msg.contains("unreachable"), "{r:?}");
        let r = a.authorize(create("broken")).await;
        assert!(
            !r.allow && r.msg.contains("the scan failed: cannot open"),
            "{r:?}"
        );

        let (a, _) = authorizer("[holdfast]\nfail_mode = \"open\"\n", Duration::ZERO);
        assert!(a.authorize(no_body).await.allow);
        assert!(a.authorize(create("unreachable")).await.allow);
        assert!(a.authorize(create("broken")).await.allow);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_scan_that_times_out_answers_by_the_fail_mode_then_fills_the_cache() {
        for (mode, allowed) in [("closed", false), ("open", true)] {
            let (a, audit) = authorizer(
                &format!("[holdfast]\nfail_mode = \"{mode}\"\ntimeout = \"300ms\"\n"),
                Duration::from_millis(1500),
            );
            let t = Instant::now();
            let r = a.authorize(create("slow-weak")).await;
            let took = t.elapsed();
            assert!(took < Duration::from_millis(700), "answered after {took:?}");
            assert_eq!(r.allow, allowed, "{mode}: {r:?}");
            if !allowed {
                assert!(
                    r.msg.contains("did not finish within 300ms")
                        && r.msg.contains("fail_mode = closed"),
                    "{}",
                    r.msg
                );
            }
            assert_eq!(audit.entries()[0]["policies"][0]["outcomes"][0], "timeout");
            // A second request while the scan runs waits for the same scan.
            let r2 = a.authorize(create("slow-weak")).await;
            assert_eq!(r2.allow, allowed);
            assert_eq!(a.backend.scans.load(Ordering::SeqCst), 1);
            // The scan finishes in the background; its verdict is then cached.
            tokio::time::sleep(Duration::from_millis(1600)).await;
            assert_eq!(a.cached(), 1);
            let t = Instant::now();
            let r = a.authorize(create("slow-weak")).await;
            assert!(t.elapsed() < Duration::from_millis(50));
            assert!(!r.allow && r.msg.contains("HF-WEAKPW-SHADOW"), "{r:?}");
            assert_eq!(a.backend.scans.load(Ordering::SeqCst), 1);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_one_scan() {
        let (a, _) = authorizer("", Duration::from_millis(200));
        let mut handles = Vec::new();
        for _ in 0..8 {
            let a = a.clone();
            handles.push(tokio::spawn(async move {
                a.authorize(create("slow-weak-2")).await
            }));
        }
        for h in handles {
            assert!(!h.await.unwrap().allow);
        }
        assert_eq!(a.backend.scans.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn versions_change_with_what_decides() {
        let l = config("");
        let p = l.config.policies[0].clone();
        let a = Rule::new(0, p.clone(), "");
        let b = Rule::new(5, p.clone(), "");
        assert_eq!(
            a.version, b.version,
            "the position does not change verdicts"
        );
        let mut q = p.clone();
        q.block = false;
        assert_eq!(Rule::new(0, q, "").version, a.version);
        let mut q = p.clone();
        q.severities.clear();
        assert_ne!(Rule::new(0, q, "").version, a.version);
        assert_ne!(Rule::new(0, p, "plugin 1.1").version, a.version);
    }
}
