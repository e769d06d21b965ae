//! The `courier` binary: reads its settings, starts logging and runs the server
//! until SIGTERM or Ctrl-C.

use anyhow::Context;
use clap::Parser;
use courier_backend::{Settings, config::LogFormat, shutdown};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::parse();
    init_tracing(settings.log_format);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr().context("listener has no address")?;
    println!("Courier is running. Open http://{addr}/ in your browser.");
    courier_backend::run(listener, settings, shutdown::signal()).await
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
