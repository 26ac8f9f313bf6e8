//! The checkers that are not vulnerability matching: secrets, malware and webshells, weak
//! passwords, backdoors, container-escape risks, risky image history, setuid files.
//!
//! A checker has up to two parts:
//!
//! - **file-level analyzers** ([`Checker::analyzers`]) that run inside the single walk of
//!   each layer, like the package catalogers. They return [`FileFact::Finding`] for what
//!   one file proves on its own (a private key, a webshell) and [`FileFact::Record`] for
//!   what needs the whole image (shadow entries, a list of files dpkg owns). Their output
//!   is cached per layer with everything else, so a base layer is checked once.
//! - an **image-wide step** ([`Checker::check`]) that runs after the merge on
//!   [`ImageContext`]: the image config and history, the merged filesystem and the records.
//!
//! [`run`] collects both: file findings get their path, layer and `removed` flag from the
//! merge (a secret a later layer deleted is still in the image, so it is reported).
//! Adding a checker is one module and one line in [`checkers`].
//!
//! # Records: the typed contract between an analyzer and its image-wide step
//!
//! A checker that records data declares everything its analyzer may record as **one enum**
//! (`BackdoorRecord`, `WeakPasswordRecord`, `SuidRecord`), one variant per record kind,
//! and implements [`CheckerRecord`] for it (the checker's name for warnings, the
//! analyzer's name). The enum is serialized adjacently tagged,
//! `#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]`, so a variant is
//! exactly the `kind` and `data` of a [`FileFact::Record`]: variant `OwnerDb(String)` is
//! `kind: "owner-db"`, `data: "dpkg"`. Writing is `record(&BackdoorRecord::OwnerDb(..))`
//! and reading is [`CheckContext::records`]`::<BackdoorRecord>()`, which yields enum
//! values; the kind string and its payload type are named in one place, the variant, so
//! a write and a read can no longer disagree about them. One enum per checker, rather
//! than one type per kind, keeps a checker's whole contract in one place, and lets its
//! step read its records once and sort them with one exhaustive `match`: a new variant
//! does not compile until the step says what it does with it.
//!
//! The image-wide step gets a [`CheckContext`]: the [`ImageContext`] (through `Deref`)
//! plus a collector. A record that does not decode (a layer cache written by a build with
//! other record types, say) is not skipped silently: the reader turns it into a
//! [`WarningKind::CheckerRecord`] warning naming the checker, the record kind, the file and
//! its layer, and [`run`] adds the collected warnings to the checker's own. Call sites do
//! nothing for it.
//!
//! The serialized records are part of the layer cache, whose key includes each analyzer's
//! [`Analyzer::version`]: a change to a record enum that changes its JSON (a renamed
//! variant, a payload of another shape) must bump the version of the analyzer that writes
//! it, so old cache entries are missed rather than read as warnings. Each checker's tests
//! pin the JSON of its records.

pub mod backdoor;
mod escape;
mod finding_text;
mod history;
mod rules;
#[cfg(test)]
mod scan_test_support;
mod suid;
#[cfg(test)]
mod test_support;
pub mod weak_password;

use std::ops::Deref;
use std::sync::{Mutex, PoisonError};

use holdfast_analyze::analyzer::{AnalyzeError, FileFact};
use holdfast_analyze::merge::Placed;
use holdfast_analyze::{Analyzer, MergedFs};
use holdfast_model::ImageMetadata;
use holdfast_model::{Finding, FindingKind, LayerInfo, Package, Warning, WarningKind};
use serde::de::value::MapDeserializer;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub mod malware;
pub mod secret;

/// Options the checkers take from the command line.
#[derive(Debug, Clone, Default)]
pub struct CheckConfig {
    pub weak_password: weak_password::Config,
    pub secret: secret::SecretConfig,
    pub malware: malware::MalwareConfig,
}

/// Everything an image-wide check may look at. Checks never touch the source.
pub struct ImageContext<'a> {
    pub metadata: &'a ImageMetadata,
    pub fs: &'a MergedFs,
    pub packages: &'a [Package],
    /// The image's layers, bottom first (same order as `MergedFs` layer indexes).
    pub layers: &'a [LayerInfo],
}

impl ImageContext<'_> {
    /// The diff_id of the layer at `index`, bottom first.
    pub fn layer_id(&self, index: usize) -> Option<String> {
        self.layers.get(index).and_then(|l| l.diff_id.clone())
    }

    /// `f` reported at the file of `placed`: its path, its layer, and `line`.
    pub fn at(&self, mut f: Finding, placed: &Placed, line: Option<u32>) -> Finding {
        f.path = Some(placed.result.path.clone());
        f.layer = self.layer_id(placed.layer);
        f.line = line;
        f
    }
}

