//! The API's target syntax, and the scan request a queued scan becomes.
//!
//! A target is what the CLI takes, with a prefix for what is not an image:
//! `docker-archive:F`, `oci:DIR[:TAG]`, `oci-archive:F`, `docker:NAME`, `registry:REF` or a
//! bare reference (an image, as `holdfast scan image` takes it); `rootfs:DIR` (a host or
//! unpacked filesystem, as `scan rootfs`); `container:ID` and `containers:all` (the Docker
//! daemon's containers, as `scan container`); `catalog:HOST` (every image of a registry,
//! as `scan registry`); `compliance:docker`, `compliance:kubernetes` and
//! `compliance:cluster[:CONTEXT]` (the benchmarks `holdfast compliance` runs, on the host
//! the worker runs on or on a cluster's pod specs).

use std::time::Duration;

use holdfast_model::FindingKind;
use holdfast_scan::{
    Benchmark, BenchmarkOptions, CancelToken, CheckSettings, ClusterOptions, ClusterSelection,
    RegistrySelection, ScanRequest, Target, WalkLimits,
};
use holdfast_source::{ContainerEngine, OpenOptions, TargetSpec};

use crate::AppState;

/// What a target string names, for the store's views and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKindArg {
    /// An image.
    Image,
    /// A directory.
    Rootfs,
    /// A container or every container.
    Container,
    /// A registry's images.
    Registry,
    /// A Kubernetes cluster's pods and their images.
    Cluster,
    /// A compliance benchmark run.
    Compliance,
}

/// The prefix of the compliance runs' targets.
pub const COMPLIANCE_PREFIX: &str = "compliance:";

/// Parses a target string into the engine's target.
pub fn parse_target(target: &str) -> Result<(Target, TargetKindArg), String> {
    let target = target.trim();
    if target.is_empty() {
        return Err("the target is empty".into());
    }
    if let Some(dir) = target.strip_prefix("rootfs:") {
        return Ok((
            Target::Spec {
                spec: TargetSpec::Rootfs(dir.into()),
                name: dir.to_string(),
            },
            TargetKindArg::Rootfs,
        ));
    }
    if let Some(what) = target.strip_prefix(COMPLIANCE_PREFIX) {
        return compliance_target(target, what).map(|t| (t, TargetKindArg::Compliance));
    }
    if target == "containers:all" {
        return Ok((
            Target::AllContainers {
                engine: ContainerEngine::Docker,
            },
            TargetKindArg::Container,
        ));
    }
    if let Some(id) = target.strip_prefix("container:") {
        return Ok((
            Target::Container {
                id: id.to_string(),
                engine: ContainerEngine::Docker,
            },
            TargetKindArg::Container,
        ));
    }
    if let Some(context) = target.strip_prefix("cluster:") {
        return Ok((Target::Cluster(cluster(context)), TargetKindArg::Cluster));
    }
    if let Some(host) = target.strip_prefix("catalog:") {
        if host.is_empty() || host.contains('/') {
            return Err(format!("`{target}`: catalog: takes a registry host[:port]"));
        }
        return Ok((
            Target::Registry(RegistrySelection {
                host: host.to_string(),
                parallel: 2,
                ..RegistrySelection::default()
            }),
            TargetKindArg::Registry,
        ));
    }
    let spec = TargetSpec::parse_image(target).map_err(|e| e.to_string())?;
    Ok((
        Target::Spec {
            spec,
            name: target.to_string(),
        },
        TargetKindArg::Image,
    ))
}

/// `cluster:CONTEXT`'s selection. `in-cluster` (or nothing) is the service account of the
/// pod the server runs in, or the kubeconfig's current context; any other word names a
/// kubeconfig context.
fn cluster(context: &str) -> ClusterSelection {
    let context = match context.trim() {
        "" | "in-cluster" => None,
        other => Some(other.to_string()),
    };
    ClusterSelection {
        options: ClusterOptions {
            context,
            ..ClusterOptions::default()
        },
        parallel: 2,
        ..ClusterSelection::default()
    }
}

/// `compliance:WHAT`: the CIS Docker benchmark of the worker's host (`docker`), the CIS
/// Kubernetes node benchmark of the worker's node (`kubernetes`), or a cluster's pod specs
/// (`cluster[:CONTEXT]`), as `holdfast compliance` runs them.
fn compliance_target(target: &str, what: &str) -> Result<Target, String> {
    let benchmark = |benchmark| {
        Target::Benchmark(BenchmarkOptions {
            benchmark,
            ..BenchmarkOptions::default()
        })
    };
    match what {
        "docker" => Ok(benchmark(Benchmark::Docker)),
        "kubernetes" => Ok(benchmark(Benchmark::KubernetesNode)),
        _ => match what.strip_prefix("cluster") {
            Some(rest) if rest.is_empty() || rest.starts_with(':') => {
                Ok(Target::Cluster(ClusterSelection {
                    specs_only: true,
                    ..cluster(rest.trim_start_matches(':'))
                }))
            }
            _ => Err(format!(
                "`{target}`: compliance: takes docker, kubernetes or cluster[:CONTEXT]"
            )),
        },
    }
}

