//! Differential tests: thousands of generated pairs per scheme, each ordered
//! both by this crate and by the reference implementation installed on the
//! machine (one reference process per batch, fed over stdin).
//!
//! | scheme | reference |
//! | --- | --- |
//! | dpkg | `apt_pkg.version_compare` (python3-apt), and `dpkg --compare-versions` |
//! | rpm | `rpm.labelCompare` on `rpm.ver` (python3-rpm) |
//! | PEP 440 | `packaging.version.Version` |
//! | npm SemVer | npm's `semver` package |
//! | Go | `golang.org/x/mod/semver` |
//! | Maven | `ComparableVersion` from Maven's maven-artifact jar |
//! | RubyGems | `Gem::Version` |
//! | Composer | composer/semver `VersionParser::normalize` + `version_compare` |
//!
//! A missing tool skips its test with a message, or fails it when
//! `HOLDFAST_FULL_TESTS=1`. `tests/ref/setup.sh` installs them all.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use common::gen;
use common::{check_against, ref_dir, require, runs, sample};
use holdfast_version::Scheme;

/// Debian's own interpreter: python3-apt and python3-rpm live there, not in
/// other pythons on PATH.
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn python_with(module: &str, candidates: &[&str]) -> Result<String, String> {
    candidates
        .iter()
        .find(|py| runs(py, &["-c", &format!("import {module}")]))
        .map(|py| py.to_string())
        .ok_or_else(|| format!("no python among {candidates:?} can import {module}"))
}

fn python_reference(module: &str, candidates: &[&str], script: &str) -> Result<Command, String> {
    let py = python_with(module, candidates)?;
    let mut cmd = Command::new(py);
    cmd.arg(ref_dir().join(script));
    Ok(cmd)
}

fn apt_reference() -> Option<Command> {
    require(
        "apt_pkg (python3-apt)",
        python_reference("apt_pkg", &[DEBIAN_PYTHON], "apt_ref.py"),
    )
}

fn dpkg_reference() -> Option<Command> {
    let cmd = if runs("dpkg", &["--version"]) {
        let mut cmd = Command::new("bash");
        cmd.arg(ref_dir().join("dpkg_ref.sh"));
        Ok(cmd)
    } else {
        Err("dpkg is not installed".to_owned())
    };
    require("dpkg --compare-versions", cmd)
}

fn rpm_reference() -> Option<Command> {
    require(
        "rpm.labelCompare (python3-rpm)",
        python_reference("rpm", &[DEBIAN_PYTHON], "rpm_ref.py"),
    )
}

fn pep440_reference() -> Option<Command> {
    require(
        "packaging.version",
        python_reference(
            "packaging.version",
            &["python3", DEBIAN_PYTHON],
            "pep440_ref.py",
        ),
    )
}

fn npm_reference() -> Option<Command> {
    let cmd = if !runs("node", &["--version"]) {
        Err("node is not installed".to_owned())
    } else if !ref_dir().join("node_modules/semver/package.json").exists() {
        Err("tests/ref/node_modules/semver is not installed".to_owned())
    } else {
        let mut cmd = Command::new("node");
        cmd.arg(ref_dir().join("semver_ref.js"));
        Ok(cmd)
    };
    require("npm semver", cmd)
}

/// Builds the Go reference once per test run (GOPATH mode against Debian's
/// golang-golang-x-mod-dev).
fn go_reference() -> Option<Command> {
    static BUILT: OnceLock<Result<std::path::PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let gopath = Path::new("/usr/share/gocode");
        if !gopath.join("src/golang.org/x/mod/semver").is_dir() {
            return Err("golang-golang-x-mod-dev is not installed".to_owned());
        }
        if !runs("go", &["version"]) {
            return Err("go is not installed".to_owned());
        }
        // Cargo's per-target scratch directory: kept between runs, so the
        // Go build cache makes later builds quick.
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-ref");
        std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
        let bin = out_dir.join("go_ref");
        let status = Command::new("go")
            .arg("build")
            .arg("-o")
            .arg(&bin)
            .arg(ref_dir().join("go_ref.go"))
            .env("GO111MODULE", "off")
            .env("GOPATH", gopath)
            .env("GOCACHE", out_dir.join("cache"))
            .env("GOFLAGS", "")
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(bin)
        } else {
            Err(format!("building go_ref.go failed: {status}"))
        }
    });
    require("golang.org/x/mod/semver", built.clone().map(Command::new))
}

