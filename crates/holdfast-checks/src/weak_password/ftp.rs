//! Anonymous FTP: vsftpd's `anonymous_enable` and ProFTPD's `<Anonymous>` blocks.

/// The 1-based line that enables anonymous logins in a vsftpd.conf, if any (the last
/// setting wins; vsftpd's default is NO).
pub fn vsftpd_anonymous(text: &str) -> Option<u32> {
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("anonymous_enable=") {
            found = v
                .trim()
                .eq_ignore_ascii_case("yes")
                .then(|| u32::try_from(i + 1).unwrap_or(u32::MAX));
        }
    }
    found
}

/// The 1-based line of the first uncommented `<Anonymous ...>` block in a ProFTPD config.
pub fn proftpd_anonymous(text: &str) -> Option<u32> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case("<anonymous"))
        })
        .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsftpd_last_setting_wins() {
        assert_eq!(vsftpd_anonymous("anonymous_enable=YES\n"), Some(1));
        assert_eq!(
            vsftpd_anonymous("anonymous_enable=YES\nanonymous_enable=NO\n"),
            None
        );
        assert_eq!(vsftpd_anonymous("#anonymous_enable=YES\n"), None);
    }

    #[test]
    fn proftpd_block_but_not_commented() {
        assert_eq!(
            proftpd_anonymous("# <Anonymous ~ftp>\n#   User ftp\n"),
            None
        );
        assert_eq!(
            proftpd_anonymous("ServerName x\n<Anonymous ~ftp>\n  User ftp\n</Anonymous>\n"),
            Some(2)
        );
    }
}
