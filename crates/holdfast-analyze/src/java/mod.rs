//! Java archives (`.jar .war .ear .par`, and Jenkins' `.jpi .hpi`, all zip files): the
//! Maven artifacts they hold, and the archives nested in them.
//!
//! Identification, per archive, most reliable first:
//!
//! 1. every `META-INF/maven/GROUP/ARTIFACT/pom.properties` (`groupId`, `artifactId`,
//!    `version`; written by the Maven archiver, one per artifact, so a shaded jar has one
//!    for each artifact folded into it);
//! 2. every `META-INF/maven/GROUP/ARTIFACT/pom.xml` without a pom.properties beside it
//!    (`groupId`, `artifactId`, `version`, the parent's group and version when the project
//!    has none; a version left as an unresolvable `${property}` is not used);
//! 3. when neither names the archive itself (none at all, or the file name's artifact is
//!    not among them), the main section of `META-INF/MANIFEST.MF` (JAR File
//!    Specification): a Jenkins plugin's `Short-Name`, `Plugin-Version` and `Group-Id`;
//!    else the version from `Implementation-Version`, `Bundle-Version` or
//!    `Specification-Version`, the artifact from the file name, the group from
//!    `Implementation-Vendor-Id` or an OSGi `Bundle-SymbolicName` ending in the artifact;
//! 4. else the file name, `ARTIFACT-VERSION.jar` (the version starting at the last `-`
//!    followed by digits and a dot), where sbt's `GROUP.ARTIFACT-VERSION.jar`
//!    (`com.fasterxml.jackson.core.jackson-core-2.15.2.jar`) splits into group and
//!    artifact at the last dot before the version.
//!
//! Each package's `evidence` says which of these identified it (`pom-properties`,
//! `pom-xml`, `manifest`, `file-name`), and its `digests` hold the SHA-1 of the archive it
//! was read from (what Maven Central's search is keyed by; a nested archive's own bytes).
//!
//! The same analyzer reads Maven and Gradle declarations in source trees (`decl.rs`):
//! `pom.xml` and `gradle.lockfile`.
//!
//! Packages are named `GROUP:ARTIFACT` (OSV's Maven naming) with purl
//! `pkg:maven/GROUP/ARTIFACT@VERSION`. A package from a nested archive has the path
//! `OUTER!/ENTRY` (the `jar:` URL convention), each nesting level adding a `!/ENTRY`.
//!
//! Zip needs random access, so archives come as bytes (up to the walker's bound) and are
//! read with the `zip` crate over memory. Nested archives (`WEB-INF/lib/*.jar`,
//! `BOOT-INF/lib/*.jar`, jars in jars) are inflated into memory one at a time, each up to
//! [`MAX_NESTED_BYTES`], at most [`MAX_DEPTH`] levels deep, at most [`MAX_ARCHIVES`] per
//! file, and all inflation of one file shares a budget of [`MAX_INFLATED_BYTES`]: sizes
//! declared in the zip are checked first, and the bytes actually inflated are counted, so
//! an entry that lies about its size cannot get past the bounds (zip bombs).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Cursor, Read};

use holdfast_model::path::file_name;
use holdfast_model::{
    DigestAlgorithm, Evidence, Package, PackageDigest, PackageType, Purl, WarningKind,
};
use sha1::{Digest, Sha1};

use crate::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use crate::catalog::package::{
    lang_package, load, plausible_name, plausible_version, MAX_TEXT_BYTES,
};
use crate::walker::WalkLimits;

/// The OSV ecosystem of Maven artifacts.
const ECOSYSTEM: &str = "Maven";
/// File name endings of Java archives (compared case-insensitively).
const EXTENSIONS: [&str; 6] = [".jar", ".war", ".ear", ".par", ".jpi", ".hpi"];
/// Nesting levels below the file itself that are opened.
pub(crate) const MAX_DEPTH: usize = 4;
/// Largest nested archive inflated into memory.
pub(crate) const MAX_NESTED_BYTES: u64 = 32 << 20;
/// All bytes inflated while reading one file, nested archives included.
pub(crate) const MAX_INFLATED_BYTES: u64 = 256 << 20;
/// Archives opened per file, nested ones included.
pub(crate) const MAX_ARCHIVES: usize = 4096;
/// Entries looked at per archive.
const MAX_ENTRIES: usize = 200_000;
/// Largest `pom.properties` read.
const MAX_POM_BYTES: u64 = 64 << 10;
/// Largest `MANIFEST.MF` read.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Distinct warnings kept per file.
const MAX_NOTES: usize = 20;
/// Largest `pom.xml` read from an archive.
const MAX_POM_XML_BYTES: u64 = 1 << 20;

