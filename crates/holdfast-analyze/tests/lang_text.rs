//! The text-file language catalogers (`python`, `node`, `ruby`, `php`) on fixtures in the
//! real formats (`tests/fixtures/lang_text/`, most written by the real tools: npm 11,
//! yarn 1 and 4, pnpm 7/8/9, uv, poetry 2, pipenv; metadata files from the PyPI
//! distributions; gemspecs from Debian's ruby-rack and ruby-nokogiri), on hostile input,
//! and, with `HOLDFAST_FULL_TESTS=1`, on packages really installed by pip and npm.

use std::path::{Path, PathBuf};
use std::time::Instant;

use holdfast_analyze::analyzer::{
    AnalyzeError, Analyzer, AnalyzerGroup, EntryKind, EntryMeta, FileContent, FileFact, FileInput,
    Want,
};
use holdfast_analyze::{analyze, registry, AnalyzeOptions};
use holdfast_model::{DependencyScope, Package, PackageType, WarningKind};

use DependencyScope::{Application, Dev, Direct, Transitive};

/// One expected package: name, version, purl, scope.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<DependencyScope>,
);

fn analyzer(name: &str) -> Box<dyn Analyzer> {
    registry::all()
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("no analyzer named {name}"))
}

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lang_text")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn meta(size: usize) -> EntryMeta {
    EntryMeta {
        kind: EntryKind::File,
        size: size as u64,
        mode: 0o644,
        uid: 0,
        gid: 0,
        capabilities: None,
    }
}

/// Runs one analyzer on bytes as if they were at `image_path`, which it must want.
fn run(name: &str, image_path: &str, bytes: &[u8]) -> Result<Vec<FileFact>, AnalyzeError> {
    let a = analyzer(name);
    let m = meta(bytes.len());
    assert_eq!(
        a.wants(image_path, &m),
        Want::Bytes,
        "{name} wants {image_path}"
    );
    assert_eq!(a.group(), AnalyzerGroup::Library);
    let mut input = FileInput {
        path: image_path,
        meta: &m,
        content: FileContent::Bytes(bytes),
    };
    a.analyze(&mut input)
}

/// The packages and warnings of a result.
fn split(facts: Vec<FileFact>) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut warnings = Vec::new();
    for f in facts {
        match f {
            FileFact::Packages(p) => packages.extend(p),
            FileFact::Skipped { message, .. } => warnings.push(message),
            other => panic!("unexpected fact {other:?}"),
        }
    }
    (packages, warnings)
}

