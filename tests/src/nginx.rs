//! [`Nginx`]: the shipped `deploy/nginx.conf`, run in front of test nodes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;

/// The nginx binary: `NGINX`, skipping (or failing, under strict mode) when
/// it is not set.
pub fn available() -> Option<String> {
    crate::env::optional("NGINX", "tests behind the nginx load balancer")
}

/// An nginx process balancing over test nodes; stopped when dropped.
pub struct Nginx {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its media origin listens.
    pub media: SocketAddr,
    _dir: TempDir,
}

impl Nginx {
    /// Starts `deploy/nginx.conf` with its upstream servers replaced by
    /// `nodes` and its listeners moved to free loopback ports.
    pub fn start(nginx: &str, nodes: &[SocketAddr]) -> Self {
        Self::start_with_bucket(nginx, nodes, "http://127.0.0.1:9")
    }

    /// [`Nginx::start`], with the media origin in front of the S3 server
    /// at `bucket` (`http://host:port`) instead of the deployment's MinIO.
    pub fn start_with_bucket(nginx: &str, nodes: &[SocketAddr], bucket: &str) -> Self {
        // `cargo test` sets the variable at run time; the compile-time value
        // can name another checkout whose build cargo reused.
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let shipped = manifest.join("../deploy/nginx.conf");
        let config = std::fs::read_to_string(&shipped).expect("deploy/nginx.conf");
        let port = crate::browser::free_port();
        let media_port = crate::browser::free_port();
        let servers: String = nodes
            .iter()
            .map(|node| format!("        server {node} max_fails=1 fail_timeout=3s;\n"))
            .collect();
        let mut adapted = String::new();
        let mut servers_written = false;
        for line in config.lines() {
            if line.trim_start().starts_with("server courier-") {
                if !servers_written {
                    adapted.push_str(&servers);
                    servers_written = true;
                }
            } else if line.trim() == "listen 80;" {
                adapted.push_str(&format!("        listen 127.0.0.1:{port};\n"));
            } else if line.trim() == "listen 8081;" {
                adapted.push_str(&format!("        listen 127.0.0.1:{media_port};\n"));
            } else if line.trim() == "set $minio http://minio:9000;" {
                adapted.push_str(&format!("            set $minio {bucket};\n"));
            } else {
                adapted.push_str(line);
                adapted.push('\n');
            }
        }
        assert!(
            servers_written,
            "deploy/nginx.conf has no courier upstream servers"
        );
        assert!(
            adapted.contains(&format!("listen 127.0.0.1:{media_port};"))
                && adapted.contains(&format!("set $minio {bucket};")),
            "deploy/nginx.conf has no media origin (`listen 8081;`, `set $minio …`)"
        );
        let dir = tempfile::tempdir().expect("nginx dir");
        std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, adapted).expect("write nginx.conf");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("logs/error.log"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let media: SocketAddr = format!("127.0.0.1:{media_port}").parse().expect("address");
        let nginx = Self {
            child,
            addr,
            media,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok()
                && std::net::TcpStream::connect(media).is_ok()
            {
                return nginx;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("nginx did not start listening on {addr}");
    }
}

impl Drop for Nginx {
    /// Stops nginx with SIGTERM, so that the master takes its worker
    /// processes with it (SIGKILL would leave them running).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
