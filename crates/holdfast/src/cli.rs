//! Command-line flags. Names follow Trivy's where users already know them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Exit code for errors (bad flags, unreadable targets). 0 means the scan ran.
pub const EXIT_ERROR: u8 = 2;

/// A container security scanner.
#[derive(Parser, Debug)]
#[command(name = "holdfast", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Print only errors on stderr (no progress, no warning summary).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Print debug logs on stderr.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Where the host's root is mounted when holdfast runs in a container (`-v /:/host:ro`): the engines' sockets, storage, snapshots and /proc are read under it, and `scan rootfs /` scans it.
    #[arg(long, global = true, env = "HOLDFAST_HOST_ROOT", value_name = "DIR")]
    pub host_root: Option<std::path::PathBuf>,
    /// Threads that walk layers at once [default: one per CPU]. Each holds at most one file of up to --max-file-size in memory, so fewer threads bound a scan's memory on a small node, at the cost of time.
    #[arg(long, global = true, env = "HOLDFAST_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a target.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// Build or inspect the vulnerability database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Inspect or empty the per-layer analysis cache.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Write a software bill of materials for an image.
    Sbom {
        /// The image: docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH, docker:NAME, containerd:NAME[@NAMESPACE], podman:NAME, registry:REF, or a bare path/name/host[:port]/repo[:tag] (a bare name is looked for in Docker, then containerd, then Podman).
        target: String,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Run a compliance benchmark on this host (CIS Docker v1.6.0, CIS Kubernetes v1.9.0 node).
    #[command(subcommand)]
    Compliance(ComplianceCommand),
    /// Work with saved results.
    #[command(subcommand)]
    Report(ReportCommand),
    /// List, describe, install or remove plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Run as a Docker Engine authorization plugin that blocks risky images.
    Authz {
        /// The plugin's config file (TOML, veinmind-runner's shape).
        #[arg(long, short = 'c')]
        config: PathBuf,
    },
    /// Run as a Kubernetes validating admission webhook that blocks pods with risky images.
    Admission {
        /// Address to serve HTTPS on.
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: std::net::SocketAddr,
        /// TLS certificate chain (PEM), the one the webhook configuration's caBundle signs.
        #[arg(long)]
        tls_cert: PathBuf,
        /// TLS private key (PEM).
        #[arg(long)]
        tls_key: PathBuf,
        /// The policy file: the authorization plugin's config (TOML); its container_create policies judge pods.
        #[arg(long)]
        policy: PathBuf,
        /// Read pods' pull secrets from the cluster of this kubeconfig [default: KUBECONFIG, ~/.kube/config, else the in-cluster service account].
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// The kubeconfig context to read pull secrets through.
        #[arg(long)]
        context: Option<String>,
        /// Pull with the policy file's credentials only, never the pods' pull secrets.
        #[arg(long, conflicts_with_all = ["kubeconfig", "context"])]
        no_pull_secrets: bool,
    },
    /// Explain a saved JSON result with an OpenAI-compatible model.
    Analyze(AnalyzeArgs),
    /// Run as a service: REST API, workers, schedules, metrics; or manage its tokens.
    Server(ServerArgs),
}