/// The kinds of the skipped-item warnings of a result, in order.
fn skip_kinds(facts: &[FileFact]) -> Vec<WarningKind> {
    facts
        .iter()
        .filter_map(|f| match f {
            FileFact::Skipped { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect()
}

/// Asserts the exact package list of a fixture, and the fields every package shares.
fn check(name: &str, image_path: &str, rel: &str, want: &[Row]) -> Vec<Package> {
    let facts = run(name, image_path, &fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let (packages, warnings) = split(facts);
    assert!(warnings.is_empty(), "{rel}: {warnings:?}");
    let got: Vec<(&str, &str, &str, Option<DependencyScope>)> = packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.purl.as_str(),
                p.scope,
            )
        })
        .collect();
    assert_eq!(got, want, "{rel}");
    let (ptype, eco) = match name {
        "python" => (PackageType::Python, "PyPI"),
        "node" => (PackageType::Npm, "npm"),
        "ruby" => (PackageType::Gem, "RubyGems"),
        "php" => (PackageType::Composer, "Packagist"),
        other => panic!("{other}"),
    };
    for p in &packages {
        assert_eq!(p.path, image_path);
        assert_eq!(p.layer, None);
        assert_eq!(p.package_type, ptype);
        // The project's own package has no ecosystem: advisories name the registry's.
        let want_eco = (p.scope != Some(Application)).then_some(eco);
        assert_eq!(p.ecosystem.as_deref(), want_eco);
        assert!(p.id.is_empty());
    }
    packages
}

#[test]
fn python_installed_metadata() {
    let sp = "/usr/local/lib/python3.11/site-packages";
    let p = check(
        "python",
        &format!("{sp}/Django-3.2.dist-info/METADATA"),
        "python/site-packages/Django-3.2.dist-info/METADATA",
        &[("Django", "3.2", "pkg:pypi/django@3.2", None)],
    );
    assert_eq!(p[0].licenses, vec!["BSD-3-Clause"]);
    let p = check(
        "python",
        "/app/.venv/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA",
        "python/site-packages/requests-2.19.1.dist-info/METADATA",
        &[("requests", "2.19.1", "pkg:pypi/requests@2.19.1", None)],
    );
    assert_eq!(p[0].licenses, vec!["Apache 2.0"]);
    // egg-info as a directory holding PKG-INFO.
    let p = check(
        "python",
        "/usr/lib/python3/dist-packages/PyYAML-5.3-py3.11.egg-info/PKG-INFO",
        "python/site-packages/PyYAML-5.3-py3.11.egg-info/PKG-INFO",
        &[("PyYAML", "5.3", "pkg:pypi/pyyaml@5.3", None)],
    );
    assert_eq!(p[0].licenses, vec!["MIT"]);
    // egg-info as a single file holding the metadata (distutils, Debian packages).
    check(
        "python",
        "/usr/lib/python3/dist-packages/urllib3-1.24.1-py3.11.egg-info",
        "python/site-packages/urllib3-1.24.1-py3.11.egg-info",
        &[("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1", None)],
    );
}

#[test]
fn python_requirements() {
    check(
        "python",
        "/app/requirements.txt",
        "python/requirements.txt",
        &[
            ("asgiref", "3.13.0", "pkg:pypi/asgiref@3.13.0", None),
            ("django", "3.2.0", "pkg:pypi/django@3.2.0", None),
            ("PyYAML", "5.3", "pkg:pypi/pyyaml@5.3", None),
            ("requests", "2.19.1", "pkg:pypi/requests@2.19.1", None),
            ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1", None),
        ],
    );
}

#[test]
fn python_poetry_lock_v2_and_v1() {
    check(
        "python",
        "/app/poetry.lock",
        "python/poetry.lock",
        &[
            ("asgiref", "3.8.1", "pkg:pypi/asgiref@3.8.1", None),
            (
                "certifi",
                "2026.10.19.post1",
                "pkg:pypi/certifi@2026.10.19.post1",
                None,
            ),
            ("chardet", "3.0.4", "pkg:pypi/chardet@3.0.4", None),
            ("django", "3.2", "pkg:pypi/django@3.2", None),
            ("idna", "2.7", "pkg:pypi/idna@2.7", None),
            ("mccabe", "0.6.1", "pkg:pypi/mccabe@0.6.1", Some(Dev)),
            ("pytz", "2026.6", "pkg:pypi/pytz@2026.6", None),
            ("pyyaml", "5.3", "pkg:pypi/pyyaml@5.3", None),
            ("requests", "2.19.1", "pkg:pypi/requests@2.19.1", None),
            ("sqlparse", "0.5.5", "pkg:pypi/sqlparse@0.5.5", None),
            (
                "typing-extensions",
                "4.13.2",
                "pkg:pypi/typing-extensions@4.13.2",
                None,
            ),
            ("urllib3", "1.23", "pkg:pypi/urllib3@1.23", None),
        ],
    );
    check(
        "python",
        "/old/poetry.lock",
        "python/poetry-1.1.lock",
        &[
            ("asgiref", "3.4.1", "pkg:pypi/asgiref@3.4.1", None),
            ("django", "3.2", "pkg:pypi/django@3.2", None),
            ("mccabe", "0.6.1", "pkg:pypi/mccabe@0.6.1", Some(Dev)),
            ("pytz", "2021.1", "pkg:pypi/pytz@2021.1", None),
            ("sqlparse", "0.4.1", "pkg:pypi/sqlparse@0.4.1", None),
        ],
    );
}

#[test]
fn python_pipfile_lock() {
    check(
        "python",
        "/app/Pipfile.lock",
        "python/Pipfile.lock",
        &[
            ("asgiref", "3.13.0", "pkg:pypi/asgiref@3.13.0", None),
            (
                "certifi",
                "2026.10.19.post1",
                "pkg:pypi/certifi@2026.10.19.post1",
                None,
            ),
            ("chardet", "3.0.4", "pkg:pypi/chardet@3.0.4", None),
            ("django", "3.2", "pkg:pypi/django@3.2", None),
            ("idna", "2.7", "pkg:pypi/idna@2.7", None),
            ("pytz", "2026.6", "pkg:pypi/pytz@2026.6", None),
            ("pyyaml", "5.3", "pkg:pypi/pyyaml@5.3", None),
            ("requests", "2.19.1", "pkg:pypi/requests@2.19.1", None),
            ("sqlparse", "0.6.1", "pkg:pypi/sqlparse@0.6.1", None),
            ("urllib3", "1.23", "pkg:pypi/urllib3@1.23", None),
            ("mccabe", "0.6.1", "pkg:pypi/mccabe@0.6.1", Some(Dev)),
        ],
    );
}

#[test]
fn python_uv_lock() {
    // Several versions of one name, chosen per Python version by markers; the virtual
    // project itself is not a package.
    let t = Some(Transitive);
    check(
        "python",
        "/app/uv.lock",
        "python/uv.lock",
        &[
            ("asgiref", "3.8.1", "pkg:pypi/asgiref@3.8.1", t),
            ("asgiref", "3.11.1", "pkg:pypi/asgiref@3.11.1", t),
            ("asgiref", "3.12.1", "pkg:pypi/asgiref@3.12.1", t),
            ("asgiref", "3.13.0", "pkg:pypi/asgiref@3.13.0", t),
            (
                "certifi",
                "2026.10.19.post1",
                "pkg:pypi/certifi@2026.10.19.post1",
                t,
            ),
            ("chardet", "3.0.4", "pkg:pypi/chardet@3.0.4", t),
            ("django", "3.2", "pkg:pypi/django@3.2", Some(Direct)),
            ("idna", "2.7", "pkg:pypi/idna@2.7", t),
            ("mccabe", "0.6.1", "pkg:pypi/mccabe@0.6.1", Some(Dev)),
            ("pytz", "2026.6", "pkg:pypi/pytz@2026.6", t),
            ("pyyaml", "5.3", "pkg:pypi/pyyaml@5.3", Some(Direct)),
            (
                "requests",
                "2.19.1",
                "pkg:pypi/requests@2.19.1",
                Some(Direct),
            ),
            ("sqlparse", "0.5.5", "pkg:pypi/sqlparse@0.5.5", t),
            ("sqlparse", "0.6.1", "pkg:pypi/sqlparse@0.6.1", t),
            (
                "typing-extensions",
                "4.13.2",
                "pkg:pypi/typing-extensions@4.13.2",
                t,
            ),
            (
                "typing-extensions",
                "4.16.0",
                "pkg:pypi/typing-extensions@4.16.0",
                t,
            ),
            ("urllib3", "1.23", "pkg:pypi/urllib3@1.23", t),
        ],
    );
}

#[test]
fn python_pdm_lock() {
    check(
        "python",
        "/app/pdm.lock",
        "python/pdm.lock",
        &[
            ("asgiref", "3.8.1", "pkg:pypi/asgiref@3.8.1", None),
            ("django", "3.2", "pkg:pypi/django@3.2", None),
            ("mccabe", "0.6.1", "pkg:pypi/mccabe@0.6.1", Some(Dev)),
            ("pytz", "2026.6", "pkg:pypi/pytz@2026.6", None),
            ("pyyaml", "5.3", "pkg:pypi/pyyaml@5.3", None),
            ("requests", "2.19.1", "pkg:pypi/requests@2.19.1", None),
            ("sqlparse", "0.5.5", "pkg:pypi/sqlparse@0.5.5", None),
            ("urllib3", "1.23", "pkg:pypi/urllib3@1.23", None),
        ],
    );
}

#[test]
fn node_installed_package_json() {
    let p = check(
        "node",
        "/app/node_modules/lodash/package.json",
        "node/node_modules/lodash/package.json",
        &[("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", None)],
    );
    assert_eq!(p[0].licenses, vec!["MIT"]);
    check(
        "node",
        "/app/node_modules/@types/minimist/package.json",
        "node/node_modules/@types/minimist/package.json",
        &[(
            "@types/minimist",
            "1.2.0",
            "pkg:npm/%40types/minimist@1.2.0",
            None,
        )],
    );
    check(
        "node",
        "/app/node_modules/debug/package.json",
        "node/node_modules/debug/package.json",
        &[("debug", "2.6.9", "pkg:npm/debug@2.6.9", None)],
    );
    // A nested copy is a package of its own.
    check(
        "node",
        "/app/node_modules/debug/node_modules/ms/package.json",
        "node/node_modules/debug/node_modules/ms/package.json",
        &[("ms", "2.0.0", "pkg:npm/ms@2.0.0", None)],
    );
    let node = analyzer("node");
    // The project's own manifest is read as the application's package.
    assert_eq!(node.wants("/app/package.json", &meta(10)), Want::Bytes);
    for not_installed in [
        "/app/node_modules/lodash/fp/package.json",
        "/app/node_modules/@types/package.json",
    ] {
        assert_eq!(
            node.wants(not_installed, &meta(10)),
            Want::No,
            "{not_installed}"
        );
    }
}

/// What the project in `tests/fixtures/lang_text/node` locks, as npm v2/v3 and pnpm
/// record it: debug, lodash and ms 2.1.3 direct, ms 2.0.0 under debug, minimist and
/// @types/minimist for development.
const NODE_SCOPED: &[Row] = &[
    (
        "@types/minimist",
        "1.2.0",
        "pkg:npm/%40types/minimist@1.2.0",
        Some(Dev),
    ),
    ("debug", "2.6.9", "pkg:npm/debug@2.6.9", Some(Direct)),
    ("ms", "2.0.0", "pkg:npm/ms@2.0.0", Some(Transitive)),
    ("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", Some(Direct)),
    ("minimist", "1.2.0", "pkg:npm/minimist@1.2.0", Some(Dev)),
    ("ms", "2.1.3", "pkg:npm/ms@2.1.3", Some(Direct)),
];

#[test]
fn node_package_lock_v1_v2_v3() {
    check(
        "node",
        "/app/package-lock.json",
        "node/package-lock-v1.json",
        &[
            (
                "@types/minimist",
                "1.2.0",
                "pkg:npm/%40types/minimist@1.2.0",
                Some(Dev),
            ),
            ("debug", "2.6.9", "pkg:npm/debug@2.6.9", None),
            ("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", None),
            ("minimist", "1.2.0", "pkg:npm/minimist@1.2.0", Some(Dev)),
            ("ms", "2.1.3", "pkg:npm/ms@2.1.3", None),
            ("ms", "2.0.0", "pkg:npm/ms@2.0.0", None),
        ],
    );
    check(
        "node",
        "/app/package-lock.json",
        "node/package-lock-v2.json",
        NODE_SCOPED,
    );
    check(
        "node",
        "/srv/app/npm-shrinkwrap.json",
        "node/package-lock-v3.json",
        NODE_SCOPED,
    );
}

#[test]
fn node_yarn_v1_and_berry() {
    let rows: &[Row] = &[
        (
            "@types/minimist",
            "1.2.0",
            "pkg:npm/%40types/minimist@1.2.0",
            None,
        ),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", None),
        ("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", None),
        ("minimist", "1.2.0", "pkg:npm/minimist@1.2.0", None),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", None),
        ("ms", "2.1.3", "pkg:npm/ms@2.1.3", None),
    ];
    check("node", "/app/yarn.lock", "node/yarn-v1.lock", rows);
    // berry also lists the project as `fixture-app@workspace:.`: the application itself.
    let mut berry = rows.to_vec();
    berry.insert(
        2,
        (
            "fixture-app",
            "0.0.0-use.local",
            "pkg:npm/fixture-app@0.0.0-use.local",
            Some(Application),
        ),
    );
    check("node", "/app/yarn.lock", "node/yarn-berry.lock", &berry);
}

#[test]
fn node_pnpm_v5_v6_v9() {
    // pnpm lists packages sorted by key, so ms 2.0.0 comes after minimist.
    let rows: &[Row] = &[
        NODE_SCOPED[0],
        NODE_SCOPED[1],
        NODE_SCOPED[3],
        NODE_SCOPED[4],
        NODE_SCOPED[2],
        NODE_SCOPED[5],
    ];
    check(
        "node",
        "/app/pnpm-lock.yaml",
        "node/pnpm-lock-v5.yaml",
        rows,
    );
    check(
        "node",
        "/app/pnpm-lock.yaml",
        "node/pnpm-lock-v6.yaml",
        rows,
    );
    check(
        "node",
        "/app/pnpm-lock.yaml",
        "node/pnpm-lock-v9.yaml",
        rows,
    );
}

#[test]
fn ruby_gemspecs_and_gemfile_lock() {
    let p = check(
        "ruby",
        "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
        "ruby/specifications/rack-2.2.22.gemspec",
        &[("rack", "2.2.22", "pkg:gem/rack@2.2.22", None)],
    );
    assert_eq!(p[0].licenses, vec!["MIT"]);
    check(
        "ruby",
        "/usr/local/bundle/specifications/nokogiri-1.13.10.gemspec",
        "ruby/specifications/nokogiri-1.13.10.gemspec",
        &[("nokogiri", "1.13.10", "pkg:gem/nokogiri@1.13.10", None)],
    );
    let t = Some(Transitive);
    let d = Some(Direct);
    check(
        "ruby",
        "/app/Gemfile.lock",
        "ruby/Gemfile.lock",
        &[
            (
                "fixture_app",
                "0.1.0",
                "pkg:gem/fixture_app@0.1.0",
                Some(Application),
            ),
            (
                "sinatra-contrib",
                "2.2.4",
                "pkg:gem/sinatra-contrib@2.2.4",
                d,
            ),
            ("mini_portile2", "2.8.0", "pkg:gem/mini_portile2@2.8.0", t),
            ("multi_json", "1.15.0", "pkg:gem/multi_json@1.15.0", t),
            ("mustermann", "2.0.2", "pkg:gem/mustermann@2.0.2", t),
            ("nokogiri", "1.13.10", "pkg:gem/nokogiri@1.13.10", d),
            (
                "nokogiri",
                "1.13.10",
                "pkg:gem/nokogiri@1.13.10?platform=x86_64-linux",
                d,
            ),
            ("racc", "1.6.1", "pkg:gem/racc@1.6.1", t),
            ("rack", "2.2.4", "pkg:gem/rack@2.2.4", t),
            (
                "rack-protection",
                "2.2.4",
                "pkg:gem/rack-protection@2.2.4",
                t,
            ),
            ("rake", "13.0.6", "pkg:gem/rake@13.0.6", d),
            ("ruby2_keywords", "0.0.5", "pkg:gem/ruby2_keywords@0.0.5", t),
            ("sinatra", "2.2.4", "pkg:gem/sinatra@2.2.4", d),
            ("tilt", "2.0.11", "pkg:gem/tilt@2.0.11", t),
        ],
    );
}

#[test]
fn php_composer_lock_and_installed_json() {
    let p = check(
        "php",
        "/var/www/composer.lock",
        "php/composer.lock",
        &[
            (
                "monolog/monolog",
                "2.3.5",
                "pkg:composer/monolog/monolog@2.3.5",
                None,
            ),
            ("psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", None),
            (
                "symfony/console",
                "v5.4.0",
                "pkg:composer/symfony/console@v5.4.0",
                None,
            ),
            (
                "phpunit/phpunit",
                "9.5.10",
                "pkg:composer/phpunit/phpunit@9.5.10",
                Some(Dev),
            ),
        ],
    );
    assert_eq!(p[3].licenses, vec!["BSD-3-Clause"]);
    check(
        "php",
        "/var/www/vendor/composer/installed.json",
        "php/installed-v1.json",
        &[
            (
                "monolog/monolog",
                "2.3.5",
                "pkg:composer/monolog/monolog@2.3.5",
                None,
            ),
            ("psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", None),
        ],
    );
    check(
        "php",
        "/var/www/vendor/composer/installed.json",
        "php/installed-v2.json",
        &[
            (
                "monolog/monolog",
                "2.3.5",
                "pkg:composer/monolog/monolog@2.3.5",
                None,
            ),
            (
                "phpunit/phpunit",
                "9.5.10",
                "pkg:composer/phpunit/phpunit@9.5.10",
                Some(Dev),
            ),
            ("psr/log", "1.1.4", "pkg:composer/psr/log@1.1.4", None),
            (
                "symfony/console",
                "v5.4.0",
                "pkg:composer/symfony/console@v5.4.0",
                None,
            ),
        ],
    );
}

#[test]
fn non_json_package_json_is_a_warning_naming_the_file() {
    let err = run(
        "node",
        "/app/node_modules/broken/package.json",
        &fixture("bad/not-json-package.json"),
    )
    .expect_err("not JSON");
    assert!(err.to_string().contains("not valid JSON"), "{err}");

    // Through the whole pipeline: the walker turns the error into a warning on the file,
    // and the good package next to it is still found.
    let dir = tempfile::tempdir().expect("tempdir");
    let nm = dir.path().join("node_modules");
    std::fs::create_dir_all(nm.join("broken")).expect("mkdir");
    std::fs::create_dir_all(nm.join("lodash")).expect("mkdir");
    std::fs::write(
        nm.join("broken/package.json"),
        fixture("bad/not-json-package.json"),
    )
    .expect("write");
    std::fs::write(
        nm.join("lodash/package.json"),
        fixture("node/node_modules/lodash/package.json"),
    )
    .expect("write");
    let facts = scan_dir(dir.path());
    assert!(
        facts.warnings.iter().any(|w| {
            w.path.as_deref() == Some("/node_modules/broken/package.json")
                && w.message.contains("node")
                && w.message.contains("JSON")
        }),
        "{:?}",
        facts.warnings
    );
    let found: Vec<(&str, &str)> = facts
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.path.as_str()))
        .collect();
    assert_eq!(found, vec![("lodash", "/node_modules/lodash/package.json")]);
    assert_eq!(
        facts.packages[0].id, "pkg:npm/lodash@4.17.15",
        "the merge fills ids"
    );
}

