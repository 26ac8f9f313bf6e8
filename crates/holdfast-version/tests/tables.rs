//! Hand-written tables of known orderings, for the schemes without a
//! reference implementation on this machine (apk, NuGet) and as readable
//! anchors for Composer. Each row is `a op b`; every row is also checked
//! reversed.
//!
//! * apk: cases written for this crate after apk-tools' documented rules and
//!   the kinds of case its `test/version.data` vectors exercise (leading
//!   zeros, letters, suffix order, `-r` revisions, `6.0_pre1 < 6.0`).
//! * NuGet: SemVer 2.0.0 precedence plus NuGet.Versioning's extensions
//!   (four parts, case-insensitive labels, labels compared as strings).
//! * Composer: Composer's stability order and normalisation (also checked
//!   against composer/semver itself in `differential.rs`).

use std::cmp::Ordering;

use holdfast_version::{compare, parse, Scheme};

fn check_table(scheme: Scheme, table: &str) -> usize {
    let mut rows = 0;
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut it = line.split_whitespace();
        let (a, op, b) = (
            it.next().expect("a"),
            it.next().expect("op"),
            it.next().expect("b"),
        );
        let want = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("bad operator {other:?} in {line:?}"),
        };
        let got = compare(scheme, a, b).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(got, want, "{scheme}: {line}");
        let back = compare(scheme, b, a).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(back, want.reverse(), "{scheme}: {line} (reversed)");
        rows += 1;
    }
    rows
}

#[test]
fn apk_table() {
    let rows = check_table(
        Scheme::Apk,
        "
        1.0 < 1.1
        1.0 < 1.0.1
        1.0.0 > 1.0
        1.2.3 = 1.2.3
        1.10 > 1.9
        2.0 > 1.99.99
        1.01 < 1.1
        1.001 < 1.01
        1.0 > 1.00
        1.010 > 1.01
        1.05 < 1.0.5
        1.0a > 1.0
        1.0a < 1.0b
        1.0z < 1.0.1
        2.3.0b < 2.3.0c
        2.3.0b-r1 < 2.3.0b-r2
        2.5.1a-r1 > 2.5.1-r8
        1.1.1w > 1.1.1v
        1.0_alpha < 1.0_beta
        1.0_beta < 1.0_pre
        1.0_pre < 1.0_rc
        1.0_rc < 1.0
        1.0 < 1.0_cvs
        1.0_cvs < 1.0_svn
        1.0_svn < 1.0_git
        1.0_git < 1.0_hg
        1.0_hg < 1.0_p
        1.0_alpha1 < 1.0_alpha2
        1.0_alpha9 < 1.0_alpha10
        1.0_alpha < 1.0_alpha1
        1.0_alpha_pre2 < 1.0_alpha
        1.0_alpha_p1 > 1.0_alpha
        1.0_rc1 < 1.0-r1
        1.0-r1 < 1.0_p1
        1.0 < 1.0-r0
        1.0-r0 < 1.0-r1
        1.0-r9 < 1.0-r10
        1.0-r1 < 1.0.1
        1.0_p1 < 1.0.1
        1.0_p9 < 1.0_p10
        6.0_pre1 < 6.0
        6.1_pre1 < 6.1
        6.0_p1 > 6.0
        6.1_p1 > 6.1
        3.1_p16 < 3.1_p17
        1.3_pre1-r1 < 1.3.2
        1.2.3_git20200101 > 1.2.3
        0.1.0_alpha2 > 0.1.0_alpha
        2.0.0_rc3-r1 > 1.5
        006 > 1.0.0
        013 < 014-r1
        20050718-r1 < 20050718-r2
        1.0.0_pre20191002222144-r0 < 1.0.0_pre20210530193627-r0
        99999999999999999999 < 100000000000000000000
        1.2.12.04 < 1.2.12.05
        1.2.07.8 < 1.2.12.04
        4.5_p1-r1 > 4.5_p1
        1a2 > 1a
        ",
    );
    assert!(rows > 50);
}

