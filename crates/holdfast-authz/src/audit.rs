//! What the plugin writes down: its own messages (the plugin log), one JSON line per
//! decision (the auth log), and alerts (the auth log and, if set, a webhook).
//!
//! Neither log ever holds a credential: requests are logged by user, operation, image
//! and path (no query string, no header, no body), and registry credentials never leave
//! the options they travel in.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

/// The plugin's own log: one line per event, `TIME LEVEL message`, also sent to
/// `tracing` (stderr).
pub struct PluginLog {
    file: Option<Mutex<File>>,
}

impl PluginLog {
    /// Appends to the file at `path` (created 0640).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(PluginLog {
            file: Some(Mutex::new(append(path)?)),
        })
    }

    /// A log that only goes to `tracing` (tests).
    pub fn discard() -> Self {
        PluginLog { file: None }
    }

    /// An informational line.
    pub fn info(&self, msg: &str) {
        tracing::info!("{msg}");
        self.write("INFO", msg);
    }

    /// A warning line.
    pub fn warn(&self, msg: &str) {
        tracing::warn!("{msg}");
        self.write("WARN", msg);
    }

    /// An error line.
    pub fn error(&self, msg: &str) {
        tracing::error!("{msg}");
        self.write("ERROR", msg);
    }

    fn write(&self, level: &str, msg: &str) {
        if let Some(f) = &self.file {
            let line = format!("{} {level} {}\n", now(), one_line(msg));
            if let Ok(mut f) = f.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

/// The auth log (one JSON object per line) and the alert webhook.
pub struct Audit {
    file: Option<Mutex<File>>,
    memory: Option<Mutex<Vec<Value>>>,
    webhook: Option<String>,
}

impl Audit {
    /// Appends decisions to the file at `path` (created 0640); alerts also go to
    /// `webhook`.
    pub fn open(path: &Path, webhook: Option<String>) -> std::io::Result<Self> {
        Ok(Audit {
            file: Some(Mutex::new(append(path)?)),
            memory: None,
            webhook,
        })
    }

    /// An audit that keeps its entries in memory (tests read them with
    /// [`Audit::entries`]).
    pub fn in_memory(webhook: Option<String>) -> Self {
        Audit {
            file: None,
            memory: Some(Mutex::new(Vec::new())),
            webhook,
        }
    }

    /// The entries kept in memory.
    pub fn entries(&self) -> Vec<Value> {
        self.memory
            .as_ref()
            .and_then(|m| m.lock().ok().map(|v| v.clone()))
            .unwrap_or_default()
    }

    /// Writes one decision (or alert) as one JSON line, with the time added.
    pub fn record(&self, mut entry: Value) {
        if let Value::Object(map) = &mut entry {
            map.insert("time".into(), Value::String(now()));
        }
        if let Some(m) = &self.memory {
            if let Ok(mut m) = m.lock() {
                m.push(entry.clone());
            }
        }
        let Some(f) = &self.file else {
            return;
        };
        let mut line = entry.to_string();
        line.push('\n');
        if let Ok(mut f) = f.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// Whether alerts are POSTed anywhere.
    pub fn has_webhook(&self) -> bool {
        self.webhook.is_some()
    }

    /// POSTs `alert` as JSON to the webhook, on a blocking thread, so the answer to the
    /// daemon never waits for it; failures go to the plugin log.
    pub fn send_alert(&self, alert: Value, log: std::sync::Arc<PluginLog>) {
        let Some(url) = self.webhook.clone() else {
            return;
        };
        tokio::task::spawn_blocking(move || {
            let agent = ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .build();
            match agent
                .post(&url)
                .set("Content-Type", "application/json")
                .send_string(&alert.to_string())
            {
                Ok(_) => {}
                Err(ureq::Error::Status(code, _)) => {
                    log.warn(&format!("alert webhook answered HTTP {code}"))
                }
                Err(e) => log.warn(&format!("alert webhook unreachable: {}", e.kind())),
            }
        });
    }
}

fn append(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

/// RFC 3339 now, to the millisecond.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Control characters (newlines, terminal escapes) replaced, so text from an image or
/// a request cannot forge log lines or drive a terminal.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_with_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("logs/auth.log");
        let a = Audit::open(&p, None).unwrap();
        a.record(serde_json::json!({"verdict": "deny", "reason": "x\ny"}));
        a.record(serde_json::json!({"verdict": "allow"}));
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["reason"], "x\ny");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn plugin_log_lines_are_single_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plugin.log");
        let l = PluginLog::open(&p).unwrap();
        l.warn("two\nlines\x1b[31m");
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("WARN two?lines?[31m"), "{text}");
    }
}
