//! Proptest strategies producing version strings for each scheme, biased
//! toward the parts that orderings get wrong: `~` and `^`, epochs, leading
//! zeros, letters next to digits, pre/post/dev releases, suffixes, and a
//! sprinkling of invalid forms (which both sides must refuse).

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// One of the given literals.
pub fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items).prop_map(String::from).boxed()
}

/// Concatenates the strategies' outputs.
pub fn cat(parts: Vec<BoxedStrategy<String>>) -> BoxedStrategy<String> {
    parts
        .into_iter()
        .fold(Just(String::new()).boxed(), |acc, p| {
            (acc, p).prop_map(|(a, b)| a + &b).boxed()
        })
}

/// `n` to `m` repetitions of `s`, concatenated.
pub fn repeat(s: BoxedStrategy<String>, n: usize, m: usize) -> BoxedStrategy<String> {
    prop::collection::vec(s, n..=m)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Optionally `s` (absent with weight `none`, present with weight `some`).
pub fn opt(s: BoxedStrategy<String>, none: u32, some: u32) -> BoxedStrategy<String> {
    prop_oneof![none => Just(String::new()), some => s].boxed()
}

/// A number: mostly small, some with leading zeros, a few long ones.
pub fn num() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (0u32..10).prop_map(|n| n.to_string()),
        3 => (10u32..200).prop_map(|n| n.to_string()),
        2 => pick(&["0", "00", "01", "007", "010"]),
        1 => (1000u64..100_000_000_000).prop_map(|n| n.to_string()),
    ]
    .boxed()
}

/// A number without leading zeros (SemVer, Go, npm).
pub fn clean_num() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (0u32..10).prop_map(|n| n.to_string()),
        3 => (10u32..200).prop_map(|n| n.to_string()),
        1 => (1000u64..1_000_000_000).prop_map(|n| n.to_string()),
    ]
    .boxed()
}

/// Pairs: independent versions, identical ones, and one extended by a
/// tricky piece (which is where orderings usually go wrong).
pub fn pairs(
    version: BoxedStrategy<String>,
    tail: BoxedStrategy<String>,
) -> BoxedStrategy<(String, String)> {
    prop_oneof![
        5 => (version.clone(), version.clone()),
        1 => version.clone().prop_map(|a| (a.clone(), a)),
        4 => (version, tail).prop_map(|(a, t)| { let b = a.clone() + &t; (a, b) }),
    ]
    .prop_flat_map(|(a, b)| prop_oneof![Just((a.clone(), b.clone())), Just((b, a))])
    .boxed()
}

// ---- dpkg ----------------------------------------------------------------

fn dpkg_word() -> BoxedStrategy<String> {
    prop_oneof![
        4 => num().prop_map(|n| format!(".{n}")),
        2 => num(),
        2 => pick(&["~", "~~", "~rc1", "~beta2", "~~a", "~a", "~0"]),
        2 => pick(&["+", "+dfsg", "+b1", "+really", "+git20230101", "+1"]),
        2 => pick(&["a", "b", "z", "A", "Z", "rc", "p1", "a.", "."]),
        1 => pick(&["-", ":", "_"]),
    ]
    .boxed()
}

fn dpkg_revision() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(String::new()),
        3 => num().prop_map(|n| format!("-{n}")),
        1 => (num(), num()).prop_map(|(a, b)| format!("-{a}ubuntu{b}")),
        1 => (num(), num()).prop_map(|(a, b)| format!("-{a}+deb12u{b}")),
        1 => (num(), num()).prop_map(|(a, b)| format!("-{a}~bpo11+{b}")),
        1 => pick(&["-0", "-0.1", "-1.1", "-a", "-~", "-1~", "-1a", "-00"]),
    ]
    .boxed()
}