#[test]
fn apk_rejects_invalid() {
    // apk-tools calls these invalid (or, for the last ones, only tolerates
    // them by accident of its tokenizer).
    for bad in [
        "23_foo",
        "1.0bc",
        "1.0-1",
        "1.0_",
        "1.0_alphabeta",
        "1.0-r1a",
        "v1.0",
        "1.0.",
        "1..0",
        "1.0-r",
        "",
        "r1",
        "1.0~git",
    ] {
        assert!(parse(Scheme::Apk, bad).is_err(), "{bad:?}");
    }
}

#[test]
fn nuget_table() {
    let rows = check_table(
        Scheme::NuGet,
        "
        1.0 = 1.0.0
        1.0.0 = 1.0.0.0
        1 = 1.0.0.0
        01.02.03 = 1.2.3
        1.0.0.1 > 1.0.0
        2.0 > 1.9.9.9
        1.0.0-alpha < 1.0.0
        1.0.0-alpha < 1.0.0-alpha.1
        1.0.0-alpha.1 < 1.0.0-alpha.beta
        1.0.0-alpha.beta < 1.0.0-beta
        1.0.0-beta < 1.0.0-beta.2
        1.0.0-beta.2 < 1.0.0-beta.11
        1.0.0-beta.11 < 1.0.0-rc.1
        1.0.0-rc.1 < 1.0.0
        1.0.0-RC1 = 1.0.0-rc1
        1.0.0-Beta < 1.0.0-beta.1
        1.0.0-BETA.2 = 1.0.0-beta.2
        1.0.0+build = 1.0.0
        1.0.0-alpha+1 = 1.0.0-alpha+2
        1.0.0.0+meta = 1.0.0
        1.0.0-2 < 1.0.0-10
        1.0.0-10 < 1.0.0-a
        1.0.0-0 < 1.0.0-alpha
        1.0.0-alpha10 < 1.0.0-alpha9
        1.0.0-a-b > 1.0.0-a.b
        1.0.0.1-beta > 1.0.0
        1.0.0.1-beta < 1.0.0.1
        2147483647.0.0 > 2147483646.9.9.9
        ",
    );
    assert!(rows > 20);
}

#[test]
fn composer_table() {
    let rows = check_table(
        Scheme::Composer,
        "
        1.0.0-dev < 1.0.0-alpha1
        1.0.0-alpha1 < 1.0.0-beta1
        1.0.0-beta1 < 1.0.0-RC1
        1.0.0-RC1 < 1.0.0
        1.0.0 < 1.0.0-p1
        1.0.0-alpha1 < 1.0.0-alpha2
        1.0.0-alpha2 < 1.0.0-a3
        1.0.0-a3 = 1.0.0-alpha3
        1.0.0-b2 = 1.0.0-beta2
        1.0.0-pl1 = 1.0.0-patch1
        1.0.0-p1 = 1.0.0-patch1
        1.0.0-rc1 = 1.0.0-RC1
        1.0 = 1.0.0
        1.0.0 = v1.0.0.0
        1.0.0-stable = 1.0.0
        1.0.0-beta2-dev < 1.0.0-beta2
        1.0.0-beta2 < 1.0.0-beta10
        1.0.0.1 > 1.0.0
        1.x-dev > 1.99.0
        2.0.0 > 1.x-dev
        1.0.0+build = 1.0.0
        1.0.0@dev = 1.0.0
        20230115 > 20221231
        2023-01-15 < 2023.01.15
        v2.3.4 > 2.3.3
        1.0.0-beta < 1.0.0-beta1
        ",
    );
    assert!(rows > 20);
}

#[test]
fn composer_rejects_branches() {
    for bad in [
        "dev-master",
        "dev-main",
        "master",
        "dev-feature/x",
        "feature",
        "1.0.0-meh",
    ] {
        assert!(parse(Scheme::Composer, bad).is_err(), "{bad:?}");
    }
}
