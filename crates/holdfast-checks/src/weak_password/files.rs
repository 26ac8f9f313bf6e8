//! The weak-password checker's file-level part: which files it reads (by path alone) and
//! what it records or proves from each.

use holdfast_analyze::analyzer::{
    AnalyzeError, AnalyzerGroup, EntryKind, EntryMeta, FileFact, FileInput, Want,
};
use holdfast_analyze::Analyzer;
use holdfast_model::{FindingKind, Severity};

use super::{accounts, ftp, mysql, pg_authid, pg_hba, redis, sshd, texts, tomcat};
use super::{WeakPasswordRecord, ANALYZER, MAX_SERVICE_ACCOUNTS};
use crate::record;
use crate::rules::file_name;

/// What kind of file the analyzer reads, from its path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileClass {
    Passwd,
    Shadow,
    Hostname,
    Redis,
    Tomcat,
    Mysql,
    PgAuthid,
    PgHba,
    Vsftpd,
    Proftpd,
    Sshd,
}

fn classify(path: &str) -> Option<FileClass> {
    let name = file_name(path);
    let c = match path {
        "/etc/passwd" => FileClass::Passwd,
        "/etc/shadow" => FileClass::Shadow,
        "/etc/hostname" => FileClass::Hostname,
        "/etc/ssh/sshd_config" => FileClass::Sshd,
        p if p.starts_with("/etc/ssh/sshd_config.d/") && name.ends_with(".conf") => FileClass::Sshd,
        _ if name == "redis.conf" => FileClass::Redis,
        p if p.starts_with("/etc/redis/") && name.ends_with(".conf") => FileClass::Redis,
        _ if name == "tomcat-users.xml" => FileClass::Tomcat,
        _ if name == "pg_hba.conf" => FileClass::PgHba,
        _ if name == "vsftpd.conf" => FileClass::Vsftpd,
        _ if name == "proftpd.conf" => FileClass::Proftpd,
        p if p.starts_with("/etc/proftpd/conf.d/") => FileClass::Proftpd,
        p if p.ends_with("/mysql/user.MYD")
            || p.ends_with("/mysql/global_priv.MAD")
            || p.ends_with("/mysql/global_priv.MYD") =>
        {
            FileClass::Mysql
        }
        // pg_authid's heap file: a mapped shared catalog whose file node is its OID.
        p if p.ends_with("/global/1260") => FileClass::PgAuthid,
        _ => return None,
    };
    // Sample configurations shipped as documentation are not what a service reads. Tested
    // last: `wants` runs on every entry, and almost none has a class.
    if path.starts_with("/usr/share/doc/") || path.contains("/examples/") {
        return None;
    }
    Some(c)
}

fn file_finding(id: &str, subject: &str, line: u32, evidence: String) -> FileFact {
    let mut f = texts().finding(id, subject);
    f.line = Some(line);
    f.evidence = Some(evidence);
    FileFact::Finding(Box::new(f))
}

/// The file-level part: reads account files and service configs.
pub struct WeakPasswordFiles;

