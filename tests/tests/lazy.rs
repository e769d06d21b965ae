//! The lazily loaded feature modules of the release client (issue #15), in
//! real Chromium: each feature works offline after a first visit (the
//! service worker keeps every module of the build), and a deployment while
//! a page is open never makes that page load a module of another build —
//! with a service worker it keeps its own build's modules until it switches
//! to the new build, without one it reloads into the new build. A feature
//! whose module is still loading shows a progress bar; one that failed to
//! load says so, with a retry.

use courier_tests::browser::{Browser, close_all};
use courier_tests::process::{WebServer, browser_setup};
use std::collections::BTreeSet;
use std::path::Path;

/// Records in the page (and across reloads, in `sessionStorage`) every
/// lazily loaded module it fetched — with the script of the build that
/// fetched it and the status — and every error it logged.
const PROBE: &str = r"
window.__errors = [];
const logError = console.error.bind(console);
console.error = (...args) => { window.__errors.push(args.map(String).join(' ')); logError(...args); };
addEventListener('error', (e) => window.__errors.push(String(e.message)));
new PerformanceObserver((list) => {
  const script = document.querySelector('script[type=module]');
  const build = script ? new URL(script.src).pathname.slice(1) : '';
  const seen = JSON.parse(sessionStorage.getItem('courier-modules') || '[]');
  for (const e of list.getEntries()) {
    const path = new URL(e.name).pathname.slice(1);
    if (/^(split|chunk)_/.test(path)) seen.push([build, path, e.responseStatus]);
  }
  sessionStorage.setItem('courier-modules', JSON.stringify(seen));
}).observe({ type: 'resource', buffered: true });
";

/// A built client's files: its script and its lazily loaded modules.
struct Build {
    script: String,
    modules: BTreeSet<String>,
    /// What its service worker caches (`FILES` in its `sw.js`).
    cached: Vec<String>,
}

impl Build {
    fn read(dist: &str) -> Self {
        let names: Vec<String> = std::fs::read_dir(dist)
            .expect("the built client")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        let script = names
            .iter()
            .find(|n| n.starts_with("courier-frontend-") && n.ends_with(".js"))
            .expect("the client's script")
            .clone();
        let modules = names
            .iter()
            .filter(|n| {
                (n.starts_with("split_") || n.starts_with("chunk_")) && n.ends_with(".wasm")
            })
            .cloned()
            .collect();
        let sw = std::fs::read_to_string(Path::new(dist).join("sw.js")).expect("sw.js");
        let files = sw
            .lines()
            .find_map(|l| l.strip_prefix("const FILES = "))
            .and_then(|l| serde_json::from_str(l.trim_end_matches(';')).ok())
            .expect("sw.js lists the build's files");
        Self {
            script,
            modules,
            cached: files,
        }
    }
}

/// Starts `page` with the [`PROBE`] (and `extra`) on every document.
async fn probe(page: &Browser, extra: &str) -> Result<(), String> {
    let source = format!("{extra}\n{PROBE}");
    page.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({ "source": source }),
    )
    .await
    .map(|_| ())
}

/// The modules the page fetched so far: (build's script, module, status).
async fn fetched(page: &Browser) -> Result<Vec<(String, String, u64)>, String> {
    let seen = page
        .js("return sessionStorage.getItem('courier-modules') || '[]';")
        .await?;
    serde_json::from_str(seen.as_str().unwrap_or("[]")).map_err(|e| e.to_string())
}

/// Fails unless every module that a page of one of `builds` loaded belongs
/// to that build.
async fn only_own_modules(page: &Browser, builds: &[&Build]) -> Result<(), String> {
    for (script, module, status) in fetched(page).await? {
        let own = builds
            .iter()
            .find(|b| b.script == script)
            .ok_or_else(|| format!("{module} fetched by an unknown build {script}"))?;
        if status == 200 && !own.modules.contains(&module) {
            return Err(format!(
                "the page of {script} loaded {module}, of another build"
            ));
        }
    }
    Ok(())
}

