//! The `courier` binary: reads its settings, starts logging and runs the server
//! until SIGTERM or Ctrl-C.

use anyhow::Context;
use clap::Parser;
use courier_backend::{Settings, config::LogFormat, shutdown};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    #[cfg(feature = "dhat-heap")]
    heap_profile::start();
    let settings = Settings::parse();
    init_tracing(settings.log_format);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr().context("listener has no address")?;
    println!("Courier is running. Open http://{addr}/ in your browser.");
    let result = courier_backend::run(listener, settings, shutdown::signal()).await;
    #[cfg(feature = "dhat-heap")]
    heap_profile::finish();
    result
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("COURIER_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// `cargo build --release -p courier-backend --features dhat-heap`: the server
/// with dhat's heap profiler as its allocator, for finding where memory goes
/// (docs/benchmarks.md, "Where the memory goes"). Every allocation is
/// recorded with its call stack, which makes the server several times
/// slower: never ship it.
#[cfg(feature = "dhat-heap")]
mod heap_profile {
    use std::sync::Mutex;
    use tokio::signal::unix::{SignalKind, signal};

    #[global_allocator]
    static ALLOC: dhat::Alloc = dhat::Alloc;

    static PROFILER: Mutex<Option<dhat::Profiler>> = Mutex::new(None);

    /// Starts recording; on SIGUSR1 (or when the process exits normally)
    /// the profile is written to `$COURIER_DHAT_FILE` (`dhat-heap.json` by
    /// default), open it in dhat's viewer (`dh_view.html`) or summarise it
    /// with `loadgen/dhat-summary.py`. "At t-end" then means: live when the
    /// signal came, such as the sockets an idle benchmark holds open.
    pub fn start() {
        let file = std::env::var("COURIER_DHAT_FILE").unwrap_or_else(|_| "dhat-heap.json".into());
        let profiler = dhat::Profiler::builder().file_name(file).build();
        *PROFILER.lock().unwrap_or_else(|p| p.into_inner()) = Some(profiler);
        tokio::spawn(async {
            let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
                eprintln!("cannot listen for SIGUSR1: the heap profile is written at exit");
                return;
            };
            usr1.recv().await;
            finish();
        });
    }

    /// Stops recording and writes the profile (once; later calls do nothing).
    pub fn finish() {
        let profiler = PROFILER.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(profiler);
    }
}
