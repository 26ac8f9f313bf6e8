//! Arbitrary text as a dpkg status file, an apk database and an os-release file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = holdfast_analyze::dpkg::parse_status(&text, "/var/lib/dpkg/status");
    let _ = holdfast_analyze::dpkg::copyright_licenses(&text);
    let _ = holdfast_analyze::apk::parse_installed(&text, "/lib/apk/db/installed");
    let _ = holdfast_analyze::os::parse_os_release(&text);
    let _ = holdfast_analyze::os::parse_fallback("/etc/redhat-release", &text);
});