/// Fails if this document logged an error (a module that failed to load
/// or instantiate, a panic).
async fn no_errors(page: &Browser) -> Result<(), String> {
    let errors = page.js("return window.__errors;").await?;
    if errors == serde_json::json!([]) {
        Ok(())
    } else {
        Err(format!("the page logged errors: {errors}"))
    }
}

/// Blocks (or unblocks) the page's own requests for the lazily loaded
/// features' modules; the service worker's requests are not blocked. The
/// messenger core's module (`split_core`, and the chunks it shares) is not
/// blocked: without it the page cannot sign up.
async fn block_modules(page: &Browser, block: bool) -> Result<(), String> {
    let urls: &[&str] = if block {
        &[
            "*split_devices*",
            "*split_groups*",
            "*split_media*",
            "*split_photos*",
            "*split_voice*",
        ]
    } else {
        &[]
    };
    page.cdp("Network.enable", serde_json::json!({})).await?;
    page.cdp(
        "Network.setBlockedURLs",
        serde_json::json!({ "urls": urls }),
    )
    .await
    .map(|_| ())
}

/// Waits until the service worker controls the page and its cache holds
/// every file of `build`.
async fn precached(page: &Browser, build: &Build) -> Result<(), String> {
    page.wait_js(
        "return navigator.serviceWorker.controller !== null;",
        "the service worker in control",
    )
    .await?;
    let files = serde_json::to_string(&build.cached).map_err(|e| e.to_string())?;
    let script = format!(
        "const done = arguments[arguments.length - 1];
         const want = {files};
         caches.keys().then(async (names) => {{
           const name = names.find((n) => n.startsWith('courier-'));
           if (!name) return done(false);
           const have = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
           done(want.every((f) => have.includes(f)));
         }});"
    );
    for _ in 0..300 {
        let cached = page
            .client
            .execute_async(&script, vec![])
            .await
            .map_err(|e| e.to_string())?;
        if cached.as_bool() == Some(true) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err("the service worker did not cache every file of the build".into())
}

/// Fails unless `page`'s caches hold only the app shell (`SHELL` in
/// `sw.js`) and `build`'s files: no media, no answer of the server's
/// (#16, low: the service worker caches only the shell). The page first
/// asks the server, past its own code, for what a worker could be tempted
/// to keep: a media object, the health checks, an unknown path.
async fn only_the_shell_cached(page: &Browser, build: &Build) -> Result<(), String> {
    let mut allowed: Vec<String> = [
        "/",
        "/manifest.webmanifest",
        "/icon.svg",
        "/icon-192.png",
        "/icon-512.png",
    ]
    .map(String::from)
    .to_vec();
    allowed.extend(build.cached.iter().cloned());
    let allowed = serde_json::to_string(&allowed).map_err(|e| e.to_string())?;
    let script = format!(
        "const done = arguments[arguments.length - 1];
         const allowed = {allowed};
         const asks = ['/healthz', '/readyz', '/media/00000000-0000-0000-0000-000000000000', '/api/v1/anything', '/anything.json'];
         Promise.all(asks.map((path) => fetch(path).catch(() => null))).then(async () => {{
           const extra = [];
           for (const name of await caches.keys()) {{
             for (const request of await (await caches.open(name)).keys()) {{
               const path = new URL(request.url).pathname;
               if (!allowed.includes(path)) extra.push(path);
             }}
           }}
           done(extra);
         }});"
    );
    let extra = page
        .client
        .execute_async(&script, vec![])
        .await
        .map_err(|e| e.to_string())?;
    if extra != serde_json::json!([]) {
        return Err(format!(
            "the service worker cached more than the shell: {extra}"
        ));
    }
    Ok(())
}

/// Presses `css` (a pointer button) for `ms` milliseconds.
async fn hold(page: &Browser, css: &str, ms: u64) -> Result<(), String> {
    let press = |kind: &str| {
        format!(
            "document.querySelector('{css}').dispatchEvent(new PointerEvent('{kind}', {{bubbles: true}})); return true;"
        )
    };
    page.js(&press("pointerdown")).await?;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    page.js(&press("pointerup")).await.map(|_| ())
}

/// Clicks the chat-list entry whose name is `name`.
async fn open_chat(page: &Browser, name: &str) -> Result<(), String> {
    page.wait_text("button[data-chat]", name, 30).await?;
    let script = format!(
        "const b = [...document.querySelectorAll('button[data-chat]')]
           .find((b) => b.querySelector('.chat-name').textContent === {name:?});
         b.click(); return true;"
    );
    page.js(&script).await?;
    page.wait_text("[data-peer-name]", name, 30).await
}

#[tokio::test]
async fn every_lazy_feature_works_offline_after_a_first_visit() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let build = Build::read(&dist);
    let mut courier = WebServer::start(&bin, &dist).await;
    let url = courier.url();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../public/icon-512.png")
        .canonicalize()
        .expect("a photo");
    let ana = Browser::start(&driver).await;
    let ben = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        probe(&ana, "").await?;
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        // Online: a chat with a photo in it, and a group.
        ana.start_chat("ben").await?;
        ana.send("hello ben").await?;
        ben.send_from_list("ana", "hi ana").await?;
        ana.fill("#attach-file", &photo.display().to_string())
            .await?;
        ben.wait_text("li[data-outgoing='false'] [data-photo]", "", 30)
            .await?;
        precached(&ben, &build).await?;
        only_the_shell_cached(&ben, &build).await?;
        ana.click("#new-group-open").await?;
        ana.fill("#new-group-name", "Offline club").await?;
        ana.fill("#new-group-members", "ben").await?;
        ana.click("#new-group").await?;
        ana.wait_text("[data-peer-name]", "Offline club", 30)
            .await?;
        precached(&ana, &build).await?;

        // Offline: the server is gone; the page opens from the cache.
        courier.crash().await;
        ana.client.refresh().await.map_err(|e| e.to_string())?;
        ana.text_of("[data-phase='ready'] .chat-list", 30).await?;

        // Devices, linking and safety numbers.
        ana.tab("#devices-tab").await?;
        ana.wait_text("[data-username]", "ana", 30).await?;
        ana.text_of("#verify-name", 10).await?;
        ana.tab("#chats-tab").await?;
        // Group creation and the members panel.
        ana.click("#new-group-open").await?;
        ana.text_of("#new-group-name", 30).await?;
        ana.click("#new-group-open").await?;
        open_chat(&ana, "Offline club").await?;
        ana.click("#group-info-toggle").await?;
        ana.wait_count("li[data-member]", 2, 30).await?;
        // The media viewer.
        open_chat(&ana, "ben").await?;
        ana.text_of("li[data-outgoing='true'] [data-photo]", 30)
            .await?;
        // Image compression and the voice recorder: the photo is compressed
        // and the note recorded (sending them waits for the server).
        ana.fill("#attach-file", &photo.display().to_string())
            .await?;
        hold(&ana, "#record", 1_500).await?;
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        ana.wait_no_text("body", "could not be loaded", 1).await?;

        // Every module of the build came from the cache (status 200 while
        // the server was down), none failed, nothing else was loaded.
        let loaded: BTreeSet<String> = fetched(&ana)
            .await?
            .into_iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(_, module, _)| module)
            .collect();
        if loaded != build.modules {
            return Err(format!(
                "loaded {loaded:?}, the build has {:?}",
                build.modules
            ));
        }
        only_own_modules(&ana, &[&build]).await?;
        no_errors(&ana).await
    }
    .await;
    close_all([("ana", ana), ("ben", ben)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("every lazy feature, offline");
}

/// The second build (`COURIER_WEB_DIST_NEXT`: the same code, every module
/// renamed), which the deployment tests put in place.
fn next_dist() -> Option<String> {
    courier_tests::env::optional("COURIER_WEB_DIST_NEXT", "the deployment tests")
}

/// Waits until `page` runs the `new` build, then checks that a lazy
/// feature works there and that each build's page loaded only its own
/// modules.
async fn on_new_build(page: &Browser, old: &Build, new: &Build) -> Result<(), String> {
    let script = format!(
        "return document.querySelector('script[type=module]').src.endsWith({:?});",
        new.script
    );
    page.wait_js(&script, "the page on the new build").await?;
    page.tab("#devices-tab").await?;
    page.wait_text("[data-username]", "ana", 30).await?;
    only_own_modules(page, &[old, new]).await?;
    no_errors(page).await
}

#[tokio::test]
async fn an_open_page_keeps_its_builds_modules_across_a_deployment() {
    let (Some((bin, dist, driver)), Some(next)) = (browser_setup(), next_dist()) else {
        return;
    };
    let (old, new) = (Build::read(&dist), Build::read(&next));
    assert!(
        old.modules.is_disjoint(&new.modules),
        "the builds share a module"
    );
    let mut courier = WebServer::start(&bin, &dist).await;
    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        probe(&page, "").await?;
        // The page's own fetches of modules fail, so that none is loaded
        // yet when the deployment comes; its service worker caches them.
        block_modules(&page, true).await?;
        page.register(&courier.url(), "ana").await?;
        precached(&page, &old).await?;

        courier.redeploy(&next).await;
        block_modules(&page, false).await?;
        // The old page's first use of a feature: its module, from its cache.
        page.tab("#devices-tab").await?;
        page.wait_text("[data-username]", "ana", 30).await?;
        only_own_modules(&page, &[&old]).await?;
        if !fetched(&page)
            .await?
            .iter()
            .any(|(s, m, st)| *s == old.script && m.starts_with("split_devices") && *st == 200)
        {
            return Err("the devices module did not load".into());
        }

        // The new build's worker installs, waits, and takes over when the
        // page asks: the page reloads into the new build.
        page.js("navigator.serviceWorker.getRegistration().then((r) => r.update()); return true;")
            .await?;
        page.click("#update-now").await?;
        on_new_build(&page, &old, &new).await
    }
    .await;
    close_all([("page", page)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("a deployment under an open page, with a service worker");
}

#[tokio::test]
async fn without_a_service_worker_a_page_reloads_into_the_deployed_build() {
    let (Some((bin, dist, driver)), Some(next)) = (browser_setup(), next_dist()) else {
        return;
    };
    let (old, new) = (Build::read(&dist), Build::read(&next));
    let mut courier = WebServer::start(&bin, &dist).await;
    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        // A browser without service workers (or one that has not installed
        // it yet): the modules come from the server, which changes build.
        probe(&page, "delete Navigator.prototype.serviceWorker;").await?;
        block_modules(&page, true).await?;
        page.register(&courier.url(), "ana").await?;

        courier.redeploy(&next).await;
        block_modules(&page, false).await?;
        // The old build's module is gone: the page reloads into the new
        // build instead of loading the new build's module.
        page.tab("#devices-tab").await?;
        on_new_build(&page, &old, &new).await
    }
    .await;
    close_all([("page", page)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("a deployment under an open page, without a service worker");
}

#[tokio::test]
async fn a_feature_still_loading_shows_progress_and_a_failed_one_a_retry() {
    let Some((bin, dist, driver)) = browser_setup() else {
        return;
    };
    let build = Build::read(&dist);
    let courier = WebServer::start(&bin, &dist).await;
    let page = Browser::start(&driver).await;
    let outcome: Result<(), String> = async {
        // No service worker: the modules come from the network, which
        // first refuses them, then is slow.
        probe(&page, "delete Navigator.prototype.serviceWorker;").await?;
        block_modules(&page, true).await?;
        page.register(&courier.url(), "ana").await?;
        page.tab("#devices-tab").await?;
        page.wait_text("[data-load-failed='devices']", "could not be loaded", 30)
            .await?;
        block_modules(&page, false).await?;
        let slow = serde_json::json!({
            "offline": false,
            "latency": 2_000.0,
            "downloadThroughput": 4_000.0,
            "uploadThroughput": 4_000.0,
        });
        page.cdp("Network.emulateNetworkConditions", slow).await?;
        page.click("[data-load-failed='devices'] button").await?;
        page.wait_text("[data-loading='devices']", "Loading your devices", 10)
            .await?;
        page.text_of("[data-loading='devices'] progress", 1).await?;
        page.wait_text("[data-username]", "ana", 60).await?;
        only_own_modules(&page, &[&build]).await
    }
    .await;
    close_all([("page", page)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("progress while a feature loads, and a retry after it failed");
}