/// Valid Debian versions (apt does not validate, so no invalid ones here).
pub fn dpkg() -> BoxedStrategy<String> {
    let epoch = prop_oneof![
        8 => Just(String::new()),
        3 => pick(&["0:", "1:", "2:", "00:", "01:", "10:"]),
    ];
    (
        epoch,
        prop_oneof![9 => num(), 1 => pick(&["a", "A1", "z0"])],
        repeat(dpkg_word(), 0, 5),
        dpkg_revision(),
    )
        .prop_map(|(e, first, rest, rev)| {
            // ':' belongs in the upstream version only after an epoch.
            let rest = if e.is_empty() {
                rest.replace(':', ".")
            } else {
                rest
            };
            // A '-' in the upstream version needs a revision after it.
            let rest = if rev.is_empty() {
                rest.replace('-', "+")
            } else {
                rest
            };
            format!("{e}{first}{rest}{rev}")
        })
        .boxed()
}

/// Tails appended to make near pairs.
pub fn dpkg_tail() -> BoxedStrategy<String> {
    pick(&[
        "~", "~~", "~rc1", "a", "+", ".0", "0", "-0", "-1", ".1", "+b1", "~1", "A", "z",
    ])
}

/// Debian versions including forms dpkg refuses outright.
pub fn dpkg_with_invalid() -> BoxedStrategy<String> {
    prop_oneof![
        9 => dpkg(),
        1 => pick(&["1:", ":1", "1.0-", "a:1", "-1", "1:2-", "1 0", "99999999999:1"]),
    ]
    .boxed()
}

// ---- rpm -----------------------------------------------------------------

fn rpm_piece() -> BoxedStrategy<String> {
    prop_oneof![
        4 => num().prop_map(|n| format!(".{n}")),
        2 => num(),
        2 => pick(&["~", "~rc1", "~~", "~pre", "^", "^git1", "^20200101", "^~"]),
        2 => pick(&["a", "b", "z", "A", "Z", "rc", "p1", "git", "aa"]),
        2 => pick(&[".", "_", "+", "..", "._", "%", "+git"]),
    ]
    .boxed()
}

/// RPM EVR strings.
pub fn rpm() -> BoxedStrategy<String> {
    let epoch = prop_oneof![
        7 => Just(String::new()),
        3 => pick(&["0:", "1:", "2:", "00:", "10:", ":"]),
    ];
    let version = (
        prop_oneof![9 => num(), 1 => pick(&["a", "Z1", "~1", "^1"])],
        repeat(rpm_piece(), 0, 5),
    )
        .prop_map(|(a, b)| a + &b);
    let release = prop_oneof![
        3 => Just(String::new()),
        3 => num().prop_map(|n| format!("-{n}")),
        1 => (num(), pick(&[".el9", ".el9_2", ".fc38", "~rc1", "^git1", ".1", "a", ".el8_10"]))
            .prop_map(|(n, s)| format!("-{n}{s}")),
        1 => pick(&["-0.1.rc1", "-1.el9_2.1", "-1~", "-1^", "-a-1"]),
    ];
    (epoch, version, release)
        .prop_map(|(e, v, r)| format!("{e}{v}{r}"))
        .boxed()
}

/// Tails for near RPM pairs.
pub fn rpm_tail() -> BoxedStrategy<String> {
    pick(&[
        "~", "^", "~rc1", "^git1", "a", ".0", "0", ".", "_", "-1", "-0", ".1", "^~", "~^",
    ])
}

// ---- PEP 440 -------------------------------------------------------------

