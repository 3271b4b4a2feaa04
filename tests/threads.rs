//! Polling creates no thread per request: the threads of a polling gate stay the same.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::http::{Reply, Responder};
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
    // The kit's responder closes every connection, like the demo's simulator; it looks at the
    // gate's threads while each request waits for its answer: a request on a thread of its
    // own, or a name lookup on one, would show as a new thread id each time.
    let gate_pid: Arc<Mutex<Option<u32>>> = Arc::default();
    let seen: Arc<Mutex<Vec<BTreeSet<u32>>>> = Arc::default();
    let body = answer("running", 3, "30", 0, "");
    let responder = {
        let (gate_pid, seen) = (gate_pid.clone(), seen.clone());
        Responder::start(move |_| {
            if let Some(pid) = *gate_pid.lock().unwrap() {
                seen.lock().unwrap().push(threads_of(pid));
            }
            Reply::json(&body)
        })
    };
    let running = Gate::against(&responder.url())
        .env("DTS_POLL_INTERVAL", "100ms")
        .env("DTS_TIMEOUT", "1m")
        .spawn();
    *gate_pid.lock().unwrap() = Some(running.child.id());
    // The first request may come before the pid is known: wait for eight seen ones.
    responder.wait_for_requests(9, Duration::from_secs(20));
    running.signal("TERM");
    let run = running.wait();
    assert_eq!(run.code, 143, "{run:?}");
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 8, "{seen:?}");
    assert!(
        seen.iter().all(|threads| *threads == seen[0]),
        "the gate's threads changed between polls: {seen:?}"
    );
    // The main thread, the signal thread and one request thread.
    assert!(seen[0].len() <= 3, "{seen:?}");
}
