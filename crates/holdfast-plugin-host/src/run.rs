//! Running a plugin: one child process in its own session and process group, fed its
//! request through a pipe and read line by line, all in one `poll` loop, so neither a
//! plugin that never reads stdin nor a grandchild that keeps stdout open can hold the
//! scan past the deadline.
//!
//! With [`Isolation::ReadOnly`], the child enters a private mount namespace (a user
//! namespace too when holdfast is not root) where the given paths (the target's root
//! filesystem, the cache) are bind-mounted onto themselves read-only, nosuid and nodev:
//! even a plugin running as root cannot write to them. When that cannot be set up, the
//! plugin is not run.

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use holdfast_plugin::{Event, LogLevel, PluginFinding};

/// How long a plugin has between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long stdout is still read after the plugin exited (a child it left may hold it).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(500);
/// Stderr kept for the error message.
const STDERR_TAIL: usize = 4 << 10;
/// Invalid lines and log lines kept per run (the rest are counted).
const KEPT_LINES: usize = 50;

/// Where a plugin may not write.
#[derive(Debug, Clone, Default)]
pub enum Isolation {
    /// Nothing is set up (for `info`).
    #[default]
    None,
    /// These paths are read-only for the plugin and its children.
    ReadOnly(Vec<PathBuf>),
}

/// Bounds of one plugin run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// From start to SIGTERM.
    pub timeout: Duration,
    /// Most bytes read from stdout.
    pub max_output: u64,
    /// Longest line.
    pub max_line: usize,
    /// Most findings kept.
    pub max_findings: usize,
    pub isolation: Isolation,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(300),
            max_output: 256 << 20,
            max_line: 1 << 20,
            max_findings: 100_000,
            isolation: Isolation::None,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Exited 0.
    Ok,
    /// Could not be started (or isolated).
    NotStarted(String),
    /// Exited non-zero or was killed by a signal it did not get from us.
    Failed(String),
    /// Still running at the deadline; its process group was killed.
    TimedOut(Duration),
    /// Wrote more than the output cap; its process group was killed.
    Overflowed(u64),
}

impl RunStatus {
    /// Whether the run ended well.
    pub fn is_ok(&self) -> bool {
        matches!(self, RunStatus::Ok)
    }

