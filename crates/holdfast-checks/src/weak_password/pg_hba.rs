//! PostgreSQL `pg_hba.conf`: `trust` rules.
//!
//! Each record is `TYPE DATABASE USER [ADDRESS [MASK]] METHOD [OPTIONS]`; for `local`
//! there is no address. The method is the first field after them that is an
//! authentication method name.

/// A `trust` rule: its line number, its connection type and the line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRule {
    pub line: u32,
    pub conn_type: String,
    pub text: String,
}

const METHODS: &[&str] = &[
    "trust",
    "reject",
    "scram-sha-256",
    "md5",
    "password",
    "gss",
    "sspi",
    "ident",
    "peer",
    "pam",
    "ldap",
    "radius",
    "cert",
];

/// The trust rules of one pg_hba.conf.
pub fn trust_rules(text: &str) -> Vec<TrustRule> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(conn_type) = fields.first() else {
            continue;
        };
        let skip = if *conn_type == "local" { 3 } else { 4 };
        let method = fields.iter().skip(skip).find(|f| METHODS.contains(f));
        if method == Some(&"trust") {
            out.push(TrustRule {
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                conn_type: conn_type.to_string(),
                text: line.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_rules_but_not_comments_or_other_methods() {
        let conf = "# METHOD can be \"trust\", \"reject\", \"md5\"\n\
                    local   all             postgres                                peer\n\
                    local   all             all                                     trust\n\
                    host    all             all             127.0.0.1/32            scram-sha-256\n\
                    host    all             all             0.0.0.0 0.0.0.0         trust\n\
                    host    trust           trust           ::1/128                 md5\n";
        let t = trust_rules(conf);
        assert_eq!(t.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(t[1].conn_type, "host");
    }
}