/// `holdfast server`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
    /// Address to listen on [default: 127.0.0.1:8080, or 0.0.0.0:$HTTP_PORT when HTTP_PORT is set].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// TLS certificate chain (PEM); with --tls-key the API is served over HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Run workers and the scheduler only, no API (several share a PostgreSQL queue).
    #[arg(long)]
    pub worker: bool,
    /// Also serve the Kubernetes admission webhook at POST /admission (HTTPS with --tls-cert), judged by the stored admission policy and the exceptions in force.
    #[arg(long, conflicts_with = "worker")]
    pub admission: bool,
    /// The admission webhook's settings: an authorization plugin config without [[policies]] ([holdfast] timeout, fail_mode, registries; [docker_auth]; [log]). Implies --admission.
    #[arg(long, value_name = "FILE", conflicts_with = "worker")]
    pub admission_config: Option<PathBuf>,
    /// Extra checks for the compliance runs (compliance:docker, compliance:kubernetes, compliance:cluster targets) and the misconfig scanner: a directory of Rego and check files, or one file; repeatable. See docs/checks.md.
    #[arg(long, value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Scans run at once by this process.
    #[arg(long, env = "NUM_THREADS", default_value_t = 2)]
    pub workers: usize,
    /// The vulnerability database the service matches with and serves at /api/v1/db [default: $HOLDFAST_DB, then the user cache dir; the demo advisories until one is built].
    #[arg(long, env = "HOLDFAST_DB")]
    pub db: Option<PathBuf>,
    /// Layer cache directory [default: the user cache dir].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Share layer results through S3-compatible storage (s3://bucket/prefix; endpoint and credentials from the AWS_* variables).
    #[arg(long, env = "HOLDFAST_CACHE_URL")]
    pub cache_url: Option<String>,
    /// Interval of schedules that name none, e.g. 12h.
    #[arg(long, env = "SCAN_INTERVAL", default_value = "12h", value_parser = parse_duration)]
    pub scan_interval: std::time::Duration,
    /// Also write every finished result as JSON into this directory.
    #[arg(long, env = "SEC_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,
    /// Do not scan images from quay.io.
    #[arg(long, env = "DISABLE_QUAYIO_SCAN", value_parser = clap::builder::FalseyValueParser::new())]
    pub skip_quay: bool,
    /// Log filter (error, warn, info, debug, or a tracing filter).
    #[arg(long, env = "LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Config file whose `[server]` table declares schedules.
    #[arg(long, env = "HOLDFAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// How long a worker's lease on a scan lasts (another worker takes over a scan whose lease ran out).
    #[arg(long, default_value = "2m", value_parser = parse_duration, hide = true)]
    pub lease: std::time::Duration,
    /// How often the scheduler runs.
    #[arg(long, default_value = "5s", value_parser = parse_duration, hide = true)]
    pub tick: std::time::Duration,
}