fn maven_reference() -> Option<Command> {
    let cmd = (|| {
        let lib = Path::new("/usr/share/maven/lib");
        let jar = std::fs::read_dir(lib)
            .map_err(|e| format!("{}: {e}", lib.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("maven-artifact-") && n.ends_with(".jar"))
            })
            .ok_or("no maven-artifact jar in /usr/share/maven/lib")?;
        if !runs("javac", &["-version"]) {
            return Err("no JDK (javac) to run MavenRef.java".to_owned());
        }
        let mut cmd = Command::new("java");
        cmd.arg("-cp").arg(jar).arg(ref_dir().join("MavenRef.java"));
        Ok(cmd)
    })();
    require("Maven ComparableVersion", cmd)
}

fn ruby_reference() -> Option<Command> {
    let cmd = if runs("ruby", &["-e", "require 'rubygems'; Gem::Version.new('1')"]) {
        let mut cmd = Command::new("ruby");
        cmd.arg(ref_dir().join("gem_ref.rb"));
        Ok(cmd)
    } else {
        Err("ruby is not installed".to_owned())
    };
    require("Gem::Version (ruby)", cmd)
}

fn composer_reference() -> Option<Command> {
    let autoload = "/usr/share/php/Composer/Semver/autoload.php";
    let cmd = if !runs("php", &["--version"]) {
        Err("php is not installed".to_owned())
    } else if !Path::new(autoload).exists() {
        Err("php-composer-semver is not installed".to_owned())
    } else {
        let mut cmd = Command::new("php");
        cmd.arg(ref_dir().join("composer_ref.php"));
        Ok(cmd)
    };
    require("composer/semver (php)", cmd)
}

#[test]
fn dpkg_agrees_with_apt() {
    let Some(mut cmd) = apt_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::dpkg(), gen::dpkg_tail()), 4000, 1);
    check_against(Scheme::Dpkg, "apt_pkg.version_compare", &mut cmd, &pairs);
}

#[test]
fn rpm_agrees_with_rpm() {
    let Some(mut cmd) = rpm_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::rpm(), gen::rpm_tail()), 4000, 2);
    check_against(Scheme::Rpm, "rpm.labelCompare", &mut cmd, &pairs);
}

#[test]
fn pep440_agrees_with_packaging() {
    let Some(mut cmd) = pep440_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::pep440(), gen::pep440_tail()), 4000, 3);
    check_against(Scheme::Pep440, "packaging.version", &mut cmd, &pairs);
}

#[test]
fn semver_agrees_with_npm() {
    let Some(mut cmd) = npm_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::semver(), gen::semver_tail()), 4000, 4);
    check_against(Scheme::Semver, "npm semver", &mut cmd, &pairs);
}

#[test]
fn go_agrees_with_x_mod_semver() {
    let Some(mut cmd) = go_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::go(), gen::go_tail()), 4000, 5);
    check_against(Scheme::Go, "golang.org/x/mod/semver", &mut cmd, &pairs);
}

#[test]
fn maven_agrees_with_comparable_version() {
    let Some(mut cmd) = maven_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::maven(), gen::maven_tail()), 4000, 6);
    check_against(Scheme::Maven, "ComparableVersion", &mut cmd, &pairs);
}

#[test]
fn rubygems_agrees_with_ruby() {
    let Some(mut cmd) = ruby_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::rubygems(), gen::rubygems_tail()), 4000, 7);
    check_against(Scheme::RubyGems, "Gem::Version", &mut cmd, &pairs);
}

#[test]
fn composer_agrees_with_composer() {
    let Some(mut cmd) = composer_reference() else {
        return;
    };
    let pairs = sample(gen::pairs(gen::composer(), gen::composer_tail()), 4000, 8);
    check_against(Scheme::Composer, "composer/semver", &mut cmd, &pairs);
}

#[test]
fn dpkg_agrees_with_dpkg() {
    let Some(mut cmd) = dpkg_reference() else {
        return;
    };
    let pairs = sample(
        gen::pairs(gen::dpkg_with_invalid(), gen::dpkg_tail()),
        600,
        9,
    );
    check_against(Scheme::Dpkg, "dpkg --compare-versions", &mut cmd, &pairs);

    // Cross-check the two dpkg references on the pairs dpkg accepts; a
    // disagreement between them is reported, not failed on.
    let Some(mut apt) = apt_reference() else {
        return;
    };
    let from_dpkg = common::run_reference(&mut cmd, &pairs);
    let from_apt = common::run_reference(&mut apt, &pairs);
    let differ: Vec<_> = pairs
        .iter()
        .zip(from_dpkg.iter().zip(&from_apt))
        .filter(|(_, (d, a))| d.is_some() && d != a)
        .map(|(p, (d, a))| (p, d, a))
        .collect();
    eprintln!(
        "dpkg vs apt_pkg: {} of {} pairs accepted by dpkg ordered differently: {differ:?}",
        differ.len(),
        from_dpkg.iter().filter(|d| d.is_some()).count()
    );
}
