//! The web console over HTTP, on SQLite and (when installed, always under
//! `HOLDFAST_FULL_TESTS=1`) PostgreSQL: signing in and out, cookie flags, CSRF on every
//! form, read-only tokens without edit controls, numbers equal to the API's, hostile
//! names inert, server-side pages of a long list, trends from imported history, and
//! edits that reach the API and the audit log.

#[path = "support/service.rs"]
mod service;

use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use service::{cluster_result, days_ago, demo_image, on_both, vulnerability_like, Service};

const HOSTILE: &str = "<script>alert(1)</script>";

/// A browser-like client: no redirects followed, cookies kept by hand.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let resp = request
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&resp);
        let headers = resp.headers().clone();
        (resp.status(), headers, resp.text().await.unwrap())
    }

    async fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    async fn sign_in(&mut self, token: &str) {
        let (_, _, page) = self.get("/login").await;
        let csrf = hidden(&page, "csrf");
        let (status, headers, body) = self
            .post(
                "/login",
                &[("token", token), ("csrf", &csrf), ("next", "/")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers[LOCATION], "/");
    }
}

/// The value of the first hidden input named `name`.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// The number shown in `<dd data-sev="SEV">` after `anchor`.
fn shown_count(page: &str, anchor: &str, sev: &str) -> i64 {
    let at = page
        .find(anchor)
        .unwrap_or_else(|| panic!("no {anchor} in page"));
    let rest = &page[at..];
    let cell = &rest[rest.find(&format!("data-sev=\"{sev}\"")).unwrap()..];
    let digits: String = cell[cell.find("\">").unwrap() + 2..]
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap()
}

/// The demo image's real result, scanned by the service.
async fn demo_result(service: &Service) -> Value {
    let scan = service
        .scan_and_wait(&format!("docker-archive:{}", demo_image().display()))
        .await;
    assert_eq!(scan["status"], "finished", "{scan}");
    scan["result"].clone()
}