/// Where the service's store is; shared by `server` and its token commands.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory: the SQLite store lives here [default: the user data dir, holdfast/server].
    #[arg(long, env = "HOLDFAST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user@host/db) instead of SQLite.
    #[arg(long, env = "HOLDFAST_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ServerCommand {
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Make a token and print it once (only its hash is stored).
    Create {
        /// What it may do: read, scan (also queue scans) or admin (also exceptions, schedules).
        #[arg(long)]
        scope: String,
        /// Who or what it is for.
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `holdfast analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The JSON result (`-f json`) to explain.
    #[arg(long, short = 'r')]
    pub result: PathBuf,
    /// Output formats, comma-separated: table, json, html [default: table].
    #[arg(long, short = 'f', value_delimiter = ',')]
    pub format: Vec<String>,
    /// Write to this file (one format) or directory (several formats).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub ai: AiArgs,
}

/// How to reach the model that explains results.
#[derive(Args, Debug, Clone, Default)]
pub struct AiArgs {
    /// Base URL of an OpenAI-compatible API (the Chat Completions endpoint is BASE/chat/completions).
    #[arg(long, env = "HOLDFAST_AI_ENDPOINT")]
    pub ai_endpoint: Option<String>,
    /// The model to ask.
    #[arg(long, env = "HOLDFAST_AI_MODEL")]
    pub ai_model: Option<String>,
    /// File holding the API token (else HOLDFAST_AI_TOKEN); never given as a plain flag.
    #[arg(long)]
    pub ai_token_file: Option<PathBuf>,
    /// Replace the default instructions given to the model.
    #[arg(long, short = 'p')]
    pub prompt: Option<String>,
}

/// `holdfast plugin ...`.
#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List the plugins found (and the candidates that are broken, with the reason).
    List {
        #[command(flatten)]
        search: PluginSearchArgs,
    },
    /// Print a plugin's manifest: commands, parameters, kinds.
    Info {
        /// The plugin's name.
        name: String,
        #[command(flatten)]
        search: PluginSearchArgs,
    },
    /// Copy a plugin (an executable, or a directory holding one) into the user's plugin directory.
    Install {
        /// The executable or directory.
        path: PathBuf,
    },
    /// Remove an installed plugin from the user's plugin directory.
    Uninstall {
        /// The plugin's name.
        name: String,
    },
}

/// Where plugins are searched.
#[derive(Args, Debug, Clone, Default)]
pub struct PluginSearchArgs {
    /// Directory searched recursively for plugins (repeatable); then HOLDFAST_PLUGIN_PATH (colon-separated) and the user's data directory, holdfast/plugins.
    #[arg(long = "plugin-dir")]
    pub plugin_dir: Vec<PathBuf>,
    /// Config file (TOML) whose [plugins] table names plugin dirs, the plugins to run, a timeout and parameters.
    #[arg(long, env = "HOLDFAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of the layer cache, where plugin manifests are cached too [default: the user cache dir, holdfast/].
    #[arg(long, env = "HOLDFAST_CACHE_DIR", hide = true)]
    pub cache_dir: Option<PathBuf>,
}

/// Which plugins a scan runs, and with what.
#[derive(Args, Debug, Clone, Default)]
pub struct PluginArgs {
    /// Directory searched recursively for plugins (repeatable); then HOLDFAST_PLUGIN_PATH (colon-separated) and the user's data directory, holdfast/plugins.
    #[arg(long = "plugin-dir")]
    pub plugin_dir: Vec<PathBuf>,
    /// Run only these plugins, comma-separated [default: every plugin found; with --scanners, those that report one of those kinds].
    #[arg(long, value_delimiter = ',', conflicts_with = "no_plugins")]
    pub plugins: Vec<String>,
    /// Run no plugin.
    #[arg(long)]
    pub no_plugins: bool,
    /// Time one plugin may take on one target, e.g. 30s, 5m [default: 5m, or the config file's].
    #[arg(long, value_parser = parse_duration)]
    pub plugin_timeout: Option<Duration>,
    /// Config file (TOML) whose [plugins] table names plugin dirs, the plugins to run, a timeout and parameters.
    #[arg(long, env = "HOLDFAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// Plugin parameters, after `--`: NAME:COMMAND.PARAM=VALUE (my-plugin:scan/image.serviceName=ssh) or NAME:PARAM=VALUE for every command.
    #[arg(last = true, value_name = "PLUGIN_PARAM")]
    pub plugin_params: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Re-render a saved JSON result (`-f json`) in other formats, without scanning again.
    Convert {
        /// The JSON result file.
        input: PathBuf,
        /// Output formats, comma-separated: table, json, html, sarif, cyclonedx, spdx, template, compliance (check results by section and regulation).
        #[arg(long, short = 'f', value_delimiter = ',')]
        format: Vec<String>,
        /// Write to this file (one format) or directory (several formats: one file each).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// The minijinja template for `-f template`; the JSON result is its context.
        #[arg(long)]
        template: Option<PathBuf>,
        /// Never color the table (also: the NO_COLOR environment variable).
        #[arg(long)]
        no_color: bool,
        /// List every package in the table before the findings.
        #[arg(long)]
        list_packages: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Compile OSV advisories (directories of OSV JSON files, or per-ecosystem all.zip files) into a database.
    Build {
        /// OSV sources: directories (searched recursively), .json files, or all.zip files.
        #[arg(long = "from", required = true, num_args = 1..)]
        from: Vec<PathBuf>,
        /// The database file to write [default: the user cache dir, holdfast/db/holdfast.db].
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// NVD CVE API 2.0 JSON files (plain or gzip): their CVSS ratings rate advisories that rate nothing themselves.
        #[arg(long, num_args = 1..)]
        nvd: Vec<PathBuf>,
        /// Debian's security tracker JSON export (plain or gzip): its urgencies rate Debian advisories nothing else rates.
        #[arg(long)]
        debian_tracker: Option<PathBuf>,
    },
    /// Download the OSV feed's per-ecosystem zips and rebuild the database from them (atomic: a failed update keeps the old database).
    Update {
        /// Base URL of the feed, or a directory, laid out as the OSV bucket: BASE/ECOSYSTEM/all.zip.
        #[arg(long, env = "HOLDFAST_FEED_URL", default_value = holdfast_vulndb::update::DEFAULT_FEED_URL)]
        feed_url: String,
        /// Ecosystems to fetch, comma-separated [default: the distributions and languages holdfast catalogs].
        #[arg(long, value_delimiter = ',')]
        ecosystem: Vec<String>,
        /// Also fetch this NVD CVE API 2.0 JSON file (plain or gzip; repeatable), e.g. a mirror of NVD's yearly nvdcve-2.0-YEAR.json.gz feeds: it rates advisories that rate nothing themselves.
        #[arg(long = "nvd-url")]
        nvd_urls: Vec<String>,
        /// Also fetch Debian's security tracker JSON export (or a mirror of it) for Debian findings nothing else rates.
        #[arg(long)]
        debian_tracker_url: Option<String>,
        /// Where to fetch a feed file when the feed cannot serve it (repeatable, or comma-separated in the env; tried in order, each with retries): an http(s) base URL or a directory (or file:// URL) laid out as BASE/ECOSYSTEM/all.zip.
        #[arg(long = "mirror", env = "HOLDFAST_FEED_MIRRORS", value_delimiter = ',')]
        mirrors: Vec<String>,
        /// Take the database a holdfast server holds (GET URL/api/v1/db; nothing is downloaded when the local one is current) instead of building one; --feed-url and --mirror are then not used.
        #[arg(long, conflicts_with_all = ["ecosystem", "nvd_urls", "debian_tracker_url"])]
        server: Option<String>,
        /// Bearer token for --server.
        #[arg(long, env = "HOLDFAST_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The database file to write [default: the user cache dir, holdfast/db/holdfast.db].
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Print a database's age, counts and sources.
    Info {
        /// The database [default: $HOLDFAST_DB, then the user cache dir].
        #[arg(long, env = "HOLDFAST_DB")]
        db: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScanCommand {
    /// Scan a container image.
    Image {
        /// The image: docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH, docker:NAME, containerd:NAME[@NAMESPACE], podman:NAME, registry:REF, or a bare path/name/host[:port]/repo[:tag] (a bare name is looked for in Docker, then containerd, then Podman).
        target: String,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Scan every (or every selected) image of a registry.
    Registry {
        /// The registry: HOST[:PORT].
        host: String,
        #[command(flatten)]
        select: RegistryScanArgs,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Scan the images every pod of a Kubernetes cluster runs (each once), with each pod's owner and exposure.
    Cluster {
        #[command(flatten)]
        select: ClusterArgs,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Check Dockerfiles and Kubernetes manifests for misconfigurations (alias: iac).
    #[command(visible_alias = "iac")]
    Config {
        /// Files, directories or git repository URLs (https://, git://, ssh://, file://, git@host:path; `#branch-or-tag` picks a ref): Dockerfiles (Dockerfile, Containerfile, *.Dockerfile), compose files and Kubernetes YAML or JSON (multi-document, `List`s, `helm template` output). Directories are walked; `.git`, `node_modules` and Helm chart templates are skipped.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Give up a git repository's clone after this long (fetch and checkout together), e.g. 90s or 10m.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
        clone_timeout: std::time::Duration,
        /// Give up a git repository's clone once it holds more than this many bytes on disk.
        #[arg(long, value_name = "BYTES", default_value_t = 2 << 30)]
        clone_max_size: u64,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Scan a root filesystem in a directory.
    Rootfs {
        /// The directory.
        dir: PathBuf,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// Scan a running or stopped container: its runtime settings, processes and filesystem.
    Container {
        /// The container's id, id prefix or name (containerd: ID[@NAMESPACE]).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        target: Option<String>,
        /// Scan every container of the engine, running or not (one target each).
        #[arg(long)]
        all: bool,
        /// The engine that runs the container.
        #[arg(long, value_enum, default_value_t = Runtime::Docker)]
        runtime: Runtime,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
}

/// Flags shared by the scanning commands.
#[derive(Args, Debug, Clone)]
pub struct ScanOptions {
    /// Output formats, comma-separated: table, json, html, sarif, cyclonedx, spdx, template, compliance (check results by section and regulation).
    #[arg(long, short = 'f', value_delimiter = ',')]
    pub format: Vec<String>,
    /// Write to this file (one format) or directory (several formats: one file each, and
    /// the table on stdout too) instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// The minijinja template for `-f template`; the JSON result is its context.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Never color the table (also: the NO_COLOR environment variable).
    #[arg(long)]
    pub no_color: bool,
    /// List every package in the table before the findings (`sbom -f table` always does).
    #[arg(long)]
    pub list_packages: bool,
    /// The vulnerability database [default: the user cache dir, holdfast/db/holdfast.db].
    #[arg(long, env = "HOLDFAST_DB")]
    pub db: Option<PathBuf>,
    /// Scanners to run, comma-separated: vuln, secret, malware, webshell, weak-password,
    /// backdoor, escape, history, suid, misconfig [default: all of them but misconfig,
    /// which judges the image's config and history and a container's settings with the
    /// CIS Docker and Dockerfile checks].
    #[arg(long, value_delimiter = ',', value_parser = parse_scanner)]
    pub scanners: Vec<holdfast_model::FindingKind>,
    /// Report only these severities, comma-separated: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL.
    #[arg(long, value_delimiter = ',', value_parser = holdfast_policy::parse_severity)]
    pub severity: Vec<holdfast_model::Severity>,
    /// Do not report vulnerabilities that have no fixed version yet.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Exit with this code when any finding remains after the filters (0: always exit 0).
    #[arg(long, default_value_t = 0)]
    pub exit_code: u8,
    /// Ignore file: `ID [exp:YYYY-MM-DD] [pkg:NAME] [path:PREFIX]` per line [default: .holdfastignore if present].
    #[arg(long)]
    pub ignorefile: Option<PathBuf>,
    /// OpenVEX documents: not_affected and fixed statements suppress the findings they name (kept in the JSON under `suppressed`).
    #[arg(long)]
    pub vex: Vec<PathBuf>,
    /// Package types to inventory, comma-separated: os, library.
    #[arg(long, value_delimiter = ',', default_value = "os,library")]
    pub pkg_types: Vec<String>,
    /// Leave out language packages whose file an OS package owns (dpkg, apk or rpm file
    /// lists), and their findings; by default they are kept and name their owner.
    #[arg(long)]
    pub skip_os_owned: bool,
    /// For multi-platform images: the platform to scan (os/arch[/variant]); default: this machine's.
    #[arg(long)]
    pub platform: Option<String>,
    /// Directory for the per-layer analysis cache [default: the user cache dir, holdfast/].
    #[arg(long, env = "HOLDFAST_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Share the layer cache through S3-compatible storage, s3://BUCKET[/PREFIX]: misses in
    /// --cache-dir are looked up there and new results uploaded. Endpoint, region and
    /// credentials come from the AWS_* environment variables (AWS_ENDPOINT_URL,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP). Errors are
    /// warnings: the scan reads the image instead.
    #[arg(long, env = "HOLDFAST_CACHE_URL", value_name = "URL")]
    pub cache_url: Option<String>,
    /// Never use the network: no --cache-url store. Scans of local targets use none otherwise; the flag is also accepted for scripts written for other scanners.
    #[arg(long)]
    pub offline: bool,
    /// Do not read or write the layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Largest size a layer may inflate to, in bytes (decompression-bomb guard).
    #[arg(long, default_value_t = 32 << 30)]
    pub max_layer_size: u64,
    /// Largest file read into memory for analysis, in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_file_size: u64,
    /// Extra candidate passwords for the weak-password scanner, one per line (tried after guesses from account and host names, before the built-in list).
    #[arg(long, value_name = "FILE")]
    pub dict: Option<PathBuf>,
    /// Time budget for guessing password hashes in one image, e.g. 30s, 2m; accounts left unchecked are reported.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub weak_password_timeout: std::time::Duration,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub engines: EngineArgs,
    /// Secret rule file (TOML): adds rules and allow rules, or disables built-in rules by id. Repeatable.
    #[arg(long)]
    pub secret_config: Vec<PathBuf>,
    /// Largest file scanned for secrets, in bytes; larger text files are skipped with a warning (binaries silently, whatever their size).
    #[arg(long, default_value_t = holdfast_scan::DEFAULT_SECRET_MAX_FILE_SIZE)]
    pub secret_max_file_size: u64,
    /// Directory of YARA rules (.yar, .yara, searched recursively) used beside the built-in rules. Repeatable.
    #[arg(long)]
    pub yara_rules: Vec<PathBuf>,
    /// Stream files to a running ClamAV daemon: unix:PATH or tcp:HOST:PORT.
    #[arg(long)]
    pub clamd: Option<holdfast_scan::ClamdAddress>,
    #[command(flatten)]
    pub plugin: PluginArgs,
    /// Ask an OpenAI-compatible model to explain the result (see --ai-endpoint); its answer is a section of the outputs.
    #[arg(long)]
    pub analyze: bool,
    #[command(flatten)]
    pub ai: AiArgs,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("`{s}` is not a duration like 30s or 2m: {e}"))
}

fn parse_scanner(s: &str) -> Result<holdfast_model::FindingKind, String> {
    s.parse()
}

/// The engines `scan container --runtime` names.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Docker,
    Containerd,
    Podman,
}