impl Analyzer for WeakPasswordFiles {
    fn name(&self) -> &'static str {
        ANALYZER
    }

    fn version(&self) -> u32 {
        1
    }

    fn group(&self) -> AnalyzerGroup {
        AnalyzerGroup::Check(FindingKind::WeakPassword)
    }

    fn wants(&self, path: &str, meta: &EntryMeta) -> Want {
        if meta.kind != EntryKind::File && meta.kind != EntryKind::HardLink {
            return Want::No;
        }
        match classify(path) {
            Some(_) => Want::Bytes,
            None => Want::No,
        }
    }

    fn analyze(&self, input: &mut FileInput<'_>) -> Result<Vec<FileFact>, AnalyzeError> {
        let Some(class) = classify(input.path) else {
            return Ok(Vec::new());
        };
        let mut bytes = Vec::new();
        input.content.with_reader(|r| r.read_to_end(&mut bytes))?;
        if class == FileClass::Mysql {
            let mut accounts = mysql::parse(&bytes);
            accounts.truncate(MAX_SERVICE_ACCOUNTS);
            return Ok(if accounts.is_empty() {
                Vec::new()
            } else {
                vec![record(&WeakPasswordRecord::Mysql(accounts))?]
            });
        }
        if class == FileClass::PgAuthid {
            let mut roles = pg_authid::parse(&bytes);
            roles.truncate(MAX_SERVICE_ACCOUNTS);
            return Ok(if roles.is_empty() {
                Vec::new()
            } else {
                vec![record(&WeakPasswordRecord::PgRoles(roles))?]
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let facts = match class {
            FileClass::Passwd => {
                let entries = accounts::parse_passwd(&text);
                vec![record(&WeakPasswordRecord::Passwd(entries))?]
            }
            FileClass::Shadow => {
                let entries = accounts::parse_shadow(&text);
                vec![record(&WeakPasswordRecord::Shadow(entries))?]
            }
            FileClass::Hostname => {
                let name = text.lines().next().unwrap_or("").trim().to_string();
                vec![record(&WeakPasswordRecord::Hostname(name))?]
            }
            FileClass::Redis => vec![record(&WeakPasswordRecord::Redis(redis::parse(&text)))?],
            FileClass::Sshd => vec![record(&WeakPasswordRecord::Sshd(sshd::parse(&text)))?],
            FileClass::Tomcat => {
                let mut users = tomcat::parse(&text);
                users.truncate(MAX_SERVICE_ACCOUNTS);
                let mut facts = Vec::new();
                for u in users
                    .iter()
                    .filter(|u| u.password.is_some() && !u.looks_digested)
                {
                    facts.push(file_finding(
                        "HF-WEAKPW-TOMCAT-PLAIN",
                        &u.name,
                        u.line,
                        format!("user {} (roles: {})", u.name, u.roles),
                    ));
                }
                facts.push(record(&WeakPasswordRecord::Tomcat(users))?);
                facts
            }
            FileClass::PgHba => pg_hba::trust_rules(&text)
                .into_iter()
                .map(|r| {
                    let mut fact = file_finding("HF-WEAKPW-PG-TRUST", "", r.line, r.text);
                    if let FileFact::Finding(f) = &mut fact {
                        if r.conn_type == "local" {
                            // Only processes inside the container reach a local socket.
                            f.severity = Severity::Medium;
                        }
                    }
                    fact
                })
                .collect(),
            FileClass::Vsftpd => ftp::vsftpd_anonymous(&text)
                .map(|line| {
                    file_finding(
                        "HF-WEAKPW-FTP-ANONYMOUS",
                        "",
                        line,
                        "anonymous_enable=YES".into(),
                    )
                })
                .into_iter()
                .collect(),
            FileClass::Proftpd => ftp::proftpd_anonymous(&text)
                .map(|line| {
                    file_finding(
                        "HF-WEAKPW-FTP-ANONYMOUS",
                        "",
                        line,
                        "<Anonymous> block".into(),
                    )
                })
                .into_iter()
                .collect(),
            FileClass::Mysql | FileClass::PgAuthid => Vec::new(),
        };
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_configs_but_not_documentation_samples() {
        assert_eq!(classify("/etc/vsftpd.conf"), Some(FileClass::Vsftpd));
        assert_eq!(
            classify("/opt/app/conf/tomcat-users.xml"),
            Some(FileClass::Tomcat)
        );
        assert_eq!(
            classify("/usr/share/doc/vsftpd/examples/INTERNET_SITE/vsftpd.conf"),
            None
        );
        assert_eq!(classify("/srv/redis/examples/redis.conf"), None);
        assert_eq!(
            classify("/var/lib/postgresql/15/main/global/1260"),
            Some(FileClass::PgAuthid)
        );
        assert_eq!(
            classify("/var/lib/mysql/mysql/global_priv.MAD"),
            Some(FileClass::Mysql)
        );
    }
}
