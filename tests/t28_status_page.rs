//! The status page (`GET /`) in a real headless browser (Debian's chromium) against a live
//! cluster: the page's own script must fetch and render members, leader, term and instances.
//! Skips without chromium unless METARAFT_REQUIRE_BROWSER=1 (CI sets it where it can install it).

mod common;

use std::process::Command;

use common::Cluster;
use common::TOKEN;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Runs headless chromium on `url` with `extra` (e.g. `--dump-dom`); returns stdout.
fn browse(bin: &str, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_page_renders_the_live_cluster() {
    let Some(bin) = chromium() else {
        assert!(std::env::var_os("METARAFT_REQUIRE_BROWSER").is_none(), "METARAFT_REQUIRE_BROWSER=1 but no chromium");
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let c = Cluster::start("t28-status-page");
    let leader = c.leader();
    let follower = c.followers()[0];
    c.create_ok(leader, "page-inst-1");
    c.create_ok(follower, "page-inst-2");
    let body = r#"{"instance_id":"page-inst-1","cluster":{"cluster_id":"c1","cluster_name":"computeA","type":"COMPUTE","nodes":[{"cloud_unique_id":"1:page-inst-1:a","ip":"10.0.0.1","heartbeat_port":9050},{"cloud_unique_id":"1:page-inst-1:b","ip":"10.0.0.2","heartbeat_port":9050}]}}"#;
    let r = c.api(leader, "add_cluster", "", Some(body)).unwrap();
    assert!(r.is_ok(), "add_cluster: {r:?}");

    // Served on any member; plain HTML without the token, data only with it.
    let r = c.request(follower, "GET", "/", None).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<title>metaraft status</title>"));

    let url = format!("{}/?token={TOKEN}", c.base(follower));
    let dom = browse(bin, &url, &["--dump-dom"]);
    let status = c.status(follower).unwrap();
    let term = status["term"].as_u64().unwrap();
    assert!(dom.contains(&format!("node {follower} (Follower), leader {leader}, term {term}")), "{dom}");
    assert!(dom.contains("<td>page-inst-1</td>") && dom.contains("<td>page-inst-2</td>"), "{dom}");
    assert!(dom.contains("computeA (COMPUTE, 2 nodes)"), "{dom}");
    for id in 1..=3 {
        assert!(dom.contains(&format!("<td>{}</td>", c.addr(id))), "member {id} listed: {dom}");
    }
    assert!(dom.contains(r#"<div id="error"></div>"#), "the page reported an error: {dom}");

    // A wrong token: the page says so instead of showing data.
    let dom = browse(bin, &format!("{}/?token=wrong", c.base(leader)), &["--dump-dom"]);
    assert!(dom.contains("403 incorrect token"), "{dom}");
    assert!(!dom.contains("page-inst-1"), "{dom}");

    // A screenshot for people, kept out of the repo.
    let shot = std::env::temp_dir().join("metaraft-status-page.png");
    browse(bin, &url, &[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "screenshot written");
    eprintln!("status page screenshot: {}", shot.display());
}