#[test]
fn skipped_items_carry_their_kind() {
    // An entry that does not parse is a malformed file, whatever the format.
    let cases: [(&str, &str, &[u8]); 4] = [
        (
            "node",
            "/app/node_modules/x/package.json",
            br#"{"name": "x", "version": 1}"#,
        ),
        ("python", "/app/requirements.txt", b"ok==1.0
bad!name==1.0
"),
        (
            "node",
            "/app/yarn.lock",
            b"# yarn lockfile v1\n\n\"a@^1\":\n  version \"1.0.0\"\n\nnot a block line\n",
        ),
        (
            "ruby",
            "/app/Gemfile.lock",
            b"GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n    !!! (\n\nPLATFORMS\n  ruby\n",
        ),
    ];
    for (name, path, bytes) in cases {
        let facts = run(name, path, bytes).unwrap();
        assert_eq!(
            skip_kinds(&facts),
            [WarningKind::MalformedFile],
            "{path}: {facts:?}"
        );
    }

    // Through the walk: the warning on the file keeps its kind.
    let dir = tempfile::tempdir().expect("tempdir");
    let pkg = dir.path().join("node_modules/x");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join("package.json"), br#"{"name": "x", "version": 1}"#).expect("write");
    let facts = scan_dir(dir.path());
    let on_file: Vec<_> = facts
        .warnings
        .iter()
        .filter(|w| w.path.as_deref() == Some("/node_modules/x/package.json"))
        .map(|w| (w.kind, w.message.as_str()))
        .collect();
    assert_eq!(on_file.len(), 1, "{:?}", facts.warnings);
    assert_eq!(on_file[0].0, WarningKind::MalformedFile, "{on_file:?}");
    assert!(on_file[0].1.starts_with("node: 1 entries"), "{on_file:?}");
}

#[test]
fn byte_order_marks_are_ignored() {
    let mut json = b"\xEF\xBB\xBF".to_vec();
    json.extend(fixture("node/node_modules/lodash/package.json"));
    let (p, _) = split(run("node", "/a/node_modules/lodash/package.json", &json).unwrap());
    assert_eq!(p[0].purl, "pkg:npm/lodash@4.17.15");
    let mut toml = b"\xEF\xBB\xBF".to_vec();
    toml.extend(fixture("python/pdm.lock"));
    let (p, _) = split(run("python", "/a/pdm.lock", &toml).unwrap());
    assert_eq!(p.len(), 8);
}

#[test]
fn garbage_bytes_never_panic() {
    // A fixed xorshift stream: reproducible junk, some of it valid UTF-8 and some not.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut junk = vec![0u8; 64 * 1024];
    for b in &mut junk {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 24) as u8;
    }
    // Printable junk exercises the line parsers further than binary junk does.
    let printable: Vec<u8> = junk
        .iter()
        .map(|b| match b % 8 {
            0 => b'\n',
            1 => b' ',
            2 => b':',
            3 => b'"',
            _ => b'!' + (b % 90),
        })
        .collect();
    let targets = [
        ("python", "/x/a-1.dist-info/METADATA"),
        ("python", "/x/a.egg-info"),
        ("python", "/x/requirements.txt"),
        ("python", "/x/poetry.lock"),
        ("python", "/x/Pipfile.lock"),
        ("python", "/x/uv.lock"),
        ("python", "/x/pdm.lock"),
        ("node", "/x/node_modules/a/package.json"),
        ("node", "/x/package-lock.json"),
        ("node", "/x/yarn.lock"),
        ("node", "/x/pnpm-lock.yaml"),
        ("ruby", "/x/specifications/a-1.gemspec"),
        ("ruby", "/x/Gemfile.lock"),
        ("php", "/x/composer.lock"),
        ("php", "/x/vendor/composer/installed.json"),
    ];
    for (name, path) in targets {
        for bytes in [&junk[..], &printable[..], b"", b"\n\n\n", b"{}", b"[]"] {
            // Either result is fine; a panic fails the test.
            let _ = run(name, path, bytes);
        }
    }
}

