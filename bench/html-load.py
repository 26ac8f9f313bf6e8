#!/usr/bin/env python3
"""Times the HTML report in headless Chromium at a given number of findings.

Makes a result with N findings (the demo image's findings, repeated with new ids and a
longer description), renders it with `holdfast report convert -f html`, opens the page
through chromedriver's WebDriver API on 127.0.0.1 and prints the page size, the time
to the load event, and the time to filter by severity, sort by id and open one detail.

Usage: bench/html-load.py [--findings N] [--holdfast BIN] [--runs K]
Needs `chromium` and `chromium-driver` (Debian packages).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "fixtures", "demo", "demo-image.tar")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)["value"]


def make_result(holdfast, n, out):
    scan = subprocess.run([holdfast, "scan", "image", "-q", "--no-cache", "-f", "json", DEMO],
                          check=True, capture_output=True).stdout
    result = json.loads(scan)
    target = result["targets"][0]
    seed = target["findings"]
    findings = []
    for i in range(n):
        f = dict(seed[i % len(seed)])
        f["id"] = f"CVE-2099-{i:05d}"
        f["description"] = ("A synthetic advisory for the benchmark; its text is about as "
                            "long as a real one. " * 4).strip()
        f["references"] = [f"https://example.invalid/advisory/{i}",
                           f"https://example.invalid/fix/{i}", f"DSA-{i}"]
        findings.append(f)
    target["findings"] = findings
    result["summary"]["findings"] = n
    with open(out, "w") as fh:
        json.dump(result, fh)


def measure(base, session, page):
    s = f"/session/{session}"
    t0 = time.monotonic()
    call(base, "POST", s + "/url", {"url": "file://" + page})
    navigate = time.monotonic() - t0
    script = """
      var t = performance.timing;
      var out = {load: t.loadEventEnd - t.navigationStart};
      var sel = document.getElementById('f-severity');
      var a = performance.now();
      sel.value = 'HIGH'; sel.dispatchEvent(new Event('change'));
      out.filter = performance.now() - a;
      sel.value = ''; sel.dispatchEvent(new Event('change'));
      a = performance.now();
      document.querySelector("th[data-key='id']").click();
      out.sort = performance.now() - a;
      a = performance.now();
      document.querySelector('tbody.finding button.toggle').click();
      out.detail = performance.now() - a;
      out.nodes = document.getElementsByTagName('*').length;
      return out;
    """
    r = call(base, "POST", s + "/execute/sync", {"script": script, "args": []})
    r["navigate"] = navigate * 1000
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=10000)
    ap.add_argument("--holdfast", default=os.path.join(ROOT, "target", "release", "holdfast"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="holdfast-html-load.")
    result = os.path.join(work, "result.json")
    page = os.path.join(work, "report.html")
    make_result(args.holdfast, args.findings, result)
    subprocess.run([args.holdfast, "report", "convert", result, "-f", "html", "-o", page],
                   check=True)
    size = os.path.getsize(page) / (1024 * 1024)

    port = free_port()
    driver = subprocess.Popen([args.chromedriver, f"--port={port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                call(base, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        runs = []
        for _ in range(args.runs):
            caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
                "binary": args.chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage"]}}}}
            session = call(base, "POST", "/session", caps)["sessionId"]
            try:
                runs.append(measure(base, session, page))
            finally:
                call(base, "DELETE", f"/session/{session}")
    finally:
        driver.terminate()
        driver.wait()

    def med(key):
        return statistics.median(r[key] for r in runs)

    print(f"{args.findings} findings, page {size:.1f} MiB, {int(med('nodes'))} DOM elements, "
          f"median of {len(runs)}:")
    print(f"  load event {med('load'):.0f} ms (navigate call {med('navigate'):.0f} ms), "
          f"filter {med('filter'):.0f} ms, sort {med('sort'):.0f} ms, "
          f"open a detail {med('detail'):.1f} ms")


if __name__ == "__main__":
    main()