/// PEP 440 versions, in their many accepted spellings, plus a few invalid.
pub fn pep440() -> BoxedStrategy<String> {
    let n = || {
        prop_oneof![
            6 => (0u32..10).prop_map(|n| n.to_string()),
            2 => (10u32..100).prop_map(|n| n.to_string()),
            2 => pick(&["0", "00", "01", "010"]),
            1 => (1000u64..10_000_000_000_000).prop_map(|n| n.to_string()),
        ]
        .boxed()
    };
    let epoch = prop_oneof![8 => Just(String::new()), 2 => pick(&["1!", "0!", "2!", "01!"])];
    let release =
        (n(), repeat(n().prop_map(|x| format!(".{x}")).boxed(), 0, 4)).prop_map(|(a, b)| a + &b);
    let pre = prop_oneof![
        5 => Just(String::new()),
        3 => (pick(&["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC", "A", ".a", "-b", "_rc", ".alpha"]), n())
            .prop_map(|(l, x)| l + &x),
        1 => pick(&["a", "b", "rc", ".beta", "-rc"]),
    ];
    let post = prop_oneof![
        6 => Just(String::new()),
        3 => (pick(&[".post", "post", "-post", "_post", ".rev", ".r", "-", ".POST"]), n())
            .prop_map(|(l, x)| l + &x),
        1 => pick(&[".post", "-post", ".rev"]),
    ];
    let dev = prop_oneof![
        6 => Just(String::new()),
        3 => (pick(&[".dev", "dev", "-dev", "_dev", ".DEV"]), n()).prop_map(|(l, x)| l + &x),
        1 => pick(&[".dev", "-dev"]),
    ];
    let local_seg = || {
        prop_oneof![
            n(),
            pick(&["abc", "ubuntu", "cpu", "cu118", "A", "z9", "0a"])
        ]
        .boxed()
    };
    let local = prop_oneof![
        7 => Just(String::new()),
        3 => (local_seg(), prop::collection::vec((pick(&[".", "-", "_"]), local_seg()), 0..3))
            .prop_map(|(a, rest)| {
                let mut s = format!("+{a}");
                for (sep, seg) in rest {
                    s.push_str(&sep);
                    s.push_str(&seg);
                }
                s
            }),
    ];
    let valid = (
        prop_oneof![19 => Just(String::new()), 1 => pick(&["v", "V", " "])],
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    )
        .prop_map(|(p, e, r, a, b, c, l)| format!("{p}{e}{r}{a}{b}{c}{l}"));
    prop_oneof![
        19 => valid,
        1 => pick(&["1.0.x", "1.0+", "1..0", "1.0-dev-1", "a1", "1.0+a..b", "1!2!3", "1.0_"]),
    ]
    .boxed()
}

/// Tails for near PEP 440 pairs.
pub fn pep440_tail() -> BoxedStrategy<String> {
    pick(&[
        ".0", "a1", ".post1", ".dev0", "rc1", "+local", "+1", ".1", "-1", "b0", ".0.0", "+abc.1",
    ])
}

// ---- SemVer / Go -----------------------------------------------------------

fn semver_ident() -> BoxedStrategy<String> {
    prop_oneof![
        4 => clean_num(),
        4 => pick(&["alpha", "beta", "rc", "a", "b", "A", "Z", "x-y", "0a", "a0", "-", "--", "9a", "pre", "RC"]),
        1 => pick(&["01", "00"]),
    ]
    .boxed()
}

fn dotted(ident: BoxedStrategy<String>, max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(ident, 1..=max)
        .prop_map(|v| v.join("."))
        .boxed()
}