/// Whether the target is an image on quay.io (skipped when `DISABLE_QUAYIO_SCAN` is set).
pub fn is_quay(target: &str) -> bool {
    let reference = target
        .strip_prefix("registry:")
        .or_else(|| target.strip_prefix("catalog:"))
        .unwrap_or(target);
    reference == "quay.io" || reference.starts_with("quay.io/") || reference.starts_with("quay.io:")
}

/// Parses scanner names (`vuln`, `secret`, ...).
pub fn parse_scanners(names: &[String]) -> Result<Vec<FindingKind>, String> {
    names.iter().map(|n| n.parse()).collect()
}

/// The request a queued scan runs: the service's shared database and cache, default
/// checker settings, a deadline.
pub fn scan_request(
    state: &AppState,
    target: &str,
    scanners: &[String],
) -> Result<ScanRequest, String> {
    // The service's `--policy` checks reach every target through the request's misconfig
    // settings below.
    let (target, _) = parse_target(target)?;
    let named = parse_scanners(scanners)?;
    let scanners = holdfast_scan::effective_scanners(false, &named);
    let settings = CheckSettings {
        weak_password_timeout: Duration::from_secs(60),
        secret_max_file_size: holdfast_scan::DEFAULT_SECRET_MAX_FILE_SIZE,
        max_file_size: 64 << 20,
        ..CheckSettings::default()
    };
    let checks = holdfast_scan::check_config(&settings, &scanners).map_err(|e| e.to_string())?;
    let cancel = CancelToken::with_deadline(std::time::Instant::now() + state.config.scan_timeout);
    Ok(ScanRequest {
        targets: vec![target],
        scanners,
        sbom: false,
        package_types: vec![
            holdfast_scan::AnalyzerGroup::OsPackages,
            holdfast_scan::AnalyzerGroup::Library,
        ],
        skip_os_owned: false,
        checks,
        policy: holdfast_policy::Policy::default(),
        ignore_source: None,
        open: OpenOptions::default(),
        walk: WalkLimits::default(),
        cache: state.cache.clone(),
        db: state.db.clone(),
        cancel,
        plugins: Default::default(),
        misconfig: holdfast_scan::MisconfigSettings {
            policies: state.config.policies.clone(),
            regulations: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_like_the_cli() {
        assert_eq!(
            parse_target("rootfs:/srv").unwrap().1,
            TargetKindArg::Rootfs
        );
        assert_eq!(
            parse_target("container:web").unwrap().1,
            TargetKindArg::Container
        );
        assert!(matches!(
            parse_target("containers:all").unwrap().0,
            Target::AllContainers { .. }
        ));
        assert_eq!(
            parse_target("catalog:127.0.0.1:5000").unwrap().1,
            TargetKindArg::Registry
        );
        match parse_target("cluster:in-cluster").unwrap() {
            (Target::Cluster(sel), TargetKindArg::Cluster) => assert_eq!(sel.options.context, None),
            other => panic!("{other:?}"),
        }
        match parse_target("cluster:prod").unwrap().0 {
            Target::Cluster(sel) => assert_eq!(sel.options.context.as_deref(), Some("prod")),
            other => panic!("{other:?}"),
        }
        assert!(parse_target("catalog:host/repo").is_err());
        match parse_target("compliance:docker").unwrap() {
            (Target::Benchmark(o), TargetKindArg::Compliance) => {
                assert_eq!(o.benchmark, Benchmark::Docker)
            }
            other => panic!("{other:?}"),
        }
        match parse_target("compliance:kubernetes").unwrap().0 {
            Target::Benchmark(o) => assert_eq!(o.benchmark, Benchmark::KubernetesNode),
            other => panic!("{other:?}"),
        }
        for (target, context) in [
            ("compliance:cluster", None),
            ("compliance:cluster:prod", Some("prod")),
        ] {
            match parse_target(target).unwrap() {
                (Target::Cluster(sel), TargetKindArg::Compliance) => {
                    assert!(sel.specs_only, "{target}");
                    assert_eq!(sel.options.context.as_deref(), context, "{target}");
                }
                other => panic!("{other:?}"),
            }
        }
        for bad in ["compliance:", "compliance:pci", "compliance:clusterx"] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains("docker, kubernetes or cluster"), "{bad}: {e}");
        }
        assert_eq!(
            parse_target("docker-archive:a.tar").unwrap().1,
            TargetKindArg::Image
        );
        assert_eq!(parse_target("alpine:3.19").unwrap().1, TargetKindArg::Image);
        assert!(parse_target("  ").is_err());
    }

    #[test]
    fn quay_is_recognised() {
        assert!(is_quay("quay.io/prometheus/node-exporter:v1"));
        assert!(is_quay("registry:quay.io/a/b"));
        assert!(is_quay("catalog:quay.io"));
        assert!(!is_quay("docker.io/quay.io"));
        assert!(!is_quay("myquay.io/a"));
    }

    #[test]
    fn scanner_names_are_checked() {
        assert_eq!(
            parse_scanners(&["vuln".into()]).unwrap(),
            vec![FindingKind::Vulnerability]
        );
        assert!(parse_scanners(&["nope".into()])
            .unwrap_err()
            .contains("unknown scanner"));
    }
}