mod decl;
mod jdk;
mod pom;

/// Reads Maven artifacts from Java archives.
pub struct JavaAnalyzer;

impl Analyzer for JavaAnalyzer {
    fn name(&self) -> &'static str {
        "java"
    }
    fn version(&self) -> u32 {
        2
    }
    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Library
    }
    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        // Empty files are placeholders, not archives; anything else named like an archive
        // is read, so one that is not a zip is reported.
        if meta.kind == EntryKind::File
            && meta.size > 0
            && (is_archive_name(path) || decl::kind(path).is_some() || jdk::wanted(path))
        {
            Want::Bytes
        } else {
            Want::No
        }
    }
    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        if let Some(kind) = decl::kind(input.path) {
            let Some(bytes) = load(&mut input.content, MAX_TEXT_BYTES)? else {
                return Ok(vec![FileFact::bound(format!(
                    "larger than {} MiB; skipped",
                    MAX_TEXT_BYTES >> 20
                ))]);
            };
            return decl::parse(kind, &String::from_utf8_lossy(&bytes), input.path);
        }
        if !is_archive_name(input.path) {
            let Some(bytes) = load(&mut input.content, MAX_TEXT_BYTES)? else {
                return Ok(Vec::new());
            };
            return Ok(jdk::parse(&String::from_utf8_lossy(&bytes), input.path));
        }
        let limit = WalkLimits::default().max_file_bytes;
        let Some(bytes) = load(&mut input.content, limit)? else {
            return Ok(vec![FileFact::bound(format!(
                "archive larger than {} MiB; skipped",
                limit >> 20
            ))]);
        };
        let (found, notes) = scan_file(&bytes, input.path)?;
        let mut facts = vec![FileFact::Packages(found)];
        facts.extend(notes);
        Ok(facts)
    }
}

/// Whether a path names a Java archive.
fn is_archive_name(path: &str) -> bool {
    let name = file_name(path);
    name.len() > 4
        && EXTENSIONS.iter().any(|e| {
            name.len() >= e.len()
                && name.is_char_boundary(name.len() - e.len())
                && name[name.len() - e.len()..].eq_ignore_ascii_case(e)
        })
}

/// Reads one file: its packages, and the warnings ([`FileFact::Skipped`]) for what was
/// skipped. A top-level file that is not a zip archive is an error.
pub(crate) fn scan_file(
    bytes: &[u8],
    path: &str,
) -> Result<(Vec<Package>, Vec<FileFact>), AnalyzeError> {
    if bytes.len() < 22 {
        return Err(AnalyzeError::Malformed(format!(
            "not a zip archive: {} bytes, fewer than the smallest zip",
            bytes.len()
        )));
    }
    let mut scan = Scan {
        inflate_left: MAX_INFLATED_BYTES,
        exhausted: false,
        archives: 0,
        notes: BTreeMap::new(),
        dropped_notes: 0,
        found: Vec::new(),
    };
    // The zip crate is written for untrusted input, but a panic in it must not take the
    // layer walk down with it: catch one and report the file as unreadable.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scan.archive(bytes, path, file_name(path), 0)
    }));
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(AnalyzeError::Malformed(format!(
                "not a readable zip archive: {e}"
            )))
        }
        Err(_) => {
            return Err(AnalyzeError::Malformed(
                "the zip reader failed on this archive".into(),
            ))
        }
    }
    let mut notes: Vec<FileFact> = scan
        .notes
        .into_iter()
        .map(|(msg, kind)| FileFact::skipped(kind, msg))
        .collect();
    if scan.dropped_notes > 0 {
        notes.push(FileFact::bound(format!(
            "{} more warnings not kept",
            scan.dropped_notes
        )));
    }
    Ok((scan.found, notes))
}

/// The state of reading one file.
struct Scan {
    /// What may still be inflated, over all archives of the file.
    inflate_left: u64,
    /// Set once an entry did not fit in `inflate_left`: nothing more is opened.
    exhausted: bool,
    /// Archives opened so far.
    archives: usize,
    /// Warnings by message (kept sorted), with their kind.
    notes: BTreeMap<String, WarningKind>,
    dropped_notes: usize,
    found: Vec<Package>,
}

