//! Polling creates no thread per request: the threads of a polling gate stay the same.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::net::TcpListener;

use common::*;

/// The ids of the threads of process `pid`.
fn threads_of(pid: u32) -> BTreeSet<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc lists the process's threads")
        .map(|entry| {
            let name = entry.unwrap().file_name();
            name.to_str().unwrap().parse().unwrap()
        })
        .collect()
}

#[test]
fn polls_reuse_the_same_threads() {
    // A hand-written endpoint that closes every connection, like the demo's simulator, and
    // looks at the gate's threads while each request waits for its answer: a request on a
    // thread of its own, or a name lookup on one, would show as a new thread id each time.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let running = Gate::against(&endpoint)
        .env("DTS_POLL_INTERVAL", "100ms")
        .env("DTS_TIMEOUT", "1m")
        .spawn();
    let pid = running.child.id();
    let body = answer("running", 3, "30", 0, "");
    let mut seen = Vec::new();
    for _ in 0..8 {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        read_http_request(&mut reader).unwrap();
        seen.push(threads_of(pid));
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    }
    running.signal("TERM");
    let run = running.wait();
    assert_eq!(run.code, 143, "{run:?}");
    assert!(
        seen.iter().all(|threads| *threads == seen[0]),
        "the gate's threads changed between polls: {seen:?}"
    );
    // The main thread, the signal thread and one request thread.
    assert!(seen[0].len() <= 3, "{seen:?}");
}
