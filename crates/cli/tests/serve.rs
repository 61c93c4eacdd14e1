//! `samtal serve` end to end: the real binary on a free port with the tiny Llama fixture, spoken
//! to over plain TCP.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::serve::{request, start, Server};

#[test]
fn serves_answers_errors_and_stops_cleanly_on_sigterm() {
    let mut srv = start(&["--api-key", "k1", "--body-timeout", "1"]);
    let addr = srv.addr.clone();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "binds to localhost by default: {addr}"
    );
    let (st, body) = request(&addr, "GET", "/health", "", &[]);
    assert_eq!((st, body.contains("ok")), (200, true), "{body}");
    let chat = r#"{"messages":[{"role":"user","content":"Hi"}],"max_tokens":4}"#;
    let (st, body) = request(
        &addr,
        "POST",
        "/v1/chat/completions",
        chat,
        &["Authorization: Bearer k1"],
    );
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"chat.completion\""));
    let (st, body) = request(
        &addr,
        "POST",
        "/v1/chat/completions",
        chat,
        &["Authorization: Bearer nope"],
    );
    assert_eq!(st, 401, "{body}");
    assert!(body.contains("\"error\""));

    // A slow sender is cut off with 408, and the server goes on.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    slow.write_all(
        format!("POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer k1\r\nContent-Length: 100\r\n\r\n{{\"mess").as_bytes(),
    )
    .unwrap();
    let mut resp = String::new();
    let _ = slow.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    let (st, _) = request(
        &addr,
        "POST",
        "/v1/chat/completions",
        chat,
        &["Authorization: Bearer k1"],
    );
    assert_eq!(st, 200);

    // SIGTERM: a clean exit.
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(srv.child.id() as i32, libc::SIGTERM);
    }
    let status = srv.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// With the default model (long answers take a while): a full queue answers 429 with
/// Retry-After, and a streaming client that goes away stops its generation.
#[test]
fn a_full_queue_is_429_and_a_gone_client_is_cancelled() {
    let Some(model) = std::env::var_os("SAMTAL_MODEL") else {
        eprintln!("\n!!! SKIP: set SAMTAL_MODEL to the default model to run this test\n");
        return;
    };
    let model = model.to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_samtal"))
        .args([
            "serve",
            "--port",
            "0",
            "--parallel",
            "1",
            "--queue",
            "0",
            "--model",
            &model,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addr = String::new();
    // What the server said, for the message if it never says where it listens.
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("samtal serve: listening on http://") {
            addr = a.to_owned();
        }
        let ready = line.contains("ready");
        said.push(line);
        if ready {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(
        !addr.is_empty(),
        "the server gave no address; it said {said:?}"
    );
    let srv = Server { child, addr };
    let addr = srv.addr.clone();

    let body = r#"{"messages":[{"role":"user","content":"Write a very long story about a dragon and a knight."}],"max_tokens":2000,"stream":true,"temperature":0}"#;
    let mut long = TcpStream::connect(&addr).unwrap();
    long.write_all(
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    // Wait for the first content chunk: the only worker is busy from here on. (A refusal would
    // have no content: fail after a minute rather than wait forever on the open connection.)
    long.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut reader = BufReader::new(long.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 && !line.contains("\"content\":\"") {
        line.clear();
    }
    let (st, busy) = request(
        &addr,
        "POST",
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#,
        &[],
    );
    assert_eq!(st, 429, "{busy}");
    assert!(busy.contains("rate_limit_exceeded"));

    // The client goes away: generation stops well before 2,000 tokens.
    drop(reader);
    drop(long);
    let generated = || -> u64 {
        let (_, m) = request(&addr, "GET", "/metrics", "", &[]);
        m.lines()
            .find_map(|l| l.strip_prefix("samtal_generated_tokens_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let mut last = u64::MAX;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        let now = generated();
        if now > 0 && now == last {
            break;
        }
        last = now;
    }
    assert!(
        last > 0 && last < 1500,
        "{last} tokens generated after the client left"
    );
    let (st, _) = request(
        &addr,
        "POST",
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#,
        &[],
    );
    assert_eq!(st, 200);
}
