//! Which files the backdoor checker reads, by path alone (no I/O, as `wants` requires).

use crate::rules::file_name;

/// A file's class: the rule classes of `backdoor-rules.toml`, plus what the image-wide
/// checks record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClass {
    /// Matched line by line against the rules of this class name.
    Rules(&'static str),
    /// `/etc/passwd`: accounts, for the service-account check.
    Passwd,
    /// A PAM module.
    PamModule,
    /// `/var/lib/dpkg/info/*.list`: files a package owns.
    DpkgList,
    /// `/lib/apk/db/installed`: files Alpine packages own.
    ApkInstalled,
}

const SHELL_STARTUP_NAMES: &[&str] = &[
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".zshrc",
    ".zprofile",
    ".zshenv",
];

const CRON_DIRS: &[&str] = &[
    "/etc/cron.d/",
    "/etc/cron.hourly/",
    "/etc/cron.daily/",
    "/etc/cron.weekly/",
    "/etc/cron.monthly/",
    "/etc/cron.yearly/",
    "/var/spool/cron/crontabs/",
    "/var/spool/cron/",
];

const SYSTEMD_DIRS: &[&str] = &[
    "/etc/systemd/system/",
    "/etc/systemd/user/",
    "/lib/systemd/system/",
    "/lib/systemd/user/",
    "/usr/lib/systemd/system/",
    "/usr/lib/systemd/user/",
    "/usr/local/lib/systemd/system/",
    "/run/systemd/system/",
];

/// The shell names a setuid file may not have.
pub const SHELL_NAMES: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "csh", "tcsh", "fish", "ash",
    "busybox", "rbash",
];

/// Where the image's own shells live; their hashes identify renamed copies.
pub fn is_system_shell(path: &str) -> bool {
    let Some((dir, name)) = path.rsplit_once('/') else {
        return false;
    };
    matches!(dir, "/bin" | "/usr/bin") && SHELL_NAMES.contains(&name)
}

fn in_dir(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

fn home_file(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/root/").or_else(|| {
        path.strip_prefix("/home/")
            .and_then(|r| r.split_once('/').map(|x| x.1))
    })?;
    Some(rest)
}

/// The class of `path`, if the checker reads it.
pub fn classify(path: &str) -> Option<FileClass> {
    let name = file_name(path);
    let rules = FileClass::Rules;
    let c = match path {
        "/etc/ld.so.preload" => rules("ld-so-preload"),
        "/etc/crontab" | "/etc/anacrontab" => rules("cron"),
        "/etc/rc.local" | "/etc/rc.d/rc.local" => rules("rc-script"),
        "/etc/profile" | "/etc/bash.bashrc" | "/etc/bashrc" | "/etc/zsh/zshrc" | "/etc/zshrc"
        | "/etc/zsh/zprofile" | "/etc/environment" => rules("shell-startup"),
        "/etc/ssh/sshd_config" => rules("sshd-config"),
        "/etc/xinetd.conf" => rules("xinetd"),
        "/etc/inetd.conf" => rules("inetd"),
        "/etc/passwd" => FileClass::Passwd,
        "/lib/apk/db/installed" => FileClass::ApkInstalled,
        p if in_dir(p, "/etc/profile.d/") => rules("shell-startup"),
        p if in_dir(p, "/etc/skel/") && SHELL_STARTUP_NAMES.contains(&name) => {
            rules("shell-startup")
        }
        p if home_file(p).is_some_and(|f| SHELL_STARTUP_NAMES.contains(&f)) => {
            rules("shell-startup")
        }
        p if in_dir(p, "/etc/ssh/sshd_config.d/") && name.ends_with(".conf") => {
            rules("sshd-config")
        }
        p if in_dir(p, "/etc/xinetd.d/") => rules("xinetd"),
        p if in_dir(p, "/etc/init.d/") || in_dir(p, "/etc/rc.d/init.d/") => rules("rc-script"),
        p if CRON_DIRS.iter().any(|d| in_dir(p, d)) && !name.starts_with('.') => rules("cron"),
        p if (p.ends_with("/.ssh/authorized_keys") || p.ends_with("/.ssh/authorized_keys2")) => {
            rules("authorized-keys")
        }
        p if (name.ends_with(".service")
            || name.ends_with(".socket")
            || name.ends_with(".timer"))
            && (SYSTEMD_DIRS.iter().any(|d| p.starts_with(d))
                || p.contains("/.config/systemd/user/")) =>
        {
            rules("systemd-unit")
        }
        p if p.starts_with("/var/lib/dpkg/info/") && name.ends_with(".list") => FileClass::DpkgList,
        p if name.ends_with(".so") && is_pam_dir(p) => FileClass::PamModule,
        _ => return None,
    };
    Some(c)
}

/// `/lib/security`, `/lib64/security`, `/usr/lib/security`, `/lib/<triplet>/security`,
/// `/usr/lib/<triplet>/security`, `/usr/lib64/security`.
fn is_pam_dir(path: &str) -> bool {
    let Some((dir, _)) = path.rsplit_once('/') else {
        return false;
    };
    let Some(parent) = dir.strip_suffix("/security") else {
        return false;
    };
    let base = [
        "/lib",
        "/lib64",
        "/usr/lib",
        "/usr/lib64",
        "/lib32",
        "/usr/lib32",
    ];
    base.contains(&parent)
        || base.iter().any(|b| {
            parent
                .strip_prefix(b)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|t| t.contains("-linux-") && !t.contains('/'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_paths() {
        let r = |p: &str| classify(p);
        assert_eq!(r("/etc/cron.d/e2scrub_all"), Some(FileClass::Rules("cron")));
        assert_eq!(r("/etc/cron.daily/.placeholder"), None);
        assert_eq!(
            r("/var/spool/cron/crontabs/root"),
            Some(FileClass::Rules("cron"))
        );
        assert_eq!(
            r("/home/bob/.bashrc"),
            Some(FileClass::Rules("shell-startup"))
        );
        assert_eq!(r("/home/bob/x/.bashrc"), None);
        assert_eq!(
            r("/root/.ssh/authorized_keys"),
            Some(FileClass::Rules("authorized-keys"))
        );
        assert_eq!(
            r("/usr/lib/systemd/system/cron.service"),
            Some(FileClass::Rules("systemd-unit"))
        );
        assert_eq!(
            r("/usr/lib/x86_64-linux-gnu/security/pam_unix.so"),
            Some(FileClass::PamModule)
        );
        assert_eq!(r("/lib/security/pam_x.so"), Some(FileClass::PamModule));
        assert_eq!(r("/usr/lib/python3/security/x.so"), None);
        assert_eq!(
            r("/var/lib/dpkg/info/libpam-modules:amd64.list"),
            Some(FileClass::DpkgList)
        );
        assert!(is_system_shell("/bin/bash"));
        assert!(!is_system_shell("/tmp/bash"));
    }
}
