//! Properties every scheme must have, whatever the reference says:
//!
//! * arbitrary input (any Unicode, any length) never panics, and anything
//!   over the length limit is refused;
//! * on valid versions the ordering is a total order: reflexive,
//!   antisymmetric and transitive, and `parse` + `Ord` agree with
//!   `compare`.
//!
//! apk and NuGet have no reference implementation here, so these
//! properties are their main generated check (with the tables in
//! `tables.rs`).

mod common;

use std::cmp::Ordering;

use common::gen;
use holdfast_version::{compare, parse, Scheme, MAX_VERSION_LEN};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// apk versions, valid by construction.
fn apk() -> BoxedStrategy<String> {
    let suffix = (
        gen::pick(&[
            "_alpha", "_beta", "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p",
        ]),
        gen::opt(gen::num(), 1, 1),
    )
        .prop_map(|(s, n)| s + &n);
    (
        gen::num(),
        gen::repeat(gen::num().prop_map(|n| format!(".{n}")).boxed(), 0, 4),
        gen::opt(gen::pick(&["a", "b", "z", "c1"]), 3, 1),
        gen::repeat(suffix.boxed(), 0, 2),
        gen::opt(gen::num().prop_map(|n| format!("-r{n}")).boxed(), 1, 1),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}"))
        .boxed()
}

/// NuGet versions, mostly valid.
fn nuget() -> BoxedStrategy<String> {
    let label = gen::pick(&[
        "alpha", "Alpha", "beta", "RC", "rc", "1", "2", "10", "0", "a-b", "-1", "x",
    ]);
    (
        gen::num(),
        gen::repeat(gen::num().prop_map(|n| format!(".{n}")).boxed(), 0, 3),
        gen::opt(
            prop::collection::vec(label, 1..4)
                .prop_map(|l| format!("-{}", l.join(".")))
                .boxed(),
            1,
            1,
        ),
        gen::opt(gen::pick(&["+build", "+1.2", "+a-b"]), 3, 1),
    )
        .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}"))
        .boxed()
}

fn versions(scheme: Scheme) -> BoxedStrategy<String> {
    match scheme {
        Scheme::Dpkg => gen::dpkg_with_invalid(),
        Scheme::Rpm => gen::rpm(),
        Scheme::Apk => apk(),
        Scheme::Pep440 => gen::pep440(),
        Scheme::Semver => gen::semver(),
        Scheme::Go => gen::go(),
        // Versions starting with a number: Maven's own order is not
        // transitive on some that start with a qualifier (see below).
        Scheme::Maven => (gen::num(), gen::maven())
            .prop_map(|(n, v)| format!("{n}.{v}"))
            .boxed(),
        Scheme::RubyGems => gen::rubygems(),
        Scheme::NuGet => nuget(),
        Scheme::Composer => gen::composer(),
    }
}

/// Checks reflexivity, antisymmetry, transitivity and parse/compare
/// agreement on triples drawn from `scheme`'s generator.
fn total_order(scheme: Scheme, salt: u64) {
    let v = versions(scheme);
    let triples = common::sample((v.clone(), v.clone(), v).boxed(), 1500, salt);
    let mut checked = 0;
    for (a, b, c) in &triples {
        let (Ok(pa), Ok(pb), Ok(pc)) = (parse(scheme, a), parse(scheme, b), parse(scheme, c))
        else {
            continue;
        };
        checked += 1;
        assert_eq!(pa.cmp(&pa), Ordering::Equal, "{scheme}: {a} != itself");
        let ab = pa.cmp(&pb);
        assert_eq!(
            pb.cmp(&pa),
            ab.reverse(),
            "{scheme}: {a} vs {b} not antisymmetric"
        );
        assert_eq!(compare(scheme, a, b).unwrap(), ab, "{scheme}: {a} vs {b}");
        let bc = pb.cmp(&pc);
        let ac = pa.cmp(&pc);
        if ab == bc {
            assert_eq!(
                ac, ab,
                "{scheme}: {a} {ab:?} {b} {bc:?} {c} but {a} {ac:?} {c}"
            );
        }
        if ab == Ordering::Equal {
            assert_eq!(
                ac, bc,
                "{scheme}: {a} = {b} but they order differently against {c}"
            );
        }
    }
    assert!(checked > 500, "{scheme}: only {checked} valid triples");
}

/// Maven's `ComparableVersion` is not transitive on every input: with
/// `a = z-abc-SNAPSHOT0-1…0`, `b = .-RC.-z-.1…0`, Maven 3.8.7 says
/// `a < b`, `b < 0` and `a > 0`. This crate reproduces Maven exactly, cycle
/// included (checked against the jar in `differential.rs`).
#[test]
fn maven_cycle_matches_maven() {
    let a = "z-abc-SNAPSHOT0-123456789012345678901234567890";
    let b = ".-RC.-z-.123456789012345678901234567890";
    assert_eq!(compare(Scheme::Maven, a, b).unwrap(), Ordering::Less);
    assert_eq!(compare(Scheme::Maven, b, "0").unwrap(), Ordering::Less);
    assert_eq!(compare(Scheme::Maven, a, "0").unwrap(), Ordering::Greater);
}

#[test]
fn orderings_are_total_orders() {
    for (i, scheme) in Scheme::ALL.into_iter().enumerate() {
        total_order(scheme, 100 + i as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_never_panics(s in any::<String>(), t in "[ -~]{0,60}") {
        for scheme in Scheme::ALL {
            let _ = parse(scheme, &s);
            let _ = parse(scheme, &t);
            let _ = compare(scheme, &t, &s);
        }
    }

    #[test]
    fn version_like_noise_never_panics(s in "[0-9a-zA-Z.~^+_:@*!-]{0,80}") {
        for scheme in Scheme::ALL {
            if let (Ok(a), Ok(b)) = (parse(scheme, &s), parse(scheme, "1.0")) {
                let _ = a.cmp(&b);
                prop_assert_eq!(a.cmp(&a), Ordering::Equal);
            }
        }
    }
}

#[test]
fn long_and_deep_inputs_are_bounded() {
    // Just under the limit: accepted (where valid) without deep recursion
    // trouble; just over: refused.
    let near = MAX_VERSION_LEN;
    let inputs = [
        "1".repeat(near),
        "1.".repeat(near / 2 - 1) + "11",
        "1-".repeat(near / 2 - 1) + "11",
        "a1".repeat(near / 2),
        "~".repeat(near - 1) + "1",
        "1".to_owned() + &"^".repeat(near - 1),
    ];
    for scheme in Scheme::ALL {
        for s in &inputs {
            assert_eq!(s.len(), near);
            if let Ok(v) = parse(scheme, s) {
                assert_eq!(v.cmp(&v), Ordering::Equal);
            }
            let over = format!("{s}1");
            assert!(
                parse(scheme, &over).is_err(),
                "{scheme} accepted {} bytes",
                over.len()
            );
        }
    }
}