    /// The status's name in results: `ok`, `not-started`, `failed`, `timed-out`, `overflowed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::NotStarted(_) => "not-started",
            RunStatus::Failed(_) => "failed",
            RunStatus::TimedOut(_) => "timed-out",
            RunStatus::Overflowed(_) => "overflowed",
        }
    }

    /// What went wrong, in words; `None` when nothing did.
    pub fn message(&self) -> Option<String> {
        match self {
            RunStatus::Ok => None,
            RunStatus::NotStarted(e) => Some(format!("could not start: {e}")),
            RunStatus::Failed(e) => Some(e.clone()),
            RunStatus::TimedOut(t) => Some(format!(
                "did not finish within {}s; stopped with its process group",
                t.as_secs()
            )),
            RunStatus::Overflowed(n) => Some(format!(
                "wrote more than {n} bytes; stopped with its process group"
            )),
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub status: RunStatus,
    /// Valid findings, in the order written.
    pub findings: Vec<PluginFinding>,
    /// Lines that were not valid events: (line number, why), the first few.
    pub invalid: Vec<(u64, String)>,
    /// How many lines were invalid in all.
    pub invalid_count: u64,
    /// Findings dropped past the cap.
    pub dropped_findings: u64,
    /// Log events, the first few.
    pub logs: Vec<(LogLevel, String)>,
    /// The last progress event.
    pub progress: Option<(u64, Option<u64>)>,
    /// The end of what it wrote to stderr.
    pub stderr_tail: String,
    pub elapsed: Duration,
}

impl RunOutcome {
    /// The outcome of a run that never started, and why.
    pub fn not_started(why: String) -> RunOutcome {
        RunOutcome::empty(RunStatus::NotStarted(why))
    }

    /// An outcome with that status and nothing collected yet.
    fn empty(status: RunStatus) -> RunOutcome {
        RunOutcome {
            status,
            findings: Vec::new(),
            invalid: Vec::new(),
            invalid_count: 0,
            dropped_findings: 0,
            logs: Vec::new(),
            progress: None,
            stderr_tail: String::new(),
            elapsed: Duration::ZERO,
        }
    }
}

/// Runs `plugin` with `args`, writes `request` to its stdin, and collects its events.
pub fn run_plugin(
    plugin: &Path,
    args: &[&str],
    request: &[u8],
    options: &RunOptions,
) -> RunOutcome {
    let started = Instant::now();
    let mut child = match spawn(plugin, args, &options.isolation) {
        Ok(c) => c,
        Err(e) => return RunOutcome::not_started(e.to_string()),
    };
    let mut outcome = RunOutcome::empty(RunStatus::Ok);
    let mut on_line = |number: u64, line: &[u8]| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        match serde_json::from_str::<Event>(text) {
            Ok(Event::Finding { finding }) => {
                if outcome.findings.len() < options.max_findings {
                    outcome.findings.push(finding);
                } else {
                    outcome.dropped_findings += 1;
                }
            }
            Ok(Event::Log { level, message }) => {
                log_event(plugin, level, &message);
                if outcome.logs.len() < KEPT_LINES {
                    outcome.logs.push((level, message));
                }
            }
            Ok(Event::Progress { done, total }) => outcome.progress = Some((done, total)),
            Err(e) => {
                outcome.invalid_count += 1;
                if outcome.invalid.len() < KEPT_LINES {
                    outcome.invalid.push((number, e.to_string()));
                }
            }
        }
    };
    let pumped = pump(
        &mut child,
        request,
        started + options.timeout,
        options.max_output,
        options.max_line,
        &mut on_line,
    );
    outcome.stderr_tail = pumped.stderr_tail;
    outcome.status = match pumped.end {
        End::Exited(status) if status.success() => RunStatus::Ok,
        End::Exited(status) => RunStatus::Failed(describe_exit(status, &outcome.stderr_tail)),
        End::TimedOut => RunStatus::TimedOut(options.timeout),
        End::Overflowed => RunStatus::Overflowed(options.max_output),
        End::Io(e) => RunStatus::Failed(format!("reading its output: {e}")),
    };
    for (number, why) in pumped.long_lines {
        outcome.invalid_count += 1;
        if outcome.invalid.len() < KEPT_LINES {
            outcome.invalid.push((number, why));
        }
    }
    outcome.invalid.sort_by_key(|(n, _)| *n);
    outcome.elapsed = started.elapsed();
    outcome
}

fn log_event(plugin: &Path, level: LogLevel, message: &str) {
    let name = plugin
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    match level {
        LogLevel::Debug => tracing::debug!(plugin = %name, "{message}"),
        LogLevel::Info => tracing::info!(plugin = %name, "{message}"),
        LogLevel::Warn => tracing::warn!(plugin = %name, "{message}"),
        LogLevel::Error => tracing::error!(plugin = %name, "{message}"),
    }
}

/// `exited with code N` or `was killed by signal N`.
pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended with {status}"),
    }
}

fn describe_exit(status: ExitStatus, stderr_tail: &str) -> String {
    let how = describe_status(status);
    let last = stderr_tail
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        });
    match last {
        Some(l) => format!("{how}: {l}"),
        None => how,
    }
}

/// What a short command printed (for `info`).
#[derive(Debug)]
pub enum Capture {
    Exited {
        status: ExitStatus,
        stdout: Vec<u8>,
        stderr_tail: String,
    },
    TimedOut,
    TooLarge,
}

/// Runs `program args` with no input, in its own process group, and returns what it
/// printed, within `timeout` and `max_bytes`.
pub fn capture(
    program: &Path,
    args: &[&str],
    timeout: Duration,
    max_bytes: u64,
) -> io::Result<Capture> {
    let mut child = spawn(program, args, &Isolation::None)?;
    let mut stdout = Vec::new();
    let mut on_line = |_: u64, line: &[u8]| {
        stdout.extend_from_slice(line);
        stdout.push(b'\n');
    };
    let pumped = pump(
        &mut child,
        &[],
        Instant::now() + timeout,
        max_bytes,
        max_bytes as usize,
        &mut on_line,
    );
    Ok(match pumped.end {
        End::Exited(status) => Capture::Exited {
            status,
            stdout,
            stderr_tail: pumped.stderr_tail,
        },
        End::TimedOut => Capture::TimedOut,
        End::Overflowed => Capture::TooLarge,
        End::Io(e) => return Err(e),
    })
}

