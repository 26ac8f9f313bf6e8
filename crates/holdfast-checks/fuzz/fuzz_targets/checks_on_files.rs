//! Arbitrary contents at the paths the checkers read (account files, service configs,
//! database catalogs, cron, systemd, shell start-up files, keys, web roots), in one layer
//! walked by the real walker with every checker's analyzers, then every checker's
//! image-wide step over the merge. Guessing is off (a zero time bound): the parsers and
//! the record round trip are what is fuzzed, not crypt(3).
#![no_main]

use std::time::Duration;

use holdfast_analyze::walker::walk_tar;
use holdfast_analyze::{Analyzer, WalkLimits};
use holdfast_checks::{weak_password, CheckConfig, ImageContext};
use holdfast_model::{FindingKind, LayerInfo};
use holdfast_model::{ImageMetadata, TargetKind};
use libfuzzer_sys::fuzz_target;

/// Where each chunk of the input goes, in turn; `0xFF` bytes separate the chunks.
const PATHS: &[(&str, u32)] = &[
    ("etc/passwd", 0o644),
    ("etc/shadow", 0o640),
    ("etc/ssh/sshd_config", 0o644),
    ("etc/redis/redis.conf", 0o640),
    ("var/lib/mysql/mysql/global_priv.MAD", 0o660),
    ("var/lib/postgresql/15/main/global/1260", 0o600),
    ("etc/postgresql/15/main/pg_hba.conf", 0o640),
    ("etc/tomcat10/tomcat-users.xml", 0o640),
    ("etc/vsftpd.conf", 0o644),
    ("etc/proftpd/proftpd.conf", 0o644),
    ("etc/crontab", 0o644),
    ("etc/systemd/system/app.service", 0o644),
    ("root/.bashrc", 0o644),
    ("root/.ssh/authorized_keys", 0o600),
    ("etc/ld.so.preload", 0o644),
    ("etc/xinetd.d/app", 0o644),
    ("etc/pam.d/sshd", 0o644),
    ("app/.env", 0o644),
    ("var/www/html/upload.php", 0o644),
    ("usr/local/bin/tool", 0o4755),
];

fuzz_target!(|data: &[u8]| {
    let mut builder = tar::Builder::new(Vec::new());
    for (chunk, (path, mode)) in data.split(|b| *b == 0xFF).zip(PATHS) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(chunk.len() as u64);
        h.set_mode(*mode);
        if builder.append_data(&mut h, path, chunk).is_err() {
            return;
        }
    }
    let Ok(tar) = builder.into_inner() else {
        return;
    };

    let mut config = CheckConfig::default();
    config.weak_password = weak_password::Config {
        timeout: Duration::ZERO,
        built_in: false,
        ..Default::default()
    };
    let checkers = holdfast_checks::checkers(&FindingKind::ALL, &config);
    let analyzers = holdfast_checks::analyzers(&checkers);
    let refs: Vec<&dyn Analyzer> = analyzers.iter().map(|a| a.as_ref()).collect();
    let analysis = walk_tar(&mut &tar[..], &refs, WalkLimits::default());
    let layers = vec![LayerInfo {
        diff_id: analysis.diff_id.clone(),
        digest: None,
        created_by: None,
        size: None,
        media_type: None,
    }];
    let fs = holdfast_analyze::merge::merge(std::slice::from_ref(&analysis));
    let metadata = ImageMetadata::new("fuzz", TargetKind::Image);
    let ctx = ImageContext {
        metadata: &metadata,
        fs: &fs,
        packages: &[],
        layers: &layers,
    };
    let _ = holdfast_checks::run(&checkers, &FindingKind::ALL, &ctx);
});