/// Everything one checker's file-level analyzer may record, as one enum with a variant per
/// record kind (see the crate documentation). The enum must be serialized adjacently
/// tagged, `#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]`: the tag
/// is the record's `kind`, the content its `data`.
pub trait CheckerRecord: Serialize + DeserializeOwned {
    /// The checker, as warnings name it.
    const CHECKER: &'static str;
    /// The analyzer that writes these records (its [`Analyzer::name`]); only its file
    /// results are read.
    const ANALYZER: &'static str;
}

/// `value` as a `FileFact::Record`, for the checker's image-wide step: the variant's tag
/// becomes the record's `kind`, its payload the `data` (`null` for a variant without one).
pub(crate) fn record<R: CheckerRecord>(value: &R) -> Result<FileFact, AnalyzeError> {
    let malformed = |why: String| AnalyzeError::Malformed(format!("{} record: {why}", R::CHECKER));
    let serde_json::Value::Object(mut map) =
        serde_json::to_value(value).map_err(|e| malformed(e.to_string()))?
    else {
        return Err(malformed("not adjacently tagged".into()));
    };
    let Some(serde_json::Value::String(kind)) = map.remove("kind") else {
        return Err(malformed("no `kind` tag".into()));
    };
    let data = map.remove("data").unwrap_or(serde_json::Value::Null);
    if !map.is_empty() {
        return Err(malformed(format!("`{kind}` is not adjacently tagged")));
    }
    Ok(FileFact::Record { kind, data })
}

/// Decodes one record as `R`, reading `data` in place.
fn decode<R: CheckerRecord>(kind: &str, data: &serde_json::Value) -> Result<R, serde_json::Error> {
    let kind = serde_json::Value::String(kind.to_string());
    let fields = [("kind", &kind), ("data", data)];
    R::deserialize(MapDeserializer::<_, serde_json::Error>::new(
        fields.into_iter(),
    ))
}

/// What a checker's image-wide step sees: the [`ImageContext`] (through `Deref`), and the
/// readers of its analyzer's records, which report the records they cannot decode as
/// warnings that [`run`] collects.
pub struct CheckContext<'a> {
    image: &'a ImageContext<'a>,
    /// Warnings about records that did not decode; a `Mutex` keeps the context `Sync`.
    record_warnings: Mutex<Vec<Warning>>,
}

impl<'a> Deref for CheckContext<'a> {
    type Target = ImageContext<'a>;

    fn deref(&self) -> &ImageContext<'a> {
        self.image
    }
}

impl<'a> CheckContext<'a> {
    /// A context for one checker's step over `image`.
    pub(crate) fn new(image: &'a ImageContext<'a>) -> Self {
        CheckContext {
            image,
            record_warnings: Mutex::new(Vec::new()),
        }
    }