/// Starts the child: its own session (so its process group is ours to kill), a plain
/// environment, stdin/stdout/stderr piped, and the isolation asked for.
fn spawn(program: &Path, args: &[&str], isolation: &Isolation) -> io::Result<Child> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_clear()
        .env(
            "HOLDFAST_PLUGIN_PROTOCOL",
            holdfast_plugin::PROTOCOL_VERSION.to_string(),
        );
    for key in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    if let Some(dir) = program.parent().filter(|d| !d.as_os_str().is_empty()) {
        cmd.current_dir(dir);
    }
    let setup = match isolation {
        Isolation::None => None,
        Isolation::ReadOnly(paths) => Some(NamespaceSetup::new(paths)?),
    };
    // SAFETY: the closure runs in the forked child before exec; it only makes system
    // calls on data prepared before the fork (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if let Some(setup) = &setup {
                setup.enter()?;
            }
            Ok(())
        });
    }
    spawn_when_not_busy(&mut cmd)
}

/// Spawns, retrying for up to about a second while exec fails with `ETXTBSY`.
///
/// A plugin file written a moment ago (installed, updated) can still be open for writing
/// in a child this process forked elsewhere between that file's open and the child's own
/// exec; close-on-exec closes it only at that exec. The kernel refuses to run a file open
/// for writing, so the failure is transient and the retry is what makes it invisible.
fn spawn_when_not_busy(cmd: &mut Command) -> io::Result<Child> {
    let mut delay = Duration::from_millis(2);
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && delay < Duration::from_secs(1) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            spawned => return spawned,
        }
    }
}

/// Everything the child needs to set up its namespace, prepared before the fork.
struct NamespaceSetup {
    /// `None` as root; the uid and gid map lines otherwise.
    maps: Option<(CString, CString)>,
    mounts: Vec<(CString, libc::c_ulong)>,
}

impl NamespaceSetup {
    fn new(paths: &[PathBuf]) -> io::Result<NamespaceSetup> {
        // SAFETY: getters without side effects.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let maps = (uid != 0).then(|| {
            (
                CString::new(format!("{uid} {uid} 1\n")).expect("no NUL"),
                CString::new(format!("{gid} {gid} 1\n")).expect("no NUL"),
            )
        });
        let mut mounts = Vec::new();
        for p in paths {
            let c = CString::new(p.as_os_str().as_bytes()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte")
            })?;
            // Flags the mount already has must be kept when remounting in a user namespace.
            let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
            // SAFETY: c is a valid C string, st a valid out-pointer.
            if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: {}", p.display(), io::Error::last_os_error()),
                ));
            }
            let mut flags = libc::MS_REMOUNT
                | libc::MS_BIND
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV;
            for (st_flag, ms_flag) in [
                (libc::ST_NOEXEC, libc::MS_NOEXEC),
                (libc::ST_NOATIME, libc::MS_NOATIME),
                (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
                (libc::ST_RELATIME, libc::MS_RELATIME),
            ] {
                if st.f_flag & st_flag != 0 {
                    flags |= ms_flag;
                }
            }
            mounts.push((c, flags));
        }
        Ok(NamespaceSetup { maps, mounts })
    }

    /// Runs in the child between fork and exec.
    fn enter(&self) -> io::Result<()> {
        let fail = |what: &'static str| {
            let e = io::Error::last_os_error();
            io::Error::new(e.kind(), format!("{what}: {e}"))
        };
        // SAFETY: plain system calls on C strings built before the fork.
        unsafe {
            match &self.maps {
                None => {
                    if libc::unshare(libc::CLONE_NEWNS) != 0 {
                        return Err(fail("a private mount namespace"));
                    }
                }
                Some((uid_map, gid_map)) => {
                    if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                        return Err(fail("a user and mount namespace"));
                    }
                    write_proc(c"/proc/self/setgroups", c"deny").map_err(|_| fail("setgroups"))?;
                    write_proc(c"/proc/self/uid_map", uid_map).map_err(|_| fail("uid_map"))?;
                    write_proc(c"/proc/self/gid_map", gid_map).map_err(|_| fail("gid_map"))?;
                }
            }
            let none = std::ptr::null();
            if libc::mount(
                none,
                c"/".as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(fail("making mounts private"));
            }
            for (path, flags) in &self.mounts {
                if libc::mount(
                    path.as_ptr(),
                    path.as_ptr(),
                    none,
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(fail("bind-mounting a read-only path"));
                }
                if libc::mount(none, path.as_ptr(), none, *flags, std::ptr::null()) != 0 {
                    return Err(fail("remounting a path read-only"));
                }
            }
        }
        Ok(())
    }
}