#[test]
fn package_lock_with_500k_entries() {
    const N: usize = 500_000;
    let mut json = String::with_capacity(N * 64);
    json.push_str(r#"{"name":"big","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"big","version":"1.0.0","dependencies":{"p0":"1.0.0"}}"#);
    for i in 0..N {
        json.push_str(&format!(
            r#","node_modules/p{i}":{{"version":"1.0.{}","license":"MIT"}}"#,
            i % 7
        ));
    }
    json.push_str("}}");
    let start = Instant::now();
    let facts = run("node", "/big/package-lock.json", json.as_bytes()).expect("parses");
    let (packages, warnings) = split(facts);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(packages.len(), N);
    assert_eq!(packages[0].scope, Some(Direct));
    assert_eq!(packages[1].scope, Some(Transitive));
    assert_eq!(
        packages[N - 1].purl,
        format!("pkg:npm/p{}@1.0.{}", N - 1, (N - 1) % 7)
    );
    eprintln!(
        "500k-entry package-lock.json ({} MiB): {:?}",
        json.len() >> 20,
        start.elapsed()
    );
}

#[test]
fn more_than_a_million_packages_are_cut_with_a_warning() {
    let mut text = String::with_capacity(13_000_000);
    for i in 0..1_000_005 {
        text.push_str(&format!("p{i}==1\n"));
    }
    let facts = run("python", "/x/requirements.txt", text.as_bytes()).unwrap();
    assert_eq!(skip_kinds(&facts), [WarningKind::BoundReached]);
    let (packages, warnings) = split(facts);
    assert_eq!(packages.len(), 1_000_000);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("5 more skipped"), "{warnings:?}");
}

