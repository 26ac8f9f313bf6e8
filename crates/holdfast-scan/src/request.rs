//! What a front end asks the engine for.

use holdfast_analyze::{AnalyzerGroup, WalkLimits};
use holdfast_checks::CheckConfig;
use holdfast_model::FindingKind;
use holdfast_policy::Policy;
use holdfast_source::{ContainerEngine, LayerCache, OpenOptions, TargetSpec};

use crate::db::VulnDbHandle;
use crate::progress::CancelToken;

/// One scan: what to scan, which scanners, which filters, with which shared resources.
///
/// Built by a front end (flags, an API call, an admission review), run by
/// [`crate::scan`] or [`crate::scan_async`]. Every field is owned, so a request can move
/// to a worker thread.
#[derive(Clone)]
pub struct ScanRequest {
    /// The targets, scanned in this order; one [`holdfast_model::TargetResult`] each (a
    /// registry or "every container" target gives one per image or container).
    pub targets: Vec<Target>,
    /// The scanners to run; see [`default_scanners`].
    pub scanners: Vec<FindingKind>,
    /// An inventory only (`holdfast sbom`): packages, no findings, no database.
    pub sbom: bool,
    /// Which package catalogers run besides the OS ones (`os`, `library`).
    pub package_types: Vec<AnalyzerGroup>,
    /// Leave out language packages an OS package owns (their file is in a dpkg, apk or
    /// rpm file list; [`holdfast_model::Package::owner`]), before the checkers and the
    /// vulnerability match: what Trivy does for files dpkg owns. By default they are kept,
    /// with their owner and, on their vulnerabilities, a remediation naming it.
    pub skip_os_owned: bool,
    /// The checkers' settings (rules, dictionaries, clamd).
    pub checks: CheckConfig,
    /// What to keep of the findings; also what [`holdfast_policy::verdict`] judges with.
    pub policy: Policy,
    /// The ignore file the policy's rules came from, named in suppressed findings.
    pub ignore_source: Option<String>,
    /// How targets are opened: platform, decompression bounds, registry credentials.
    pub open: OpenOptions,
    /// Bounds of one layer walk.
    pub walk: WalkLimits,
    /// The layer cache; `None` reads everything.
    pub cache: Option<LayerCache>,
    /// The vulnerability database, shared by every request of the process.
    pub db: VulnDbHandle,
    /// Stops the scan from outside, or at a deadline.
    pub cancel: CancelToken,
    /// External plugins run as scanners (none by default).
    pub plugins: crate::PluginSettings,
    /// The `misconfig` scanner's extra checks and regulation filter.
    pub misconfig: MisconfigSettings,
}

/// What the `misconfig` scanner judges images, containers and cluster workloads with,
/// besides the built-in checks; a `Benchmark` target's run uses the same.
#[derive(Debug, Clone, Default)]
pub struct MisconfigSettings {
    /// `--policy` directories or files of extra checks (on `docker-image`, `dockerfile`,
    /// `docker-container` and `kubernetes` documents, and a benchmark's host documents).
    pub policies: Vec<std::path::PathBuf>,
    /// `--compliance`: only the checks tagged with one of these regulations; empty runs
    /// all.
    pub regulations: Vec<String>,
}

/// One thing to scan.
#[derive(Debug, Clone)]
pub enum Target {
    /// An image, a root filesystem directory or a container, as the CLI's target syntax
    /// names it; `name` is what the result calls it.
    Spec { spec: TargetSpec, name: String },
    /// One container, by id, id prefix or name, of the engine that runs it.
    Container { id: String, engine: ContainerEngine },
    /// Every container of an engine, running or not; one that vanishes between the
    /// listing and its turn is skipped.
    AllContainers { engine: ContainerEngine },
    /// Images of a registry, listed and selected.
    Registry(RegistrySelection),
    /// The images every pod of a Kubernetes cluster runs, each scanned once.
    Cluster(crate::ClusterSelection),
    /// Configuration files (Dockerfiles, Kubernetes manifests) under some paths, each file
    /// one target with its check results.
    Config(holdfast_compliance::ConfigScanOptions),
    /// A compliance benchmark on this host: CIS Docker (the daemon, its files, containers
    /// and images) or CIS Kubernetes' worker node section (the kubelet).
    Benchmark(holdfast_compliance::BenchmarkOptions),
}

/// Which images of a registry to scan, and how many at once.
#[derive(Debug, Clone, Default)]
pub struct RegistrySelection {
    /// `host[:port]`.
    pub host: String,
    /// Repository globs to keep (`team/*`); empty keeps all.
    pub repos: Vec<String>,
    /// Tag globs to keep (`v1.*`); empty keeps all.
    pub tags: Vec<String>,
    /// Globs of repositories or `repo:tag`s to skip.
    pub exclude: Vec<String>,
    /// Per repository, only the N tags whose images were created last.
    pub newest: Option<usize>,
    /// At most this many images in all.
    pub max_images: Option<usize>,
    /// Images scanned at once.
    pub parallel: usize,
}

/// The scanners a request runs: for an SBOM (`sbom`) the package inventory only, else the
/// `named` ones, or [`default_scanners`] when none is named.
pub fn effective_scanners(sbom: bool, named: &[FindingKind]) -> Vec<FindingKind> {
    if sbom {
        vec![FindingKind::Vulnerability]
    } else if named.is_empty() {
        default_scanners()
    } else {
        named.to_vec()
    }
}

/// Every scanner holdfast has that runs on images today (misconfiguration and
/// compliance have their own commands).
pub fn default_scanners() -> Vec<FindingKind> {
    FindingKind::ALL
        .into_iter()
        .filter(|k| !matches!(k, FindingKind::Misconfiguration | FindingKind::Compliance))
        .collect()
}