    /// The records `R::ANALYZER` left at visible paths, decoded, with their place, in path
    /// order. A record that does not decode is skipped and reported as a
    /// [`WarningKind::CheckerRecord`] warning when the iteration reaches it.
    pub fn records<R: CheckerRecord>(&self) -> impl Iterator<Item = (&'a Placed, R)> + '_ {
        let fs: &'a MergedFs = self.image.fs;
        fs.visible_all()
            .filter(|p| p.result.analyzer == R::ANALYZER)
            .flat_map(move |p| self.records_in(p).map(move |r| (p, r)))
    }

    /// The records in one file result (visible or not), decoded; nothing when another
    /// analyzer wrote it. A record that does not decode is skipped and reported, as in
    /// [`CheckContext::records`].
    pub fn records_in<R: CheckerRecord>(&self, placed: &'a Placed) -> impl Iterator<Item = R> + '_ {
        let facts: &'a [FileFact] = if placed.result.analyzer == R::ANALYZER {
            placed.result.facts.as_slice()
        } else {
            &[]
        };
        facts.iter().filter_map(move |f| match f {
            FileFact::Record { kind, data } => match decode::<R>(kind, data) {
                Ok(r) => Some(r),
                Err(e) => {
                    self.unreadable::<R>(placed, kind, &e);
                    None
                }
            },
            _ => None,
        })
    }

    /// Reports a record of `placed` that does not decode (once, however often it is read).
    fn unreadable<R: CheckerRecord>(&self, placed: &Placed, kind: &str, e: &serde_json::Error) {
        let w = Warning::file(
            WarningKind::CheckerRecord,
            self.layer_id(placed.layer).as_deref(),
            &placed.result.path,
            format!(
                "{} checker: its `{kind}` record of this file does not decode ({e}), so the \
                 checks that need it left the file out",
                R::CHECKER
            ),
        );
        let mut warnings = self
            .record_warnings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }

    /// The warnings about records that did not decode.
    pub(crate) fn into_warnings(self) -> Vec<Warning> {
        self.record_warnings
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One checker: its file-level analyzers and its image-wide step.
pub trait Checker: Send + Sync {
    /// The finding kinds this checker produces; it runs when any of them is selected.
    fn kinds(&self) -> &'static [FindingKind];
    /// Analyzers to run in the layer walk. Their group is `AnalyzerGroup::Check(kind)`.
    fn analyzers(&self) -> Vec<Box<dyn Analyzer>> {
        Vec::new()
    }
    /// Findings that need the whole image, and warnings for what the step could not
    /// finish. File findings from the analyzers are collected by [`run`] and need not be
    /// repeated here, nor the warnings about records `ctx` could not decode.
    fn check(&self, _ctx: &CheckContext<'_>) -> Checked {
        Checked::default()
    }
}

/// What an image-wide step found, and what it skipped or could not finish. A warning is
/// not a finding: it does not count toward `--exit-code`.
#[derive(Debug, Default)]
pub struct Checked {
    /// The findings.
    pub findings: Vec<Finding>,
    /// What was skipped or left unfinished, with where.
    pub warnings: Vec<Warning>,
}

impl From<Vec<Finding>> for Checked {
    fn from(findings: Vec<Finding>) -> Self {
        Checked {
            findings,
            warnings: Vec::new(),
        }
    }
}

/// The checkers for the selected kinds, configured.
pub fn checkers(selected: &[FindingKind], config: &CheckConfig) -> Vec<Box<dyn Checker>> {
    let all: Vec<Box<dyn Checker>> = vec![
        Box::new(escape::EscapeChecker),
        Box::new(history::HistoryChecker),
        Box::new(suid::SuidChecker),
        Box::new(weak_password::WeakPasswordChecker::new(
            config.weak_password.clone(),
        )),
        Box::new(backdoor::BackdoorChecker::new()),
        Box::new(secret::SecretChecker::new(config.secret.clone())),
        Box::new(malware::MalwareChecker::new(config.malware.clone())),
    ];
    all.into_iter()
        .filter(|c| c.kinds().iter().any(|k| selected.contains(k)))
        .collect()
}

/// The analyzers of the given checkers, for the layer walk.
pub fn analyzers(checkers: &[Box<dyn Checker>]) -> Vec<Box<dyn Analyzer>> {
    checkers.iter().flat_map(|c| c.analyzers()).collect()
}

/// Runs the image-wide steps and collects the file findings; returns the findings of the
/// selected kinds, sorted, and the steps' warnings with those about records they could
/// not decode, sorted.
pub fn run(
    checkers: &[Box<dyn Checker>],
    selected: &[FindingKind],
    ctx: &ImageContext<'_>,
) -> Checked {
    let mut out = Checked::from(file_findings(ctx));
    for c in checkers {
        let step_ctx = CheckContext::new(ctx);
        let started = std::time::Instant::now();
        let step = c.check(&step_ctx);
        tracing::debug!(
            "checker {:?}: image-wide step {:.1} ms",
            c.kinds(),
            started.elapsed().as_secs_f64() * 1e3
        );
        out.findings.extend(step.findings);
        out.warnings.extend(step.warnings);
        out.warnings.extend(step_ctx.into_warnings());
    }
    out.findings.retain(|f| selected.contains(&f.kind));
    sort_findings(&mut out.findings);
    out.warnings.sort();
    out
}

/// The `FileFact::Finding`s of every file result, visible or hidden by a later layer,
/// with their path, layer and `removed` flag filled in.
pub fn file_findings(ctx: &ImageContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |placed: &Placed, removed: bool| {
        for fact in &placed.result.facts {
            if let FileFact::Finding(f) = fact {
                let mut f = (**f).clone();
                if f.path.is_none() {
                    f.path = Some(placed.result.path.clone());
                }
                if f.layer.is_none() {
                    f.layer = ctx.layer_id(placed.layer);
                }
                f.removed = removed;
                out.push(f);
            }
        }
    };
    for by_analyzer in ctx.fs.stacks.values() {
        for stack in by_analyzer.values() {
            let top = stack.len().saturating_sub(1);
            for (i, placed) in stack.iter().enumerate() {
                push(placed, i != top);
            }
        }
    }
    for placed in &ctx.fs.removed {
        push(placed, true);
    }
    out
}

/// Deterministic order: kind, severity (worst first), id, path, line, layer.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            a.kind,
            std::cmp::Reverse(a.severity),
            &a.id,
            &a.path,
            a.line,
            &a.layer,
        )
            .cmp(&(
                b.kind,
                std::cmp::Reverse(b.severity),
                &b.id,
                &b.path,
                b.line,
                &b.layer,
            ))
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::test_support::{check_planted, Planted};

    /// A record set of the shapes the checkers use: a payload, a list, none.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
    enum TestRecord {
        KeyCount(usize),
        Names(Vec<String>),
        Marker,
    }

    impl CheckerRecord for TestRecord {
        const CHECKER: &'static str = "test";
        const ANALYZER: &'static str = "test-files";
    }

    /// Reads its records twice and keeps what it read.
    struct Reader(Arc<Mutex<Vec<(String, TestRecord)>>>);

    impl Checker for Reader {
        fn kinds(&self) -> &'static [FindingKind] {
            &[FindingKind::Backdoor]
        }

        fn check(&self, ctx: &CheckContext<'_>) -> Checked {
            let mut read = self.0.lock().unwrap();
            for _ in 0..2 {
                for (placed, r) in ctx.records::<TestRecord>() {
                    read.push((placed.result.path.clone(), r));
                }
            }
            Checked::default()
        }
    }