fn scan_dir(dir: &Path) -> holdfast_analyze::ImageFacts {
    let source = holdfast_source::open_target(
        &holdfast_source::TargetSpec::Rootfs(dir.to_path_buf()),
        "lang-text-test",
        &holdfast_source::OpenOptions::default(),
    )
    .expect("open rootfs");
    let analyzers = registry::select(&[AnalyzerGroup::Library]);
    analyze(source.as_ref(), &analyzers, &AnalyzeOptions::default())
}

fn command_json(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success() || !out.stdout.is_empty(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{cmd:?} output: {e}"))
}

fn run_ok(cmd: &mut std::process::Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every (name, version) of an `npm ls --all --json` tree.
fn npm_ls_set(node: &serde_json::Value, out: &mut std::collections::BTreeSet<(String, String)>) {
    let Some(deps) = node.get("dependencies").and_then(|d| d.as_object()) else {
        return;
    };
    for (name, d) in deps {
        if let Some(v) = d.get("version").and_then(|v| v.as_str()) {
            out.insert((name.clone(), v.to_string()));
        }
        npm_ls_set(d, out);
    }
}

#[test]
fn real_packages_match_pip_and_npm() {
    if std::env::var("HOLDFAST_FULL_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set HOLDFAST_FULL_TESTS=1 to install real packages with pip and npm");
        return;
    }
    use std::collections::BTreeSet;
    use std::process::Command;

    let root = tempfile::tempdir().expect("tempdir");
    let py: PathBuf = root.path().join("py");
    let js: PathBuf = root.path().join("js");
    std::fs::create_dir_all(&js).expect("mkdir");
    run_ok(
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--no-deps", "--target"])
            .arg(&py)
            .args([
                "Django==3.2",
                "PyYAML==5.3",
                "requests==2.19.1",
                "urllib3==1.24.1",
            ]),
    );
    run_ok(Command::new("npm").current_dir(&js).args(["init", "--yes"]));
    run_ok(Command::new("npm").current_dir(&js).args([
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "lodash@4.17.15",
        "minimist@1.2.0",
        "express@4.16.0",
    ]));

    let facts = scan_dir(root.path());
    let set = |ptype: PackageType, under: &str| -> BTreeSet<(String, String)> {
        facts
            .packages
            .iter()
            .filter(|p| p.package_type == ptype && p.path.starts_with(under))
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    };

    let pip = command_json(
        Command::new("python3")
            .args(["-m", "pip", "list", "--format", "json", "--path"])
            .arg(&py),
    );
    let want_py: BTreeSet<(String, String)> = pip
        .as_array()
        .expect("pip list prints an array")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap_or_default().to_string(),
                d["version"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let got_py = set(PackageType::Python, "/py/");
    eprintln!("pip list: {want_py:?}\ncatalog:  {got_py:?}");
    assert_eq!(got_py, want_py);

    let ls = command_json(
        Command::new("npm")
            .current_dir(&js)
            .args(["ls", "--all", "--json"]),
    );
    let mut want_js = BTreeSet::new();
    npm_ls_set(&ls, &mut want_js);
    let installed = set(PackageType::Npm, "/js/node_modules/");
    let locked = set(PackageType::Npm, "/js/package-lock.json");
    eprintln!(
        "npm ls: {} packages; node_modules: {}; package-lock.json: {}",
        want_js.len(),
        installed.len(),
        locked.len()
    );
    assert_eq!(installed, want_js, "node_modules vs npm ls");
    assert_eq!(locked, want_js, "package-lock.json vs npm ls");
    let scoped: Vec<_> = facts
        .packages
        .iter()
        .filter(|p| p.path == "/js/package-lock.json" && p.scope == Some(Direct))
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(scoped, vec!["express", "lodash", "minimist"]);
    let warnings: Vec<_> = facts
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("python") || w.message.starts_with("node"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Writes `files` (path relative to the root, content) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    dir
}

#[test]
fn pyproject_is_the_application_and_a_malformed_one_is_a_warning() {
    let dir = tree(&[
        (
            "app/pyproject.toml",
            "[project]\nname = \"bench-app\"\nversion = \"1.0.0\"\n",
        ),
        (
            "usr/lib/python3/dist-packages/dep/pyproject.toml",
            "[project]\nname = \"dep\"\nversion = \"2.0\"\n",
        ),
        ("broken/pyproject.toml", "[project\nname = \"x\"\n"),
        ("broken/requirements.txt", "six==1.16.0\n"),
    ]);
    let facts = scan_dir(dir.path());
    type Found<'a> = (
        &'a str,
        &'a str,
        Option<DependencyScope>,
        Option<&'a str>,
        &'a str,
    );
    let found: Vec<Found<'_>> = facts
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.scope,
                p.ecosystem.as_deref(),
                p.path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "bench-app",
                "1.0.0",
                Some(Application),
                None,
                "/app/pyproject.toml"
            ),
            (
                "six",
                "1.16.0",
                None,
                Some("PyPI"),
                "/broken/requirements.txt"
            ),
        ]
    );
    assert!(
        facts.warnings.iter().any(|w| {
            w.path.as_deref() == Some("/broken/pyproject.toml")
                && w.message.contains("pyproject.toml")
        }),
        "{:?}",
        facts.warnings
    );
}