/// Writes to a /proc file without allocating (between fork and exec).
unsafe fn write_proc(path: &std::ffi::CStr, data: &std::ffi::CStr) -> Result<(), ()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return Err(());
    }
    let bytes = data.to_bytes();
    let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    libc::close(fd);
    if n == bytes.len() as isize {
        Ok(())
    } else {
        Err(())
    }
}

enum End {
    Exited(ExitStatus),
    TimedOut,
    Overflowed,
    Io(io::Error),
}

struct Pumped {
    end: End,
    stderr_tail: String,
    /// Lines cut for being too long: (line number, why).
    long_lines: Vec<(u64, String)>,
}

/// Feeds stdin, reads stdout line by line and the tail of stderr, until the child exits
/// and its output ends, or the deadline, or the output cap. Whatever happens, the child's
/// process group is killed and the child reaped before this returns.
fn pump(
    child: &mut Child,
    input: &[u8],
    deadline: Instant,
    max_output: u64,
    max_line: usize,
    on_line: &mut dyn FnMut(u64, &[u8]),
) -> Pumped {
    let pid = child.id() as libc::pid_t;
    let mut stdin: Option<ChildStdin> = child.stdin.take();
    let mut stdout: Option<ChildStdout> = child.stdout.take();
    let mut stderr: Option<ChildStderr> = child.stderr.take();
    for fd in [
        stdin.as_ref().map(|s| s.as_raw_fd()),
        stdout.as_ref().map(|s| s.as_raw_fd()),
        stderr.as_ref().map(|s| s.as_raw_fd()),
    ]
    .into_iter()
    .flatten()
    {
        set_nonblocking(fd);
    }
    let mut written = 0usize;
    if input.is_empty() {
        stdin = None;
    }
    let mut line: Vec<u8> = Vec::new();
    let mut skipping_long = false;
    let mut line_no: u64 = 0;
    let mut long_lines = Vec::new();
    let mut total: u64 = 0;
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut exited_at: Option<Instant> = None;
    // A pidfd turns readable when the child exits, so the loop wakes at the exit instead
    // of at its next timeout; without one (kernels before 5.3) it checks every few ms.
    let pidfd = PidFd::open(pid);
    let end = loop {
        if exited_at.is_none() && has_exited(pid) {
            // Kill what it left behind before reaping it, while its pid still names the group.
            kill_group(pid, libc::SIGKILL);
            exited_at = Some(Instant::now());
        }
        let outputs_open = stdout.is_some() || stderr.is_some();
        if let Some(t) = exited_at {
            if !outputs_open || t.elapsed() > DRAIN_AFTER_EXIT {
                break None;
            }
        }
        let now = Instant::now();
        if now >= deadline {
            break Some(End::TimedOut);
        }
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(3);
        let mut which = Vec::with_capacity(3);
        if let Some(s) = &stdin {
            fds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            });
            which.push(0);
        }
        if let Some(s) = &stdout {
            fds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            which.push(1);
        }
        if let Some(s) = &stderr {
            fds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            which.push(2);
        }
        let tick = match (&pidfd, exited_at) {
            (Some(p), None) => {
                fds.push(libc::pollfd {
                    fd: p.0,
                    events: libc::POLLIN,
                    revents: 0,
                });
                which.push(3);
                Duration::from_millis(50)
            }
            _ => Duration::from_millis(5),
        };
        let wait = (deadline - now).min(tick).as_millis() as libc::c_int;
        // SAFETY: fds is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait.max(1)) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break Some(End::Io(e));
        }
        let mut overflow = false;
        for (p, w) in fds.iter().zip(&which) {
            if p.revents == 0 {
                continue;
            }
            match w {
                0 => {
                    let s = stdin.as_mut().expect("polled");
                    match s.write(&input[written..]) {
                        Ok(k) => {
                            written += k;
                            if written >= input.len() {
                                stdin = None; // closes the pipe: the request is complete
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // The plugin closed stdin (or died): it does not want the rest.
                        Err(_) => stdin = None,
                    }
                }
                1 => {
                    let s = stdout.as_mut().expect("polled");
                    match s.read(&mut buf) {
                        Ok(0) => stdout = None,
                        Ok(k) => {
                            total += k as u64;
                            if total > max_output {
                                overflow = true;
                                break;
                            }
                            for chunk in buf[..k].split_inclusive(|b| *b == b'\n') {
                                let complete = chunk.last() == Some(&b'\n');
                                let body = if complete {
                                    &chunk[..chunk.len() - 1]
                                } else {
                                    chunk
                                };
                                if !skipping_long {
                                    if line.len() + body.len() > max_line {
                                        skipping_long = true;
                                        line.clear();
                                    } else {
                                        line.extend_from_slice(body);
                                    }
                                }
                                if complete {
                                    line_no += 1;
                                    if skipping_long {
                                        long_lines.push((
                                            line_no,
                                            format!("longer than {max_line} bytes"),
                                        ));
                                        skipping_long = false;
                                    } else {
                                        on_line(line_no, &line);
                                    }
                                    line.clear();
                                }
                            }
                        }
                        Err(e)
                            if e.kind() == io::ErrorKind::WouldBlock
                                || e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => stdout = None,
                    }
                }
                // The child exited: the top of the loop reaps it.
                3 => {}
                _ => {
                    let s = stderr.as_mut().expect("polled");
                    match s.read(&mut buf) {
                        Ok(0) => stderr = None,
                        Ok(k) => {
                            tail.extend_from_slice(&buf[..k]);
                            if tail.len() > STDERR_TAIL {
                                tail.drain(..tail.len() - STDERR_TAIL);
                            }
                        }
                        Err(e)
                            if e.kind() == io::ErrorKind::WouldBlock
                                || e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => stderr = None,
                    }
                }
            }
        }
        if overflow {
            break Some(End::Overflowed);
        }
    };
    // A last line without its newline (the plugin ended mid-line) is still a line.
    if !line.is_empty() && !skipping_long && !matches!(end, Some(End::Overflowed)) {
        line_no += 1;
        on_line(line_no, &line);
    }
    drop((stdin, stdout, stderr));
    let end = match end {
        Some(End::TimedOut) => {
            stop(child, pid);
            End::TimedOut
        }
        Some(End::Overflowed) => {
            kill_group(pid, libc::SIGKILL);
            let _ = child.wait();
            End::Overflowed
        }
        Some(other) => {
            kill_group(pid, libc::SIGKILL);
            let _ = child.wait();
            other
        }
        None => match child.wait() {
            Ok(status) => End::Exited(status),
            Err(e) => End::Io(e),
        },
    };
    Pumped {
        end,
        stderr_tail: String::from_utf8_lossy(&tail).into_owned(),
        long_lines,
    }
}

/// A pidfd of the child, closed on drop.
struct PidFd(libc::c_int);

impl PidFd {
    fn open(pid: libc::pid_t) -> Option<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        (fd >= 0).then_some(PidFd(fd as libc::c_int))
    }
}

impl Drop for PidFd {
    fn drop(&mut self) {
        // SAFETY: closes the descriptor this value owns.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// SIGTERM to the group, SIGKILL after a grace period, then reap.
fn stop(child: &mut Child, pid: libc::pid_t) {
    kill_group(pid, libc::SIGTERM);
    let until = Instant::now() + TERM_GRACE;
    while Instant::now() < until && !has_exited(pid) {
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(pid, libc::SIGKILL);
    let _ = child.wait();
}

/// Whether the child has exited, without reaping it (its pid stays reserved).
fn has_exited(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with a valid out-pointer; WNOWAIT leaves the child waitable.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: signals the process group the child leads (setsid made pgid == pid).
    unsafe {
        libc::kill(-pgid, signal);
    }
}

fn set_nonblocking(fd: libc::c_int) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}