#[test]
fn the_console_signs_in_shows_the_apis_numbers_and_edits_through_it() {
    on_both(|service| async move {
        let demo = demo_result(&service).await;

        // History: the same image 10 days ago with one more critical finding, a host
        // with a hostile name, and a big list of advisories.
        let mut older = demo.clone();
        older["created_at"] = json!(days_ago(10));
        let extra = vulnerability_like(&older, "CVE-2099-0001", "CRITICAL");
        older["targets"][0]["findings"]
            .as_array_mut()
            .unwrap()
            .push(extra.clone());
        let demo_target = demo["targets"][0]["name"].as_str().unwrap().to_string();
        let demo_scan_target = format!("docker-archive:{}", demo_image().display());
        service.import(&older, &demo_scan_target).await;

        let mut hostile = demo.clone();
        hostile["created_at"] = json!(days_ago(0));
        hostile["targets"][0]["name"] = json!(HOSTILE);
        hostile["targets"][0]["kind"] = json!("rootfs");
        hostile["targets"][0]["image_id"] = Value::Null;
        hostile["targets"][0]["packages"][0]["name"] = json!("<img src=x onerror=alert(2)>");
        let mut many = Vec::new();
        for i in 0..120 {
            let mut f = extra.clone();
            f["id"] = json!(format!("CVE-2098-{i:04}"));
            f["severity"] = json!("LOW");
            f["package"] = json!(format!("pkg-{i}"));
            f["title"] = json!(HOSTILE);
            many.push(f);
        }
        hostile["targets"][0]["findings"] = json!(many);
        service.import(&hostile, "rootfs:/hostile").await;

        let mut container = demo.clone();
        container["created_at"] = json!(days_ago(0));
        container["targets"][0]["name"] = json!("web-1");
        container["targets"][0]["kind"] = json!("container");
        service.import(&container, "container:web-1").await;

        let mut browser = Browser::new(&service.base);

        // Not signed in: every page sends the browser to /login and back.
        let (status, headers, _) = browser.get("/vulnerabilities?q=x").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[LOCATION], "/login?next=%2Fvulnerabilities%3Fq%3Dx");

        // The login form's own CSRF cookie, flags, and refusals.
        let (status, headers, page) = browser.get("/login").await;
        assert_eq!(status, StatusCode::OK);
        let set = headers[SET_COOKIE].to_str().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "no TLS here: {set}");
        assert!(headers[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        let csrf = hidden(&page, "csrf");
        let (status, _, _) = browser
            .post(
                "/login",
                &[("token", &service.admin), ("csrf", "forged"), ("next", "/")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a forged login form");
        let (_, _, page) = browser.get("/login").await;
        let csrf2 = hidden(&page, "csrf");
        assert_ne!(csrf, csrf2);
        let (status, _, page) = browser
            .post(
                "/login",
                &[("token", "hft_wrong"), ("csrf", &csrf2), ("next", "/")],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("unknown or revoked"));
        assert!(!page.contains("hft_wrong"), "the token is never echoed");

        // Admin signs in: cookie flags, then the overview.
        let (_, _, page) = browser.get("/login").await;
        let csrf = hidden(&page, "csrf");
        let (status, headers, _) = browser
            .post(
                "/login",
                &[
                    ("token", &service.admin),
                    ("csrf", &csrf),
                    ("next", "//evil.example/"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[LOCATION], "/", "only local paths are followed");
        let session_cookie = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("holdfast_session="))
            .unwrap();
        assert!(session_cookie.contains("HttpOnly"));
        assert!(session_cookie.contains("SameSite=Strict"));

        let (status, _, overview) = browser.get("/").await;
        assert_eq!(status, StatusCode::OK, "{overview}");
        let (_, images) = service.get("/api/v1/images", &service.read).await;
        let targets = images["targets"].as_array().unwrap();
        let sum = |kind: &str, sev: &str| -> i64 {
            targets
                .iter()
                .filter(|t| t["kind"] == kind)
                .map(|t| t["counts"][sev].as_i64().unwrap())
                .sum()
        };
        for sev in ["critical", "high", "medium", "low"] {
            assert_eq!(
                shown_count(&overview, "data-class=\"Images\"", sev),
                sum("image", sev),
                "images {sev}"
            );
            assert_eq!(
                shown_count(&overview, "data-class=\"Hosts\"", sev),
                sum("rootfs", sev),
                "hosts {sev}"
            );
        }
        assert_eq!(sum("rootfs", "low"), 120);
        assert!(!overview.contains(HOSTILE), "raw markup from a result");
        assert!(
            overview.contains("&lt;script&gt;alert(1)"),
            "shown, escaped"
        );

        // Workloads: the container, with its image one click away.
        let (_, _, workloads) = browser.get("/workloads").await;
        assert!(workloads.contains("data-name=\"web-1\""), "{workloads}");
        let container_image = demo["targets"][0]["image_id"].as_str().unwrap();
        assert!(workloads.contains(&format!("href=\"/images/{container_image}\"")));
        assert!(workloads.contains("1–1 of 1 workloads"));

        // The image page: counts equal the API's, layers and downloads.
        let image_id = targets.iter().find(|t| t["kind"] == "image").unwrap()["image_id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, image) = browser.get(&format!("/images/{image_id}")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, api_image) = service
            .get(&format!("/api/v1/images/{image_id}"), &service.read)
            .await;
        for sev in ["critical", "high", "medium", "low"] {
            assert_eq!(
                shown_count(&image, "id=\"image-counts\"", sev),
                api_image["summary"]["counts"][sev].as_i64().unwrap()
            );
        }
        assert!(image.contains("id=\"layers\""));
        assert!(
            image.contains(&demo_target.replace('/', "&#x2f;")),
            "the name, escaped"
        );
        let (status, headers, sbom) = browser
            .get(&format!("/images/{image_id}/download?format=cyclonedx"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let sbom: Value = serde_json::from_str(&sbom).unwrap();
        assert_eq!(sbom["bomFormat"], "CycloneDX");

        // The hostile host by its name, with a slash-free encoded segment.
        let (status, _, host) = browser
            .get("/images/%3Cscript%3Ealert%281%29%3C%2Fscript%3E")
            .await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(!host.contains("<img src=x"), "package names are escaped");

        // A long list pages on the server, and filters are in the URL.
        let (_, _, list) = browser
            .get("/vulnerabilities?severity=LOW&q=CVE-2098")
            .await;
        assert!(list.contains("1–50 of 120 advisories"), "{list}");
        let (_, _, page3) = browser
            .get("/vulnerabilities?severity=LOW&q=CVE-2098&page=3")
            .await;
        assert!(page3.contains("101–120 of 120 advisories"));
        assert!(page3.contains("CVE-2098-0119") || page3.contains("CVE-2098-0000"));
        let (_, _, sorted) = browser
            .get("/vulnerabilities?q=CVE-2098&sort=id&dir=asc")
            .await;
        let first = sorted.find("CVE-2098-0000").unwrap();
        let second = sorted.find("CVE-2098-0001").unwrap();
        assert!(first < second, "sorted by id");

        // Trends: today's critical count for images equals the overview's.
        let (_, _, trends) = browser.get("/trends").await;
        let today_critical: i64 = {
            let at = trends.find("data-class=\"Images\"").unwrap();
            let rest = &trends[at..];
            let cell = &rest[rest.find("data-today=\"critical\">").unwrap() + 22..];
            cell[..cell.find('<').unwrap()].parse().unwrap()
        };
        assert_eq!(today_critical, sum("image", "critical"));
        assert!(trends.contains("<svg"), "a chart");

        // An exception from the vulnerability page: the form needs the session's CSRF.
        let advisory = api_image["target"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "vulnerability" && f["severity"] == "CRITICAL")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, vuln) = browser.get(&format!("/vulnerabilities/{advisory}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(vuln.contains("Add an exception"));
        let csrf = hidden(&vuln, "csrf");
        let fields = [
            ("advisory", advisory.as_str()),
            ("reason", "not reachable"),
            ("owner", "platform team"),
            ("expires", "2099-01-31"),
            ("back", "/policy"),
        ];
        let mut forged: Vec<(&str, &str)> = fields.to_vec();
        forged.push(("csrf", "forged"));
        let (status, _, _) = browser.post("/exceptions", &forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let mut good: Vec<(&str, &str)> = fields.to_vec();
        good.push(("csrf", &csrf));
        let (status, headers, body) = browser.post("/exceptions", &good).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers[LOCATION], "/policy");
        let (_, exceptions) = service.get("/api/v1/exceptions", &service.read).await;
        let e = &exceptions["exceptions"][0];
        assert_eq!(e["advisory"], advisory.as_str());
        assert_eq!(e["created_by"], "alice");
        let (_, after) = service
            .get(&format!("/api/v1/images/{image_id}"), &service.read)
            .await;
        let (_, _, image) = browser.get(&format!("/images/{image_id}")).await;
        assert_eq!(
            shown_count(&image, "id=\"image-counts\"", "critical"),
            after["summary"]["counts"]["critical"].as_i64().unwrap(),
            "the exception lowers both the same way"
        );
        assert_eq!(
            after["summary"]["counts"]["critical"].as_i64().unwrap() + 1,
            api_image["summary"]["counts"]["critical"].as_i64().unwrap()
        );

        // The CI policy from its form, then the API's verdict follows it.
        let (_, _, policy) = browser.get("/policy").await;
        assert!(policy.contains("id=\"audit\""));
        let csrf = hidden(&policy, "csrf");
        let (status, _, _) = browser
            .post(
                "/policy/ci",
                &[
                    ("csrf", &csrf),
                    ("severity", "CRITICAL"),
                    ("fixable_only", "1"),
                    ("max_image_age_days", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, ci) = service.get("/api/v1/policies/ci", &service.read).await;
        assert_eq!(ci["severity"], "CRITICAL");
        assert_eq!(ci["fixable_only"], true);
        assert_eq!(ci["updated_by"], "alice");
        let (_, log) = service.get("/api/v1/audit", &service.admin).await;
        let actions: Vec<&str> = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(actions.contains(&"policy.update") && actions.contains(&"exception.create"));

        // Remove the exception from the policy page.
        let id = e["id"].as_str().unwrap().to_string();
        let (status, _, _) = browser
            .post(
                &format!("/exceptions/{id}/delete"),
                &[("csrf", &csrf), ("back", "/policy")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, exceptions) = service.get("/api/v1/exceptions", &service.read).await;
        assert_eq!(exceptions["exceptions"].as_array().unwrap().len(), 0);

        // Sign out: the session is gone.
        let (status, _, _) = browser.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = browser.get("/").await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // A read-only token sees no edit controls and cannot post.
        let mut reader = Browser::new(&service.base);
        reader.sign_in(&service.read).await;
        let (_, _, policy) = reader.get("/policy").await;
        assert!(!policy.contains("Add an exception"));
        assert!(!policy.contains("id=\"audit\""));
        let (_, _, vuln) = reader.get(&format!("/vulnerabilities/{advisory}")).await;
        assert!(!vuln.contains("Add an exception"));
        let csrf = hidden(&vuln, "csrf");
        let mut attempt: Vec<(&str, &str)> = fields.to_vec();
        attempt.push(("csrf", &csrf));
        let (status, _, body) = reader.post("/exceptions", &attempt).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("admin scope"));
        service
    });
}

#[test]
fn pods_show_on_the_workloads_page_and_exposure_raises_the_risk() {
    on_both(|service| async move {
        let demo = demo_result(&service).await;
        let mut browser = Browser::new(&service.base);
        browser.sign_in(&service.admin).await;
        let (_, _, before) = browser.get("/").await;
        assert!(!before.contains("shop&#x2f;web@sha256:0a1b"));
        service.import(&cluster_result(&demo), "cluster:prod").await;

        // The Pods card counts the four pods and their images' findings (web-a and web-b
        // each count the web image).
        let (_, _, overview) = browser.get("/").await;
        let at = overview.find("data-class=\"Pods\"").unwrap();
        assert!(
            overview[at..].contains("<small>4 · from cluster scans</small>"),
            "{overview}"
        );
        let demo_critical = demo["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "CRITICAL")
            .count() as i64;
        assert_eq!(
            shown_count(&overview, "data-class=\"Pods\"", "critical"),
            2 * demo_critical
        );

        // The public web image outranks the same findings in the demo image itself.
        // The console escapes `/` in text and attributes.
        let esc = |s: &str| s.replace('/', "&#x2f;");
        let risky = &overview[overview.find("risk-h").unwrap()..];
        let web = risky
            .find(&esc("registry.example/shop/web@sha256:0a1b"))
            .unwrap_or_else(|| panic!("web image not listed: {risky}"));
        let plain = risky
            .find(&esc(demo["targets"][0]["name"].as_str().unwrap()))
            .expect("demo listed");
        assert!(web < plain, "exposed first: {risky}");

        // The workloads page lists the pods, public ones first, with owners and images.
        let (_, _, workloads) = browser.get("/workloads").await;
        let pods = &workloads[workloads.find("id=\"pods\"").expect("pods table")..];
        let order: Vec<usize> = ["shop/web-a", "shop/web-b", "shop/api-1", "tools/tool"]
            .iter()
            .map(|p| pods.find(&format!("data-name=\"{}\"", p)).unwrap())
            .collect();
        assert!(order[0] < order[2] && order[1] < order[2], "{pods}");
        assert!(pods.contains(&esc("Deployment/web")));
        assert!(pods.contains(&esc(
            "title=\"Ingress shop/web → Service shop/web → EndpointSlice shop/web-q8 → Pod shop/web-a\""
        )));
        assert!(pods.contains(&format!(
            "{}</span> <small>(not scanned)</small>",
            esc("quay.io/team/tool:1")
        )));
        service
    });
}

/// Whether a kubelet runs on this machine (then the node benchmark applies here).
fn kubelet_runs() -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|p| {
            std::fs::read_to_string(p.path().join("comm")).is_ok_and(|c| c.trim() == "kubelet")
        })
}

/// A compliance check as a result carries it.
fn check(id: &str, status: &str, tags: &[&str]) -> Value {
    json!({
        "id": id, "title": format!("title of {id}"), "benchmark": "CIS Docker Benchmark v1.6.0",
        "section": if id.starts_with("CIS-DOCKER-5.") { "5 Container Runtime" } else { "2 Docker daemon configuration" },
        "level": 1, "scored": true, "severity": "MEDIUM", "status": status,
        "evidence": if status == "WARN" { json!([{ "message": format!("{id} is broken") }]) } else { json!([]) },
        "tags": tags, "aliases": [],
    })
}

/// `target`'s entry in `/api/v1/compliance`'s answer.
fn compliance_target(answer: &Value, target: &str) -> Value {
    answer["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"] == target)
        .unwrap_or_else(|| panic!("{target} missing: {answer}"))
        .clone()
}

/// The section of the compliance page about `target`.
fn target_section<'a>(page: &'a str, target: &str) -> &'a str {
    let start = page
        .find(&format!("data-target=\"{target}\""))
        .unwrap_or_else(|| panic!("no {target} on {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[test]
fn compliance_runs_show_their_status_what_changed_and_their_schedule() {
    on_both(|service| async move {
        // A real node benchmark run by a worker: without a kubelet it is not supported
        // here, and says why.
        let node = service.scan_and_wait("compliance:kubernetes").await;
        assert_eq!(node["status"], "finished", "{node}");
        let checks = node["result"]["targets"][0]["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 24, "the CIS Kubernetes node section");
        // A cluster that cannot be reached fails, with the error.
        let cluster = service
            .scan_and_wait("compliance:cluster:holdfast-no-such-context")
            .await;
        assert_eq!(cluster["status"], "failed", "{cluster}");

        // Two Docker benchmark runs, a day apart: 5.4 fails anew (a HIPAA check), 2.2
        // (a PCI DSS check) is fixed, 2.1 fails in both.
        let mut older = node["result"].clone();
        older["created_at"] = json!(days_ago(2));
        older["targets"][0]["name"] = json!("docker host");
        older["targets"][0]["warnings"] = json!([]);
        older["targets"][0]["findings"] = json!([]);
        older["targets"][0]["checks"] = json!([
            check("CIS-DOCKER-2.1", "WARN", &["pci-dss"]),
            check("CIS-DOCKER-2.2", "WARN", &["pci-dss"]),
            check("CIS-DOCKER-5.4", "PASS", &["hipaa"]),
        ]);
        let mut newer = older.clone();
        newer["created_at"] = json!(days_ago(1));
        newer["targets"][0]["checks"] = json!([
            check("CIS-DOCKER-2.1", "WARN", &["pci-dss"]),
            check("CIS-DOCKER-2.2", "PASS", &["pci-dss"]),
            check("CIS-DOCKER-5.4", "WARN", &["hipaa"]),
            check("CIS-DOCKER-5.10", "NOTE", &[]),
        ]);
        service.import(&older, "compliance:docker").await;
        service.import(&newer, "compliance:docker").await;
        // Schedules: the Docker runs again on 1 January; a cluster has not run yet.
        for (name, target) in [
            ("docker-yearly", "compliance:docker"),
            ("staging", "compliance:cluster:staging"),
        ] {
            let (status, body) = service
                .call(
                    reqwest::Method::POST,
                    "/api/v1/schedules",
                    Some(&service.admin),
                    Some(json!({ "name": name, "target": target, "spec": "0 3 1 1 *" })),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }

        // The API: every target with its status.
        let (status, api) = service.get("/api/v1/compliance", &service.read).await;
        assert_eq!(status, StatusCode::OK, "{api}");
        let by_target = |t: &str| compliance_target(&api, t);
        let docker = by_target("compliance:docker");
        assert_eq!(docker["status"], "finished");
        assert_eq!(docker["counts"], json!({"PASS": 1, "WARN": 2, "NOTE": 1}));
        let ids = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids(&docker["changes"]["new_failures"]), ["CIS-DOCKER-5.4"]);
        assert_eq!(ids(&docker["changes"]["fixed"]), ["CIS-DOCKER-2.2"]);
        assert_eq!(docker["schedule"], "docker-yearly");
        assert!(docker["next_run_at"].as_i64().unwrap() > 0);
        let node_target = by_target("compliance:kubernetes");
        if kubelet_runs() {
            assert_eq!(node_target["status"], "finished");
        } else {
            assert_eq!(node_target["status"], "not supported", "{node_target}");
            assert!(node_target["detail"]
                .as_str()
                .unwrap()
                .contains("no kubelet process"));
        }
        let failed = by_target("compliance:cluster:holdfast-no-such-context");
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["detail"], cluster["error"]);
        assert_eq!(
            by_target("compliance:cluster:staging")["status"],
            "scheduled"
        );
        // Only PCI DSS checks: 2.2's fix is all that changed.
        let (_, pci) = service
            .get("/api/v1/compliance?regulation=pci-dss", &service.read)
            .await;
        let docker_pci = compliance_target(&pci, "compliance:docker");
        assert_eq!(docker_pci["counts"], json!({"PASS": 1, "WARN": 1}));
        assert!(ids(&docker_pci["changes"]["new_failures"]).is_empty());
        assert_eq!(ids(&docker_pci["changes"]["fixed"]), ["CIS-DOCKER-2.2"]);

        // The console shows the same, new failures before fixes.
        let mut browser = Browser::new(&service.base);
        browser.sign_in(&service.read).await;
        let (status, _, page) = browser.get("/compliance").await;
        assert_eq!(status, StatusCode::OK);
        let section = target_section(&page, "compliance:docker");
        assert!(section.contains("data-status=\"finished\""), "{section}");
        let new = section
            .find("data-change=\"new\" data-check=\"CIS-DOCKER-5.4\"")
            .expect("new failure listed");
        let fixed = section
            .find("data-change=\"fixed\" data-check=\"CIS-DOCKER-2.2\"")
            .expect("fix listed");
        assert!(new < fixed, "{section}");
        assert!(
            !section.contains("data-check=\"CIS-DOCKER-2.1\""),
            "unchanged"
        );
        assert!(section.contains("docker-yearly"), "{section}");
        let failed = target_section(&page, "compliance:cluster:holdfast-no-such-context");
        assert!(failed.contains("data-status=\"failed\""), "{failed}");
        let scheduled = target_section(&page, "compliance:cluster:staging");
        assert!(
            scheduled.contains("data-status=\"scheduled\""),
            "{scheduled}"
        );
        if !kubelet_runs() {
            let node = target_section(&page, "compliance:kubernetes");
            assert!(node.contains("data-status=\"not supported\""), "{node}");
        }

        // A run's page: checks by section in benchmark order, failures first, and the
        // runs of its target.
        let run_id = docker["scan_id"].as_str().unwrap();
        let (status, _, run) = browser.get(&format!("/compliance/runs/{run_id}")).await;
        assert_eq!(status, StatusCode::OK);
        let daemon = run.find("2 Docker daemon configuration").unwrap();
        let runtime = run.find("5 Container Runtime").unwrap();
        assert!(daemon < runtime);
        let warn = run
            .find("data-check=\"CIS-DOCKER-5.4\" data-status=\"WARN\"")
            .unwrap();
        let note = run
            .find("data-check=\"CIS-DOCKER-5.10\" data-status=\"NOTE\"")
            .unwrap();
        assert!(runtime < warn && warn < note, "failures first in a section");
        assert!(run.contains("CIS-DOCKER-5.4 is broken"), "evidence shown");
        let runs = &run[run.find("id=\"runs\"").unwrap()..];
        assert_eq!(runs.matches("<li>").count(), 2, "{runs}");
        // Filtered to PCI DSS, 5.4 is gone.
        let (_, _, run_pci) = browser
            .get(&format!("/compliance/runs/{run_id}?regulation=pci-dss"))
            .await;
        assert!(!run_pci.contains("data-check=\"CIS-DOCKER-5.4\" data-status"));
        assert!(run_pci.contains("data-check=\"CIS-DOCKER-2.1\" data-status=\"WARN\""));
        let (status, _, _) = browser.get("/compliance?regulation=sox").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, _) = browser.get("/compliance/runs/no-such-run").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The API's run matches the page.
        let (status, api_run) = service
            .get(&format!("/api/v1/compliance/runs/{run_id}"), &service.read)
            .await;
        assert_eq!(status, StatusCode::OK, "{api_run}");
        assert_eq!(ids(&api_run["changes"]["new_failures"]), ["CIS-DOCKER-5.4"]);
        service
    });
}