impl Scan {
    fn note(&mut self, kind: WarningKind, msg: String) {
        if self.notes.len() < MAX_NOTES || self.notes.contains_key(&msg) {
            self.notes.insert(msg, kind);
        } else {
            self.dropped_notes += 1;
        }
    }

    /// Reads one archive (`display` is the path packages get, `name` its file name) and,
    /// within the bounds, the archives nested in it.
    fn archive(
        &mut self,
        bytes: &[u8],
        display: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), String> {
        self.archives += 1;
        let sha1 = hex::encode(Sha1::digest(bytes));
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
        let mut count = zip.len();
        if count > MAX_ENTRIES {
            self.note(
                WarningKind::BoundReached,
                format!(
                    "{}: {count} entries, only the first {MAX_ENTRIES} looked at",
                    clean(display)
                ),
            );
            count = MAX_ENTRIES;
        }
        let mut poms = Vec::new();
        let mut pom_xmls = Vec::new();
        let mut manifest = None;
        let mut nested = Vec::new();
        for i in 0..count {
            let Some(entry) = zip.name_for_index(i) else {
                continue;
            };
            if entry.starts_with("META-INF/maven/") && entry.ends_with("/pom.properties") {
                poms.push((i, entry.to_string()));
            } else if entry.starts_with("META-INF/maven/") && entry.ends_with("/pom.xml") {
                pom_xmls.push((i, entry.to_string()));
            } else if entry.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                manifest = Some(i);
            } else if is_archive_name(entry) && !entry.ends_with('/') {
                nested.push((i, entry.to_string()));
            }
        }