/// npm / crates.io versions.
pub fn semver() -> BoxedStrategy<String> {
    let core = (clean_num(), clean_num(), clean_num()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"));
    let pre = opt(
        dotted(semver_ident(), 4)
            .prop_map(|p| format!("-{p}"))
            .boxed(),
        1,
        1,
    );
    let build = opt(
        dotted(pick(&["build", "001", "sha", "x-y", "1", "exp"]), 3)
            .prop_map(|b| format!("+{b}"))
            .boxed(),
        3,
        1,
    );
    let valid = (
        prop_oneof![15 => Just(String::new()), 1 => Just("v".to_owned())],
        core,
        pre,
        build,
    )
        .prop_map(|(v, c, p, b)| format!("{v}{c}{p}{b}"));
    prop_oneof![
        19 => valid,
        1 => pick(&["1.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0.0", "v1", "1.0.0-a..b", "=1.0.0"]),
    ]
    .boxed()
}

/// Tails for near SemVer pairs.
pub fn semver_tail() -> BoxedStrategy<String> {
    pick(&[
        "-0", "-alpha", ".1", "-rc.1", "+build", "-1", "-a.b", "-A", "+1",
    ])
}

/// Go module versions (always with their `v`), pseudo-versions included.
pub fn go() -> BoxedStrategy<String> {
    let core = prop_oneof![
        8 => (clean_num(), clean_num(), clean_num()).prop_map(|(a, b, c)| format!("v{a}.{b}.{c}")),
        1 => clean_num().prop_map(|a| format!("v{a}")),
        1 => (clean_num(), clean_num()).prop_map(|(a, b)| format!("v{a}.{b}")),
    ];
    let stamp = (2018u32..2025, 1u32..13, 1u32..29, 0u32..1_000_000)
        .prop_map(|(y, m, d, t)| format!("{y}{m:02}{d:02}{t:06}"));
    let hash = pick(&[
        "daa7c04131f5",
        "000000000000",
        "abcdefabcdef",
        "1234567890ab",
    ]);
    let pseudo = (stamp, hash, pick(&["0.", "", "pre.0.", "rc.1.0."]))
        .prop_map(|(s, h, base)| format!("-{base}{s}-{h}"));
    let pre = prop_oneof![
        4 => Just(String::new()),
        3 => pseudo,
        3 => dotted(semver_ident(), 3).prop_map(|p| format!("-{p}")),
    ];
    let build =
        prop_oneof![6 => Just(String::new()), 2 => pick(&["+incompatible", "+meta", "+001"])];
    (core, pre, build)
        .prop_map(|(c, p, b)| format!("{c}{p}{b}"))
        .boxed()
}

/// Tails for near Go pairs.
pub fn go_tail() -> BoxedStrategy<String> {
    pick(&[
        "+incompatible",
        "-0.20200101000000-abcdefabcdef",
        "-pre",
        ".1",
        "-0",
        "-rc.1",
    ])
}

// ---- Maven -----------------------------------------------------------------

fn maven_token() -> BoxedStrategy<String> {
    prop_oneof![
        5 => num(),
        1 => (10_000_000_000u64..u64::MAX).prop_map(|n| n.to_string()),
        1 => Just("123456789012345678901234567890".to_owned()),
        5 => pick(&[
            "alpha", "a", "beta", "b", "milestone", "m", "rc", "cr", "snapshot", "SNAPSHOT", "ga",
            "final", "release", "sp", "foo", "x", "RC", "Final", "GA", "abc", "Alpha", "c", "z",
        ]),
        1 => pick(&["_", "+", "a_b", "!"]),
    ]
    .boxed()
}

/// Maven versions: free mixes of numbers, qualifiers and separators.
pub fn maven() -> BoxedStrategy<String> {
    let sep = || pick(&[".", ".", "-", "-", "", "..", "--", ".-", "-."]);
    (
        prop_oneof![9 => num(), 1 => maven_token(), 1 => pick(&["-", ".", "-1", ".1"])],
        prop::collection::vec((sep(), maven_token()), 0..6),
        prop_oneof![9 => Just(String::new()), 1 => pick(&[".", "-"])],
    )
        .prop_map(|(first, rest, end)| {
            let mut s = first;
            for (sep, tok) in rest {
                s.push_str(&sep);
                s.push_str(&tok);
            }
            s.push_str(&end);
            s
        })
        .boxed()
}

/// Tails for near Maven pairs.
pub fn maven_tail() -> BoxedStrategy<String> {
    pick(&[
        ".0",
        "-0",
        "-SNAPSHOT",
        "-ga",
        "-final",
        ".1",
        "-1",
        "-sp",
        "a1",
        "-rc1",
        "0",
        "-x",
        ".a",
    ])
}

// ---- RubyGems --------------------------------------------------------------

/// Gem versions, plus a few malformed ones.
pub fn rubygems() -> BoxedStrategy<String> {
    let seg = prop_oneof![
        5 => num(),
        3 => pick(&["a", "b", "pre", "rc", "alpha", "beta", "A", "Z", "dev", "aa"]),
        2 => (pick(&["b", "rc", "pre", "a"]), num()).prop_map(|(l, n)| l + &n),
        1 => (num(), pick(&["a", "b", "rc"])).prop_map(|(n, l)| n + &l),
    ];
    let tail = opt(
        dotted(
            prop_oneof![num(), pick(&["rc", "1-2", "a-b", "x", "-", "pre"])].boxed(),
            3,
        )
        .prop_map(|t| format!("-{t}"))
        .boxed(),
        4,
        1,
    );
    let valid = (
        prop_oneof![19 => Just(String::new()), 1 => Just(" ".to_owned())],
        num(),
        prop::collection::vec(seg, 0..5),
        tail,
    )
        .prop_map(|(ws, first, segs, tail)| {
            let mut s = ws + &first;
            for seg in segs {
                s.push('.');
                s.push_str(&seg);
            }
            s + &tail
        });
    prop_oneof![
        19 => valid,
        1 => pick(&["1..0", "1.0.", "a1", "1.0-", "1_0", "-1", "1.0-a..b", ".1"]),
    ]
    .boxed()
}

/// Tails for near gem pairs.
pub fn rubygems_tail() -> BoxedStrategy<String> {
    pick(&[".0", ".a", ".pre", "-1", ".1", "a", ".0.0", ".b1", "0"])
}

// ---- Composer --------------------------------------------------------------

/// Composer versions: classical, dates, stability modifiers, numeric
/// branches, build metadata, flags, and some invalid ones and named
/// branches.
pub fn composer() -> BoxedStrategy<String> {
    let core = (
        prop_oneof![9 => clean_num(), 1 => pick(&["00", "01", "12345", "123456"])],
        prop::collection::vec(num(), 0..4),
    )
        .prop_map(|(a, rest)| {
            let mut s = a;
            for n in rest {
                s.push('.');
                s.push_str(&n);
            }
            s
        });
    let modifier = prop_oneof![
        5 => Just(String::new()),
        5 => pick(&[
            "-dev", "-beta", "-beta2", "beta.2", "-alpha1", "a1", "-b", "-RC1", "RC", "-rc.1", "-p1",
            "-pl2", "-patch3", ".patch", "-stable", "-beta2-dev", "dev", "-alpha.1.2", "_dev",
            "-rc1.dev", "-STABLE", "b2", "-a.1", "p", ".RC2", "-Beta3", "-rc-1",
        ]),
    ];
    let classical = (
        prop_oneof![9 => Just(String::new()), 1 => pick(&["v", "V"])],
        core,
        modifier,
        prop_oneof![9 => Just(String::new()), 1 => pick(&["+build", "+1", "+sha.1"])],
        prop_oneof![9 => Just(String::new()), 1 => pick(&["@dev", "@stable", "@beta"])],
    )
        .prop_map(|(v, c, m, b, f)| format!("{v}{c}{m}{b}{f}"));
    prop_oneof![
        17 => classical,
        2 => pick(&[
            "2023-01-15", "20230115", "2023.01.15.1", "20100102-203040", "20100102203040-10",
            "201903.0", "201903.0-p2", "2023-01-15-beta", "20230115.1", "2010.01.02",
        ]),
        1 => pick(&["1.x-dev", "2.1.*-dev", "v1.X-dev", "1.0.x-dev", "3.x.x-dev"]),
        1 => pick(&["dev-master", "dev-foo", "master", "1.0.0-meh", "foo", "1.0.0.0.0", "1.0.0-beta.x"]),
    ]
    .boxed()
}

/// Tails for near Composer pairs.
pub fn composer_tail() -> BoxedStrategy<String> {
    pick(&[
        "-dev", "-beta", "-RC1", "-p1", ".0", ".1", "-alpha", "-stable", "1", "-patch", "+b",
    ])
}