/// Where containerd and Podman are; taken by every command that opens images.
#[derive(Args, Debug, Clone, Default)]
pub struct EngineArgs {
    /// containerd's socket.
    #[arg(
        long,
        env = "CONTAINERD_ADDRESS",
        value_name = "PATH",
        default_value = "/run/containerd/containerd.sock"
    )]
    pub containerd_address: PathBuf,
    /// containerd namespace (k8s.io, moby, default); without it those three are searched.
    #[arg(long, env = "CONTAINERD_NAMESPACE", value_name = "NAMESPACE")]
    pub containerd_namespace: Option<String>,
    /// Podman's API socket, unix://PATH or PATH [default: the rootful, then the rootless socket, when one exists].
    #[arg(long, env = "CONTAINER_HOST", value_name = "SOCKET")]
    pub podman_socket: Option<String>,
    /// Podman's storage root, read directly (without it, only when no Podman service runs) [default: storage.conf's graphroot, else /var/lib/containers/storage].
    #[arg(long, value_name = "DIR")]
    pub podman_root: Option<PathBuf>,
}

/// How to reach registries; taken by every command that opens images.
#[derive(Args, Debug, Clone, Default)]
pub struct RegistryArgs {
    /// Registry user name; the password is read from stdin (--password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from stdin (with --username).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// A bearer token for the registry.
    #[arg(
        long = "registry-token",
        env = "HOLDFAST_REGISTRY_TOKEN",
        hide_env_values = true
    )]
    pub registry_token: Option<String>,
    /// A Kubernetes image pull secret (the Secret as YAML/JSON, or its .dockerconfigjson).
    #[arg(long)]
    pub pull_secret: Option<PathBuf>,
    /// Talk plain HTTP to this registry host[:port] (repeatable).
    #[arg(long = "insecure-registry")]
    pub insecure_registry: Vec<String>,
    /// PEM file with the CA certificate(s) of a private registry.
    #[arg(long)]
    pub registry_ca: Option<PathBuf>,
}