#[test]
fn setup_py_only_when_nothing_better_exists() {
    let setup = "from setuptools import setup\nsetup(\n    name='{NAME}',\n    install_requires=[\n        'requests==2.19.1',\n        'six',\n    ],\n)\n";
    let named = |n: &str| setup.replace("{NAME}", n);
    let (alone, with_req, with_pyproject, bare_pyproject, installed, broken) = (
        named("alone"),
        named("withreq"),
        named("withpp"),
        named("barepp"),
        named("Installed_App"),
        "setup(install_requires=['a==1', 'b==2'\n".to_string(),
    );
    let sp = "usr/local/lib/python3.11/site-packages";
    let dir = tree(&[
        ("alone/setup.py", &alone),
        ("withreq/setup.py", &with_req),
        ("withreq/requirements-prod.txt", "flask>=2\n"),
        ("withpp/setup.py", &with_pyproject),
        (
            "withpp/pyproject.toml",
            "[project]\nname = \"withpp\"\ndynamic = [\"version\"]\ndependencies = [\"idna\"]\n",
        ),
        ("barepp/setup.py", &bare_pyproject),
        (
            "barepp/pyproject.toml",
            "[build-system]\nrequires = [\"setuptools\"]\n",
        ),
        ("inst/setup.py", &installed),
        (
            &format!("{sp}/installed_app-0.1.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: installed-app\nVersion: 0.1\n",
        ),
        ("broken/setup.py", &broken),
    ]);
    let facts = scan_dir(dir.path());
    let found: Vec<(&str, &str)> = facts
        .packages
        .iter()
        .filter(|p| p.path.ends_with("/setup.py"))
        .map(|p| (p.name.as_str(), p.path.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("requests", "/alone/setup.py"),
            ("requests", "/barepp/setup.py"),
        ]
    );
    assert!(
        facts.packages.iter().any(|p| p.name == "installed-app"),
        "the installed metadata is still reported"
    );
    assert!(facts.warnings.is_empty(), "{:?}", facts.warnings);
}
