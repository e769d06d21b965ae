//! Features loaded on first use. In the release build (`cargo xtask`, with
//! this crate's `split` feature) the code behind each boundary that
//! [`lazy!`] marks is cut out of the first WebAssembly module by the
//! splitter (`tools/wasm-split`) into a module of its own, fetched when the
//! feature is first used; without `split` (`trunk serve`, tests) the same
//! functions are plain calls.
//!
//! Each boundary is a `wasm_split` function with `fallible`: a module that
//! cannot be fetched (offline before the service worker cached it, say)
//! gives a [`LoadError`] instead of a panic, which with `panic = "abort"`
//! would end the page. (Leptos's `#[lazy]` expands to the same `wasm_split`
//! attribute, without `fallible`.)
//!
//! Once the page is usable every feature is fetched in the background
//! ([`preload_after_first_paint`]; the service worker caches them all for
//! offline use); a feature that is used while its module is still loading
//! shows a progress bar ([`lazy_view`]). A module can only
//! come from this page's own build: the loader fetches it under its
//! content-hashed name with its integrity hash (`tools/assemble.mjs`), and
//! if it cannot, the page reloads itself into the build the server has now.

use leptos::prelude::*;
use std::future::Future;

/// A feature's module could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError;

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this part of Courier could not be loaded")
    }
}

impl From<leptos::wasm_split::SplitLoaderError> for LoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Marks `fn`s whose code belongs to the lazily loaded module `feature`.
/// Each becomes `async` and returns `Result<_, LoadError>`; `$preload`
/// names a function (one per feature) that only loads the module.
///
/// ```ignore
/// lazy! { devices, preload_devices:
///     pub fn panel(account: Account) -> AnyView { view! { … }.into_any() }
/// }
/// ```
#[macro_export]
macro_rules! lazy {
    ($feature:ident, $preload:ident: $(#[$meta:meta])* $vis:vis fn $name:ident(
        $($arg:ident: $ty:ty),* $(,)?
    ) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[cfg(feature = "split")]
        #[::leptos::wasm_split::wasm_split(
            $feature,
            wasm_split_path = ::leptos::wasm_split,
            fallible,
            preload(#[allow(dead_code)] $preload)
        )]
        $vis fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::lazy::LoadError> {
            ::core::result::Result::Ok($body)
        }

        $(#[$meta])*
        #[cfg(not(feature = "split"))]
        #[allow(clippy::unused_async)]
        $vis async fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::lazy::LoadError> {
            ::core::result::Result::Ok($body)
        }

        /// Loads this feature's module (nothing to do in an unsplit build).
        #[cfg(not(feature = "split"))]
        #[allow(dead_code, clippy::unused_async)]
        $vis async fn $preload() -> ::core::result::Result<(), ::leptos::wasm_split::SplitLoaderError> {
            ::core::result::Result::Ok(())
        }
    };
}

/// A boxed future, for lazy functions that do asynchronous work (a split
/// function itself cannot be `async`).
pub type Work<T> = std::pin::Pin<Box<dyn Future<Output = T>>>;

/// What a feature's module is loading, by name, for the progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    /// The module's name (`split_<id>.wasm`), also `data-loading`'s value.
    pub id: &'static str,
    /// What it is, for "Loading …".
    pub label: &'static str,
}

/// Shows the view that `load` gives once its feature's module is loaded:
/// until then a progress bar naming the feature; if it cannot be loaded,
/// why, with a button to try again (and a reload when a new build
/// replaced this one's modules, see [`recover`]).
pub fn lazy_view<F, Fut>(feature: Feature, load: F) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AnyView, LoadError>> + 'static,
{
    let attempt = RwSignal::new(0_u32);
    let load = std::sync::Arc::new(load);
    let fallback = move || {
        view! {
            <p class="loading-feature" role="status" data-loading=feature.id>
                {format!("Loading {}…", feature.label)}
                <progress aria-label=format!("Loading {}", feature.label)></progress>
            </p>
        }
    };
    view! {
        <Suspense fallback=fallback>
            {move || {
                attempt.track();
                let load = load.clone();
                // Single-threaded: the view's future never leaves this thread.
                Suspend::new(send_wrapper::SendWrapper::new(async move {
                    match load().await {
                        Ok(view) => view,
                        Err(err) => {
                            recover();
                            view! {
                                <p class="warning" role="alert" data-load-failed=feature.id>
                                    {format!("{}: {err}. ", feature.label)}
                                    <button on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                                </p>
                            }
                            .into_any()
                        }
                    }
                }))
            }}
        </Suspense>
    }
}

/// After a module failed to load: if the server now has another build
/// (its page names another script than this one), reload into it, since
/// this build's modules are gone; otherwise (offline) stay, and a retry
/// may work later.
pub fn recover() {
    leptos::task::spawn_local(async {
        if crate::pwa::server_has_another_build().await
            && let Some(window) = web_sys::window()
        {
            let _ = window.location().reload();
        }
    });
}

/// Every lazily loaded feature's module: the list to fetch after the first
/// paint. A new `lazy!` feature adds its preload here (and its size budget
/// to `frontend/budgets.json`).
pub fn all_features() -> Vec<Work<()>> {
    fn each(
        preload: impl Future<Output = Result<(), leptos::wasm_split::SplitLoaderError>> + 'static,
    ) -> Work<()> {
        Box::pin(async move {
            let _ = preload.await;
        })
    }
    vec![
        // The messenger core first: the page cannot send without it (the
        // worker awaits the same load, fetched once).
        each(crate::state::preload_core()),
        each(crate::pages::devices::preload_devices()),
        each(crate::components::group_info::preload_groups()),
        each(crate::components::media_view::preload_media()),
        each(crate::media::image::preload_photos()),
        each(crate::media::voice::preload_voice()),
        each(crate::applock::preload_lock()),
        each(crate::calls::preload_calls()),
        each(crate::components::emoji_picker::preload_emoji()),
        each(crate::search::preload_search()),
        each(crate::profile::preload_profile()),
    ]
}

/// Fetches every feature's module in the background after the next paint,
/// so that a feature is ready when it is first used (the app calls it once
/// its page is usable).
pub fn preload_after_first_paint(features: Vec<Work<()>>) {
    let run = move || {
        leptos::task::spawn_local(async move {
            for feature in features {
                feature.await;
            }
        });
    };
    // Two frames: the first paint has happened when the second one starts.
    request_animation_frame(move || request_animation_frame(run));
}
