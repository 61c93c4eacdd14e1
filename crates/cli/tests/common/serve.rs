//! `samtal serve` as a real process, spoken to over plain TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `samtal serve` on a free port with the tiny Llama fixture and `extra` flags, once ready.
pub fn start(extra: &[&str]) -> Server {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama");
    let mut child = Command::new(env!("CARGO_BIN_EXE_samtal"))
        .args(["serve", "--port", "0", "--model"])
        .arg(&model)
        .args(extra)
        .env(
            "SAMTAL_MODELS_DIR",
            std::env::temp_dir().join("samtal-no-models"),
        )
        // The guard scores with its n-gram model and rules only (no encoder to fetch).
        .env("SAMTAL_GUARD_ENCODER", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addr = None;
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("samtal serve: listening on http://") {
            addr = Some(a.to_owned());
        }
        said.push(line.clone());
        if line.contains("ready") {
            break;
        }
    }
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    let Some(addr) = addr else {
        panic!(
            "the server printed no address; it said:\n{}",
            said.join("\n")
        );
    };
    Server { child, addr }
}

/// One HTTP/1.1 exchange; returns the status and the body.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    headers: &[&str],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