        let (own_name, own_version) = split_file_name(name);
        let (sbt_group, sbt_artifact) = split_sbt_name(&own_name);
        let is_own = |artifact: &str| artifact == own_name || artifact == sbt_artifact;
        let mut packages: Vec<Package> = Vec::new();
        let mut own_identified = false;
        let poms_read: Vec<String> = poms
            .iter()
            .map(|(_, e)| e.trim_end_matches("pom.properties").to_string())
            .collect();
        for (i, entry) in poms {
            let text = match self.read_entry(&mut zip, i, MAX_POM_BYTES) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    self.entry_failed(&format!("{display}!/{entry}"), e);
                    continue;
                }
            };
            let props = properties(&text);
            // META-INF/maven/GROUP/ARTIFACT/pom.properties: the path fills missing keys.
            let mut dirs = entry.split('/').skip(2);
            let (path_group, path_artifact) = (dirs.next(), dirs.next());
            let group = props.get("groupId").map(String::as_str).or(path_group);
            let artifact = props
                .get("artifactId")
                .map(String::as_str)
                .or(path_artifact);
            let (Some(group), Some(artifact), Some(version)) =
                (group, artifact, props.get("version"))
            else {
                self.note(
                    WarningKind::MalformedFile,
                    format!(
                        "{}!/{}: no groupId, artifactId or version",
                        clean(display),
                        clean(&entry)
                    ),
                );
                continue;
            };
            if !plausible_name(group) || !plausible_name(artifact) || !plausible_version(version) {
                self.note(
                    WarningKind::MalformedFile,
                    format!("{}!/{}: unusable values", clean(display), clean(&entry)),
                );
                continue;
            }
            if own_version.is_none() || is_own(artifact) {
                own_identified = true;
            }
            packages.push(identified(
                maven_package(Some(group), artifact, version, display),
                Evidence::PomProperties,
            ));
        }

        // A pom.xml counts only where no pom.properties describes the same folder.
        for (i, entry) in pom_xmls {
            let folder = entry.trim_end_matches("pom.xml");
            if poms_read.iter().any(|p| p.starts_with(folder)) {
                continue;
            }
            let text = match self.read_entry(&mut zip, i, MAX_POM_XML_BYTES) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    self.entry_failed(&format!("{display}!/{entry}"), e);
                    continue;
                }
            };
            let pom = match pom::parse(&text) {
                Ok(p) => p,
                Err(e) => {
                    self.note(
                        WarningKind::MalformedFile,
                        format!("{}!/{}: {}", clean(display), clean(&entry), e.0),
                    );
                    continue;
                }
            };
            let (Some(group), Some(artifact), Some(version)) = (
                pom.effective_group(),
                pom.artifact.clone(),
                pom.effective_version(),
            ) else {
                // An unresolvable `${...}` or a missing field: the manifest may still tell.
                continue;
            };
            if !plausible_name(&group) || !plausible_name(&artifact) || !plausible_version(&version)
            {
                continue;
            }
            if own_version.is_none() || is_own(&artifact) {
                own_identified = true;
            }
            packages.push(identified(
                maven_package(Some(&group), &artifact, &version, display),
                Evidence::PomXml,
            ));
        }

        if !own_identified {
            let attrs = match manifest {
                Some(i) => match self.read_entry(&mut zip, i, MAX_MANIFEST_BYTES) {
                    Ok(b) => manifest_main(&String::from_utf8_lossy(&b)),
                    Err(e) => {
                        self.entry_failed(&format!("{display}!/META-INF/MANIFEST.MF"), e);
                        HashMap::new()
                    }
                },
                None => HashMap::new(),
            };
            if let Some(p) = from_manifest(&attrs, sbt_artifact, sbt_group, display) {
                packages.push(identified(p, Evidence::Manifest));
            } else if let Some(v) = own_version.as_deref().filter(|v| plausible_version(v)) {
                if plausible_name(sbt_artifact) {
                    packages.push(identified(
                        maven_package(sbt_group, sbt_artifact, v, display),
                        Evidence::FileName,
                    ));
                }
            }
        }

        let mut seen = BTreeSet::new();
        for mut p in packages {
            if seen.insert((p.name.clone(), p.version.clone())) {
                p.digests = vec![PackageDigest {
                    algorithm: DigestAlgorithm::Sha1,
                    value: sha1.clone(),
                }];
                self.found.push(p);
            }
        }

        for (i, entry) in nested {
            if self.exhausted {
                break;
            }
            if depth >= MAX_DEPTH {
                self.note(
                    WarningKind::BoundReached,
                    format!(
                        "{}: archives nested more than {MAX_DEPTH} levels deep were not opened",
                        clean(display)
                    ),
                );
                break;
            }
            if self.archives >= MAX_ARCHIVES {
                self.note(
                    WarningKind::BoundReached,
                    format!("more than {MAX_ARCHIVES} nested archives; the rest were not opened"),
                );
                break;
            }
            let inner_display = format!("{display}!/{entry}");
            match self.read_entry(&mut zip, i, MAX_NESTED_BYTES) {
                Ok(inner) => {
                    if let Err(e) =
                        self.archive(&inner, &inner_display, file_name(&entry), depth + 1)
                    {
                        self.note(
                            WarningKind::MalformedFile,
                            format!("{}: not a readable zip archive: {e}", clean(&inner_display)),
                        );
                    }
                }
                Err(e) => self.entry_failed(&inner_display, e),
            }
        }
        Ok(())
    }

    /// Inflates entry `i`, at most `limit` bytes and within the file's budget, checking the
    /// declared size first and the inflated byte count as it goes.
    fn read_entry(
        &mut self,
        zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
        i: usize,
        limit: u64,
    ) -> Result<Vec<u8>, EntryError> {
        if self.exhausted {
            return Err(EntryError::Budget);
        }
        let entry = zip
            .by_index(i)
            .map_err(|e| EntryError::Malformed(e.to_string()))?;
        let declared = entry.size();
        if declared > limit {
            return Err(EntryError::Bound(format!(
                "declares {declared} bytes, over the {} bound; skipped",
                size(limit)
            )));
        }
        if declared > self.inflate_left {
            self.exhausted = true;
            return Err(EntryError::Budget);
        }
        let allowed = limit.min(self.inflate_left);
        // The declared size is a hint only: never reserve more than was allowed.
        let mut buf = Vec::with_capacity(usize::try_from(declared.min(allowed)).unwrap_or(0));
        let read = entry.take(allowed + 1).read_to_end(&mut buf);
        self.inflate_left = self.inflate_left.saturating_sub(buf.len() as u64);
        // In memory, so a failure is in the compressed data, not in reading it.
        read.map_err(|e| EntryError::Malformed(format!("cannot inflate: {e}")))?;
        let n = buf.len() as u64;
        if n > limit {
            return Err(EntryError::Bound(format!(
                "inflates past the {} bound (declares {declared} bytes); skipped",
                size(limit)
            )));
        }
        if n > allowed {
            self.exhausted = true;
            return Err(EntryError::Budget);
        }
        Ok(buf)
    }

    /// Records why an entry was not read: the budget once per file, anything else per
    /// entry (`what` names it).
    fn entry_failed(&mut self, what: &str, e: EntryError) {
        match e {
            EntryError::Budget => self.note(
                WarningKind::BoundReached,
                format!(
                    "stopped after inflating {} of this file; the remaining entries and \
                     nested archives were not read",
                    size(MAX_INFLATED_BYTES)
                ),
            ),
            EntryError::Bound(e) => {
                self.note(WarningKind::BoundReached, format!("{}: {e}", clean(what)))
            }
            EntryError::Malformed(e) => {
                self.note(WarningKind::MalformedFile, format!("{}: {e}", clean(what)))
            }
        }
    }
}