    fn kind_and_data(r: &TestRecord) -> (String, serde_json::Value) {
        match record(r).unwrap() {
            FileFact::Record { kind, data } => (kind, data),
            other => panic!("not a record: {other:?}"),
        }
    }

    /// What `Reader` read and the warnings of the run, on a layer with these facts.
    fn read(
        analyzer: &'static str,
        facts: Vec<(&'static str, Vec<FileFact>)>,
    ) -> (Vec<(String, TestRecord)>, Vec<Warning>) {
        let read = Arc::new(Mutex::new(Vec::new()));
        let checked = check_planted(
            Box::new(Reader(read.clone())),
            Planted {
                name: analyzer,
                facts,
            },
        );
        let read = read.lock().unwrap().clone();
        (read, checked.warnings)
    }

    #[test]
    fn a_record_is_its_variant_as_kind_and_data_and_reads_back() {
        let cases = [
            (TestRecord::KeyCount(3), "key-count", json!(3)),
            (TestRecord::Names(vec!["a".into()]), "names", json!(["a"])),
            (TestRecord::Marker, "marker", serde_json::Value::Null),
        ];
        for (r, kind, data) in cases {
            assert_eq!(kind_and_data(&r), (kind.to_string(), data.clone()));
            assert_eq!(decode::<TestRecord>(kind, &data).unwrap(), r);
        }
    }

    #[test]
    fn good_records_are_read_back_in_path_order() {
        let (read, warnings) = read(
            "test-files",
            vec![
                (
                    "/etc/b",
                    vec![
                        record(&TestRecord::Names(vec!["x".into()])).unwrap(),
                        record(&TestRecord::Marker).unwrap(),
                    ],
                ),
                ("/etc/a", vec![record(&TestRecord::KeyCount(2)).unwrap()]),
            ],
        );
        let once = vec![
            ("/etc/a".to_string(), TestRecord::KeyCount(2)),
            ("/etc/b".to_string(), TestRecord::Names(vec!["x".into()])),
            ("/etc/b".to_string(), TestRecord::Marker),
        ];
        assert_eq!(read, [once.clone(), once].concat());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_record_that_does_not_decode_is_one_warning_naming_checker_file_and_layer() {
        let (read, warnings) = read(
            "test-files",
            vec![(
                "/etc/a",
                vec![
                    record(&TestRecord::KeyCount(2)).unwrap(),
                    // The right kind with a payload of another shape, as a layer cache
                    // written by another build could hold.
                    FileFact::Record {
                        kind: "key-count".into(),
                        data: json!({ "count": 2 }),
                    },
                ],
            )],
        );
        // The good record is still read, each of the two times.
        let good = ("/etc/a".to_string(), TestRecord::KeyCount(2));
        assert_eq!(read, vec![good.clone(), good]);
        // Read twice, reported once.
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert_eq!(w.kind, WarningKind::CheckerRecord);
        assert_eq!(w.path.as_deref(), Some("/etc/a"));
        assert!(w.layer.as_deref().is_some_and(|l| l.starts_with("sha256:")));
        assert!(
            w.message.starts_with("test checker: ") && w.message.contains("`key-count`"),
            "{}",
            w.message
        );
    }

    #[test]
    fn a_record_of_an_unknown_kind_is_a_warning_too() {
        let (read, warnings) = read(
            "test-files",
            vec![(
                "/etc/a",
                vec![FileFact::Record {
                    kind: "retired".into(),
                    data: json!(1),
                }],
            )],
        );
        assert!(read.is_empty());
        let got: Vec<_> = warnings
            .iter()
            .map(|w| (w.kind, w.path.as_deref()))
            .collect();
        assert_eq!(got, vec![(WarningKind::CheckerRecord, Some("/etc/a"))]);
        assert!(warnings[0].message.contains("`retired`"));
    }

    #[test]
    fn records_of_other_analyzers_are_not_read() {
        let bad = FileFact::Record {
            kind: "key-count".into(),
            data: json!("x"),
        };
        let (read, warnings) = read("other-files", vec![("/etc/a", vec![bad])]);
        assert!(read.is_empty() && warnings.is_empty());
    }
}
