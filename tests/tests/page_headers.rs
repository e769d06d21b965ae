//! Every public response carries the security headers — for pages a
//! strict Content-Security-Policy (scripts from this origin only, no
//! inline script, WebAssembly allowed to compile, no framing) — and the
//! built web client runs under it in Chromium with no violation reported.
//! Metrics are not on the public listener.

use courier_tests::browser::{self, Browser};
use courier_tests::{Backend, env, spawn_app_with};

/// Collects every CSP violation the page reports, from its first script.
const VIOLATIONS_PROBE: &str = "window.__csp = [];\
    document.addEventListener('securitypolicyviolation', e =>\
      window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));";

#[tokio::test]
async fn pages_carry_a_strict_policy_and_the_client_runs_under_it() {
    let Some(dist) = env::optional("COURIER_WEB_DIST", "page header tests") else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, move |s| s.web_dir = dist.into()).await;
    let base = app.http_url();
    for path in [
        "/",
        "/chats/123",
        "/sw.js",
        "/manifest.webmanifest",
        "/healthz",
    ] {
        let response = reqwest::get(format!("{base}{path}")).await.expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header("content-security-policy");
        let script = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"));
        assert_eq!(
            script,
            Some("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}: {policy}"
        );
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("object-src 'none'"), "{path}: {policy}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
    let metrics = reqwest::get(format!("{base}/metrics")).await.expect("GET");
    let body = metrics.text().await.expect("body");
    assert!(!body.contains("courier_"), "metrics on the public listener");

    let Some(driver) = browser::available() else {
        app.stop().await;
        return;
    };
    let page = Browser::start(&driver).await;
    let outcome: Result<serde_json::Value, String> = async {
        page.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": VIOLATIONS_PROBE }),
        )
        .await?;
        page.register(&base, "ana").await?;
        page.js("return window.__csp").await
    }
    .await;
    page.close().await;
    app.stop().await;
    let violations = outcome.expect("the client registers under the policy");
    assert_eq!(violations, serde_json::json!([]), "CSP violations");
}
