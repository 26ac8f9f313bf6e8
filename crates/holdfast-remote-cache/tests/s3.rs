//! The S3 store and the two-tier layer cache against moto's S3 server on loopback.
//! Runs under `HOLDFAST_FULL_TESTS=1`; the binary's end-to-end fleet test is
//! `crates/holdfast/tests/it/remote_cache.rs`.

mod moto;

use std::time::{Duration, Instant};

use holdfast_source::LayerCache;
use moto::{free_port, moto_or_skip, settings_for};

fn open(
    url: &str,
    settings: &[(&'static str, String)],
) -> std::sync::Arc<dyn holdfast_source::RemoteLayerStore> {
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    holdfast_remote_cache::open_with(url, &settings).unwrap()
}

#[test]
fn objects_round_trip_and_two_directories_share_them() {
    let Some(moto) = moto_or_skip("objects_round_trip_and_two_directories_share_them") else {
        return;
    };
    moto.create_bucket("fleet");
    let store = open("s3://fleet/ci/", &moto.settings());
    assert_eq!(store.location(), "s3://fleet/ci");
    assert_eq!(store.get("layers/k/sha256-aa.zst").unwrap(), None);
    store.put("layers/k/sha256-aa.zst", b"bytes").unwrap();
    assert_eq!(
        store.get("layers/k/sha256-aa.zst").unwrap().as_deref(),
        Some(&b"bytes"[..])
    );
    assert_eq!(moto.keys("fleet"), ["ci/layers/k/sha256-aa.zst"]);

    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = LayerCache::new(a.path()).with_remote(store.clone());
    first
        .put("set1", "sha256:0123abcd", b"{\"files\":1}")
        .unwrap();
    first.record_blob("sha256:beef", "sha256:0123abcd").unwrap();
    let entry = "layers/set1/sha256-0123abcd.zst";
    assert_eq!(
        store.get(entry).unwrap().unwrap(),
        std::fs::read(a.path().join(entry)).unwrap(),
        "the object holds the local file's bytes"
    );
    assert_eq!(
        moto.keys("fleet"),
        [
            "ci/blobs/sha/sha256-beef.diffid",
            "ci/layers/k/sha256-aa.zst",
            "ci/layers/set1/sha256-0123abcd.zst"
        ]
    );
    let second = LayerCache::new(b.path()).with_remote(open("s3://fleet/ci", &moto.settings()));
    assert_eq!(
        second.get("set1", "sha256:0123abcd").unwrap(),
        b"{\"files\":1}"
    );
    assert_eq!(
        second.diff_id_for_blob("sha256:beef").as_deref(),
        Some("sha256:0123abcd")
    );
    assert!(
        b.path().join(entry).is_file(),
        "kept in the second directory"
    );
}

#[test]
fn a_missing_bucket_fails_the_upload_only() {
    let Some(moto) = moto_or_skip("a_missing_bucket_fails_the_upload_only") else {
        return;
    };
    let settings = moto.settings();
    let store = open("s3://no-such-bucket/x", &settings);
    let e = store
        .put("layers/k/sha256-aa.zst", b"bytes")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("moto-test-secret"), "{e}");
    // The cache goes on without it.
    let d = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(d.path()).with_remote(store);
    cache.put("k", "sha256:aa", b"local").unwrap();
    assert_eq!(cache.get("k", "sha256:aa").unwrap(), b"local");
}

#[test]
fn an_endpoint_that_is_down_costs_little_and_fails_nothing() {
    let Some(_moto) = moto_or_skip("an_endpoint_that_is_down_costs_little_and_fails_nothing")
    else {
        return;
    };
    let settings = settings_for(&format!("http://127.0.0.1:{}", free_port()));
    let store = open("s3://fleet", &settings);
    let started = Instant::now();
    assert!(store.get("layers/k/sha256-aa.zst").is_err());
    let d = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(d.path()).with_remote(store);
    for i in 0..20 {
        assert!(cache.get("k", &format!("sha256:{i:02x}")).is_none());
        cache
            .put("k", &format!("sha256:{i:02x}"), b"local")
            .unwrap();
    }
    // One failed call (retried a few times), then the cache rests the remote.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bad_urls_and_settings_are_errors_naming_them() {
    let e = holdfast_remote_cache::open("gs://bucket")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("`gs://bucket`"), "{e}");
    let e = holdfast_remote_cache::open_with("s3://fleet", &[("AWS_NO_SUCH_THING", "1")])
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("AWS_NO_SUCH_THING") && e.contains("s3://fleet"),
        "{e}"
    );
    let e = holdfast_remote_cache::layer_cache(None, Some("s3://x"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("`s3://x`"), "{e}");
    let cache =
        holdfast_remote_cache::layer_cache(Some("/tmp/c".into()), Some("s3://fleet/p")).unwrap();
    assert_eq!(cache.remote_location(), Some("s3://fleet/p"));
}