/// Why an entry was not read.
enum EntryError {
    /// The file's inflation budget is spent.
    Budget,
    /// The entry is larger than its own bound, said in words.
    Bound(String),
    /// The entry cannot be read from the archive (a broken header or compressed data),
    /// said in words.
    Malformed(String),
}

/// A byte count as `64 KiB` or `32 MiB` (bounds here are powers of two).
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes}-byte")
    }
}

/// A Maven package. `group` may be unknown (manifest or file-name guesses).
fn maven_package(group: Option<&str>, artifact: &str, version: &str, path: &str) -> Package {
    let name = match group {
        Some(g) => format!("{g}:{artifact}"),
        None => artifact.to_string(),
    };
    let purl = Purl::new("maven", artifact)
        .namespace(group.unwrap_or(""))
        .version(version)
        .to_string();
    lang_package(
        PackageType::Maven,
        &name,
        version,
        purl,
        Some(ECOSYSTEM),
        None,
        path,
    )
}

/// A package with the evidence it was identified by.
fn identified(mut p: Package, evidence: Evidence) -> Package {
    p.evidence = Some(evidence);
    p
}

/// sbt and Ivy name jars `GROUP.ARTIFACT-VERSION.jar`
/// (`com.fasterxml.jackson.core.jackson-core`): a stem with dots whose last dot-separated
/// part is the artifact and whose first part looks like a reverse domain (`com`, `org`,
/// `io`, `net`, ... two to three lowercase letters). Anything else is an artifact alone.
fn split_sbt_name(stem: &str) -> (Option<&str>, &str) {
    let Some((group, artifact)) = stem.rsplit_once('.') else {
        return (None, stem);
    };
    let tld = group.split('.').next().unwrap_or("");
    let reverse_domain = group.contains('.')
        && (2..=3).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_lowercase());
    if reverse_domain
        && !artifact.is_empty()
        && !artifact.as_bytes()[0].is_ascii_digit()
        && plausible_name(group)
    {
        (Some(group), artifact)
    } else {
        (None, stem)
    }
}

/// The package a manifest describes, when it states a version: a Jenkins plugin's
/// `Short-Name`, `Plugin-Version` and `Group-Id` first, then the generic attributes.
fn from_manifest(
    attrs: &HashMap<String, String>,
    artifact: &str,
    name_group: Option<&str>,
    path: &str,
) -> Option<Package> {
    let get = |k: &str| attrs.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if let (Some(short), Some(version)) = (get("short-name"), get("plugin-version")) {
        // Jenkins writes `1.2.3 (private-abc-user)` for local builds: the first word.
        let version = version.split_whitespace().next().unwrap_or(version);
        if plausible_name(short) && plausible_version(version) {
            let group = get("group-id").filter(|g| plausible_name(g));
            return Some(maven_package(group, short, version, path));
        }
    }
    let version = get("implementation-version")
        .or_else(|| get("bundle-version"))
        .or_else(|| get("specification-version"))
        .filter(|v| plausible_version(v))?;
    if !plausible_name(artifact) {
        return None;
    }
    // `Bundle-SymbolicName: org.acme.widget;singleton:=true` → group `org.acme` when the
    // artifact is `widget`.
    let bsn_group = get("bundle-symbolicname")
        .and_then(|b| b.split(';').next())
        .and_then(|b| b.trim().strip_suffix(artifact))
        .and_then(|g| g.strip_suffix('.'))
        .filter(|g| !g.is_empty());
    let group = get("implementation-vendor-id")
        .or(bsn_group)
        .or(name_group)
        .filter(|g| plausible_name(g));
    Some(maven_package(group, artifact, version, path))
}

/// `ARTIFACT-VERSION.EXT` → (`ARTIFACT`, `VERSION`): the version starts at the last `-`
/// followed by digits and a dot (`log4j-1.2-api-2.17.1` → `log4j-1.2-api`, `2.17.1`;
/// `guava-31.1-jre` → `guava`, `31.1-jre`). Without one, the whole stem and no version.
fn split_file_name(file: &str) -> (String, Option<String>) {
    let stem = match file.rfind('.') {
        Some(i) if i > 0 => &file[..i],
        _ => file,
    };
    let b = stem.as_bytes();
    let mut split = None;
    for i in 0..b.len() {
        if b[i] != b'-' {
            continue;
        }
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && b.get(i + 1 + digits) == Some(&b'.') {
            split = Some(i);
        }
    }
    match split {
        Some(i) if i > 0 => (stem[..i].to_string(), Some(stem[i + 1..].to_string())),
        _ => (stem.to_string(), None),
    }
}