/// Compliance benchmarks.
#[derive(Subcommand, Debug)]
pub enum ComplianceCommand {
    /// The CIS Docker Benchmark v1.6.0 on this host: the daemon's process, flags, daemon.json and files, the audit rules, every container and every image (with --host-root, the host mounted there).
    Docker {
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        schedule: ScheduleArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
    /// The CIS Kubernetes Benchmark v1.9.0 worker node section on this node: the kubelet's flags and config file, kube-proxy, and the owners and modes of their files (run it on the node, as root; with --host-root, the node mounted there). With --cluster, the pod specs of a cluster instead.
    Kubernetes {
        /// Judge the pod specs a cluster runs (one per workload) against the Kubernetes workload and Pod Security Standards checks, instead of this node.
        #[arg(long)]
        cluster: bool,
        #[command(flatten)]
        pods: ClusterPodArgs,
        #[command(flatten)]
        checks: CheckArgs,
        #[command(flatten)]
        schedule: ScheduleArgs,
        #[command(flatten)]
        opts: ScanOptions,
    },
}

/// When a compliance benchmark runs again, and what it is compared with.
#[derive(Args, Debug, Clone)]
pub struct ScheduleArgs {
    /// Run again every DURATION (e.g. 12h) until interrupted; each run's status and what changed since the run before go to stderr, and the outputs are rewritten.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<std::time::Duration>,
    /// A JSON result of an earlier run: report new failures and fixed checks since then.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// Which configuration and compliance checks run.
#[derive(Args, Debug, Clone, Default)]
pub struct CheckArgs {
    /// Extra checks: a directory of Rego (`.rego`, with a `metadata` rule) and check files (`.toml`), or one such file; repeatable; for scans of images, containers and clusters, they join the misconfig scanner's. See docs/checks.md.
    #[arg(long, value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Only the checks that support these regulations, comma-separated: pci (PCI DSS), gdpr, hipaa, nist (NIST SP 800-190).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub compliance: Vec<String>,
}

/// Which cluster, which pods, and how many images at once.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub pods: ClusterPodArgs,
    /// Do not scan images of this registry host (repeatable), e.g. quay.io.
    #[arg(long = "skip-registry", value_name = "HOST")]
    pub skip_registry: Vec<String>,
    /// Skip quay.io images, as the runtime image scanner's setting did.
    #[arg(long, env = "DISABLE_QUAYIO_SCAN", hide = true)]
    pub disable_quayio_scan: bool,
    /// Images scanned at once.
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
}

/// Which cluster and which of its pods.
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterPodArgs {
    /// A kubeconfig file [default: KUBECONFIG, ~/.kube/config, then the in-cluster service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context [default: the current one].
    #[arg(long)]
    pub context: Option<String>,
    /// Only this namespace.
    #[arg(long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace (the default without --namespace).
    #[arg(long)]
    pub all_namespaces: bool,
    /// Only pods matching this label selector, e.g. 'app=web,tier!=db'.
    #[arg(long)]
    pub selector: Option<String>,
    /// Do not read pods of this namespace (repeatable), e.g. kube-system.
    #[arg(long = "skip-namespace", value_name = "NAMESPACE")]
    pub skip_namespace: Vec<String>,
}

impl ClusterPodArgs {
    /// The cluster options these name; `skip_registries` is the caller's.
    pub fn options(self, skip_registries: Vec<String>) -> holdfast_scan::ClusterOptions {
        holdfast_scan::ClusterOptions {
            kubeconfig: self.kubeconfig,
            context: self.context,
            namespace: self.namespace,
            selector: self.selector,
            skip_registries,
            skip_namespaces: self.skip_namespace,
            page_size: None,
        }
    }
}

/// Which images of a registry to scan, and how many at once.
#[derive(Args, Debug, Clone)]
pub struct RegistryScanArgs {
    /// Scan only repositories matching this glob (repeatable), e.g. 'team/*'.
    #[arg(long)]
    pub repo: Vec<String>,
    /// Scan only tags matching this glob (repeatable), e.g. 'v1.*'.
    #[arg(long)]
    pub tag: Vec<String>,
    /// Skip repositories or `repo:tag`s matching this glob (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Per repository, scan only the N tags whose images were created last.
    #[arg(long)]
    pub newest: Option<usize>,
    /// Scan at most N images in all.
    #[arg(long)]
    pub max_images: Option<usize>,
    /// Images scanned at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
}

/// Inspect or empty the per-layer analysis cache.
#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Print the number of cached layer results, their size, the oldest and newest.
    Info {
        /// The cache directory [default: the user cache dir, holdfast/].
        #[arg(long, env = "HOLDFAST_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Remove cached layer results (all, or those older than --older-than).
    Clean {
        /// The cache directory [default: the user cache dir, holdfast/].
        #[arg(long, env = "HOLDFAST_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
        /// Only entries last written longer ago than this: 30d, 12h, 90m, 45s.
        #[arg(long, value_parser = parse_age)]
        older_than: Option<Duration>,
    },
}

/// Parses `N` followed by `d`, `h`, `m` or `s`. Hand-written: four units do not need a
/// dependency.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not an age like 30d, 12h, 90m or 45s"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        _ => return Err(format!("`{s}`: the unit must be d, h, m or s")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_age("90m").unwrap(), Duration::from_secs(5_400));
        assert!(parse_age("3w").is_err());
        assert!(parse_age("d").is_err());
    }
}