/// `java.util.Properties` text, simplified: `key=value` or `key: value` lines, `#` and `!`
/// comments. (No continuation lines or escapes: Maven writes none in pom.properties.)
fn properties(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        if let Some(i) = line.find(['=', ':']) {
            out.insert(
                line[..i].trim().to_string(),
                line[i + 1..].trim().to_string(),
            );
        }
    }
    out
}

/// The main section of a manifest (JAR File Specification): `Name: value` lines up to the
/// first empty line, continuation lines starting with one space. Names are lower-cased
/// (they are case-insensitive).
fn manifest_main(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut last: Option<String> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some(v) = last.as_ref().and_then(|k| out.get_mut(k)) {
                let v: &mut String = v;
                v.push_str(more);
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => {
                let k = k.trim().to_ascii_lowercase();
                out.insert(k.clone(), v.trim().to_string());
                last = Some(k);
            }
            None => last = None,
        }
    }
    for v in out.values_mut() {
        *v = v.trim().to_string();
    }
    out
}

/// A path or entry name made safe for a warning: no control characters, bounded length.
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(300)
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    /// Builds a zip from (name, content, stored?) entries.
    pub(crate) fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, stored) in entries {
            let method = if *stored {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn pom(g: &str, a: &str, v: &str) -> String {
        format!("#Generated by Maven\n#Tue Jan 01 00:00:00 UTC 2024\ngroupId={g}\nartifactId={a}\nversion={v}\n")
    }

    fn names(found: &[Package]) -> Vec<(String, String, String, Option<Evidence>)> {
        found
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.path.clone(),
                    p.evidence,
                )
            })
            .collect()
    }

    fn sha1_of(p: &Package) -> &str {
        &p.digests[0].value
    }

    #[test]
    fn pom_properties_with_sha1() {
        let p = pom("org.apache.logging.log4j", "log4j-core", "2.17.1");
        let jar = zip_of(&[
            (
                "META-INF/MANIFEST.MF",
                b"Manifest-Version: 1.0\r\n\r\n",
                false,
            ),
            (
                "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                p.as_bytes(),
                false,
            ),
        ]);
        let (found, notes) = scan_file(&jar, "/app/log4j-core-2.17.1.jar").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(found.len(), 1);
        let pkg = &found[0];
        assert_eq!(pkg.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(
            pkg.purl,
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"
        );
        assert_eq!(pkg.ecosystem.as_deref(), Some("Maven"));
        assert_eq!(sha1_of(&found[0]), hex::encode(Sha1::digest(&jar)));
        assert_eq!(pkg.digests[0].algorithm, DigestAlgorithm::Sha1);
        assert_eq!(pkg.evidence, Some(Evidence::PomProperties));
    }

    #[test]
    fn manifest_then_file_name() {
        let mf = b"Manifest-Version: 1.0\r\nBundle-SymbolicName: com.acme.wid\r\n get;singleton:=true\r\nBundle-Version: 3.2.1\r\n\r\nName: x\r\nImplementation-Version: 9\r\n";
        let jar = zip_of(&[("META-INF/MANIFEST.MF", mf, false)]);
        let (found, _) = scan_file(&jar, "/lib/widget.jar").unwrap();
        assert_eq!(
            names(&found),
            vec![(
                "com.acme:widget".into(),
                "3.2.1".into(),
                "/lib/widget.jar".into(),
                Some(Evidence::Manifest)
            )]
        );
        let jar = zip_of(&[("a.class", b"\xca\xfe\xba\xbe", false)]);
        let (found, _) = scan_file(&jar, "/lib/commons-io-2.11.0.jar").unwrap();
        assert_eq!(
            names(&found),
            vec![(
                "commons-io".into(),
                "2.11.0".into(),
                "/lib/commons-io-2.11.0.jar".into(),
                Some(Evidence::FileName)
            )]
        );
        assert_eq!(found[0].purl, "pkg:maven/commons-io@2.11.0");
        let (found, _) = scan_file(&jar, "/lib/app.jar").unwrap();
        assert!(found.is_empty());
    }

    #[test]
    fn file_names() {
        for (f, n, v) in [
            ("log4j-1.2-api-2.17.1.jar", "log4j-1.2-api", Some("2.17.1")),
            ("guava-31.1-jre.jar", "guava", Some("31.1-jre")),
            (
                "netty-all-4.1.77.Final.jar",
                "netty-all",
                Some("4.1.77.Final"),
            ),
            ("bcprov-jdk15on-1.70.jar", "bcprov-jdk15on", Some("1.70")),
            ("app-1.0-SNAPSHOT.war", "app", Some("1.0-SNAPSHOT")),
            ("x-2.0-beta-3.jar", "x", Some("2.0-beta-3")),
            ("app.jar", "app", None),
            ("-1.0.jar", "-1.0", None),
            ("noext", "noext", None),
        ] {
            assert_eq!(
                split_file_name(f),
                (n.to_string(), v.map(str::to_string)),
                "{f}"
            );
        }
        assert!(is_archive_name("/a/B.JAR"));
        assert!(is_archive_name("/a/b.war"));
        assert!(!is_archive_name("/a/.jar"));
        assert!(!is_archive_name("/a/b.jar.sha1"));
        assert!(!is_archive_name("/a/é"));
    }

    #[test]
    fn shaded_and_nested() {
        let inner = zip_of(&[(
            "META-INF/maven/com.google.guava/guava/pom.properties",
            pom("com.google.guava", "guava", "31.1-jre").as_bytes(),
            false,
        )]);
        let fat = zip_of(&[
            (
                "META-INF/maven/com.acme/app/pom.properties",
                pom("com.acme", "app", "1.0.0").as_bytes(),
                false,
            ),
            (
                "META-INF/maven/org.slf4j/slf4j-api/pom.properties",
                pom("org.slf4j", "slf4j-api", "1.7.36").as_bytes(),
                false,
            ),
            ("BOOT-INF/lib/guava-31.1-jre.jar", &inner, true),
            ("BOOT-INF/lib/plain-2.0.0.jar", &zip_of(&[]), false),
        ]);
        let (found, notes) = scan_file(&fat, "/app/app-1.0.0.jar").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let got = names(&found);
        assert_eq!(
            got.iter()
                .map(|g| (g.0.as_str(), g.1.as_str(), g.2.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("com.acme:app", "1.0.0", "/app/app-1.0.0.jar"),
                ("org.slf4j:slf4j-api", "1.7.36", "/app/app-1.0.0.jar"),
                (
                    "com.google.guava:guava",
                    "31.1-jre",
                    "/app/app-1.0.0.jar!/BOOT-INF/lib/guava-31.1-jre.jar"
                ),
                (
                    "plain",
                    "2.0.0",
                    "/app/app-1.0.0.jar!/BOOT-INF/lib/plain-2.0.0.jar"
                ),
            ]
        );
        assert_eq!(sha1_of(&found[2]), hex::encode(Sha1::digest(&inner)));
        assert_ne!(sha1_of(&found[0]), sha1_of(&found[2]));
    }

    #[test]
    fn not_a_zip() {
        assert!(matches!(
            scan_file(b"PK\x05\x06 but not really a zip at all", "/x.jar"),
            Err(AnalyzeError::Malformed(_))
        ));
        // A nested entry that is not a zip is a warning, not an error.
        let jar = zip_of(&[("lib/bad-1.0.jar", b"garbage", false)]);
        let (found, notes) = scan_file(&jar, "/x.jar").unwrap();
        assert!(found.is_empty());
        assert!(
            matches!(&notes[0], FileFact::Skipped { kind: WarningKind::MalformedFile, message }
                if message.contains("bad-1.0.jar: not a readable zip")),
            "{notes:?}"
        );
    }

    #[test]
    fn pom_xml_without_pom_properties() {
        let pom_xml = "<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <parent><groupId>org.acme</groupId><artifactId>parent</artifactId><version>3.1.0</version></parent>\n  <artifactId>widget</artifactId>\n  <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>1</version></dependency></dependencies>\n</project>\n";
        let unresolved = "<project><groupId>g</groupId><artifactId>u</artifactId><version>${revision}</version></project>";
        let jar = zip_of(&[
            (
                "META-INF/maven/org.acme/widget/pom.xml",
                pom_xml.as_bytes(),
                false,
            ),
            // Beside a pom.properties, the pom.xml is not read.
            (
                "META-INF/maven/org.other/lib/pom.properties",
                pom("org.other", "lib", "1.0").as_bytes(),
                false,
            ),
            (
                "META-INF/maven/org.other/lib/pom.xml",
                b"<project><groupId>wrong</groupId></project>",
                false,
            ),
            ("META-INF/maven/g/u/pom.xml", unresolved.as_bytes(), false),
            (
                "META-INF/maven/bad/bad/pom.xml",
                b"<project><a></project>",
                false,
            ),
        ]);
        let (found, notes) = scan_file(&jar, "/opt/widget-3.1.0.jar").unwrap();
        assert_eq!(
            names(&found),
            vec![
                (
                    "org.other:lib".into(),
                    "1.0".into(),
                    "/opt/widget-3.1.0.jar".into(),
                    Some(Evidence::PomProperties)
                ),
                (
                    "org.acme:widget".into(),
                    "3.1.0".into(),
                    "/opt/widget-3.1.0.jar".into(),
                    Some(Evidence::PomXml)
                ),
            ]
        );
        assert!(
            matches!(&notes[..], [FileFact::Skipped { kind: WarningKind::MalformedFile, message }]
                if message.starts_with("/opt/widget-3.1.0.jar!/META-INF/maven/bad/bad/pom.xml: ")),
            "{notes:?}"
        );
    }

    #[test]
    fn sbt_names_and_jenkins_plugins() {
        let bare = zip_of(&[("a.class", b"\xca\xfe\xba\xbe", false)]);
        let (found, _) = scan_file(
            &bare,
            "/lib/com.fasterxml.jackson.core.jackson-core-2.15.2.jar",
        )
        .unwrap();
        assert_eq!(
            found[0].purl,
            "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"
        );
        assert_eq!(found[0].evidence, Some(Evidence::FileName));
        for (stem, group, artifact) in [
            (
                "org.scala-lang.scala-library",
                Some("org.scala-lang"),
                "scala-library",
            ),
            ("log4j-1.2-api", None, "log4j-1.2-api"),
            // An artifact id with dots of its own keeps them: `jakarta` is no top-level domain.
            ("jakarta.ws.rs-api", None, "jakarta.ws.rs-api"),
            ("app.v2", None, "app.v2"),
            ("com.acme.2x", None, "com.acme.2x"),
        ] {
            assert_eq!(split_sbt_name(stem), (group, artifact), "{stem}");
        }

        let mf = b"Manifest-Version: 1.0\r\nShort-Name: git\r\nLong-Name: Jenkins Git plugin\r\nGroup-Id: org.jenkins-ci.plugins\r\nPlugin-Version: 5.2.1 (private-abc)\r\nImplementation-Version: 9.9\r\n\r\n";
        let hpi = zip_of(&[("META-INF/MANIFEST.MF", mf, false)]);
        let (found, _) = scan_file(&hpi, "/var/jenkins_home/plugins/git.jpi").unwrap();
        assert_eq!(
            names(&found),
            vec![(
                "org.jenkins-ci.plugins:git".into(),
                "5.2.1".into(),
                "/var/jenkins_home/plugins/git.jpi".into(),
                Some(Evidence::Manifest)
            )]
        );
        assert!(is_archive_name("/x/git.hpi"));
    }

    #[test]
    fn tiny_non_zip_jar_is_named_malformed() {
        let err = scan_file(b"oops", "/x.jar").unwrap_err();
        assert!(matches!(&err, AnalyzeError::Malformed(m) if m.contains("not a zip archive")));
        let meta = EntryMeta {
            kind: EntryKind::File,
            size: 4,
            mode: 0o644,
            uid: 0,
            gid: 0,
            capabilities: None,
        };
        assert!(matches!(JavaAnalyzer.wants("/x.jar", &meta), Want::Bytes));
    }

    #[test]
    fn manifest_parsing() {
        let m = manifest_main("A: 1\r\nLong-Name: abc\r\n def\r\n\r\nB: 2\r\n");
        assert_eq!(m.get("a").map(String::as_str), Some("1"));
        assert_eq!(m.get("long-name").map(String::as_str), Some("abcdef"));
        assert!(!m.contains_key("b"));
        let p = properties("# c\n! c\nversion = 1.0\ngroupId:g\nbad line\n");
        assert_eq!(p.get("version").map(String::as_str), Some("1.0"));
        assert_eq!(p.get("groupId").map(String::as_str), Some("g"));
        assert_eq!(clean("a\u{1}b"), "a?b");
    }
}
