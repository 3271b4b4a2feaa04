//! One loopback HTTP/1.1 responder, for what mockito cannot do: answers cut short, resets,
//! trickles, silence, floods, bytes that are not HTTP, and HTTPS with a test certificate. Each
//! connection gets its own thread; each request is recorded, then answered by a [`Reply`] the
//! test chooses from the request (its arrival order, path, headers or body).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the responder read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// 0 for the first request the responder saw, 1 for the next, ...
    pub index: usize,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The DTS action (`X-TC-Action`), empty when absent.
    pub fn action(&self) -> String {
        self.header("x-tc-action").unwrap_or_default().to_string()
    }

    /// A TC3-signed call of API 2021-12-06, as every later-stage and sync action must be.
    pub fn is_signed_2021(&self) -> bool {
        self.header("x-tc-version") == Some("2021-12-06")
            && self
                .header("authorization")
                .is_some_and(|a| a.starts_with("TC3-HMAC-SHA256 Credential="))
    }
}

/// What the responder does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Writes these bytes, then closes: a whole answer ([`response`]), part of one, or anything.
    Bytes(Vec<u8>),
    /// Writes these bytes one at a time, `gap` apart: each byte would satisfy a per-read timeout.
    Trickle { bytes: Vec<u8>, gap: Duration },
    /// Leaves the request unread, writes these bytes and closes: with unread data the close is
    /// a reset (RST), not a FIN. Plain HTTP only.
    Reset(Vec<u8>),
    /// Never answers; holds the connection until the client closes it.
    Silence,
    /// Writes `head`, then `count` copies of `chunk`, until the client stops reading.
    Flood {
        head: Vec<u8>,
        chunk: Vec<u8>,
        count: usize,
    },
}

impl Reply {
    /// `200 OK` with a JSON `body`.
    pub fn json(body: &str) -> Reply {
        Reply::Bytes(response(
            "200 OK",
            Some("application/json"),
            body.as_bytes(),
        ))
    }

    /// A whole answer with `status` (e.g. `"503 Service Unavailable"`).
    pub fn status(status: &str, content_type: &str, body: &str) -> Reply {
        Reply::Bytes(response(status, Some(content_type), body.as_bytes()))
    }
}

/// A complete HTTP/1.1 answer that closes the connection.
pub fn response(status: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let content_type = content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    let mut text = format!(
        "HTTP/1.1 {status}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    text.extend_from_slice(body);
    text
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// What every connection thread shares.
struct Shared {
    handler: Box<Handler>,
    connections: AtomicU32,
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
}

impl Shared {
    /// Records the request and asks the handler what to do with it.
    fn take(&self, raw: &[u8]) -> io::Result<Reply> {
        let mut requests = self.requests.lock().unwrap();
        let request = parse(raw, requests.len())?;
        let reply = (self.handler)(&request);
        requests.push(request);
        self.arrived.notify_all();
        Ok(reply)
    }
}

/// A server on 127.0.0.1 that lives as long as the test process.
pub struct Responder {
    port: u16,
    scheme: &'static str,
    shared: Arc<Shared>,
}

impl Responder {
    /// Plain HTTP, answering each request with what `handler` says.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Responder {
        Responder::listen("http", Box::new(handler), |stream, shared| {
            serve_plain(stream, &shared)
        })
    }

    /// Plain HTTP, answering every request with `reply`.
    pub fn always(reply: Reply) -> Responder {
        Responder::start(move |_| reply.clone())
    }

    /// Plain HTTP, answering the requests with `replies` in order; the last one repeats.
    pub fn script(replies: Vec<Reply>) -> Responder {
        assert!(!replies.is_empty(), "a script needs a reply");
        Responder::start(move |r| replies[r.index.min(replies.len() - 1)].clone())
    }

    /// HTTPS with `config`: a request is only recorded once the handshake succeeded.
    pub fn start_tls(
        config: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Responder {
        Responder::listen("https", Box::new(handler), move |stream, shared| {
            // A client that refuses the certificate ends the handshake: not our error.
            let _ = serve_tls(stream, config.clone(), &shared);
        })
    }

    fn listen(
        scheme: &'static str,
        handler: Box<Handler>,
        serve: impl Fn(TcpStream, Arc<Shared>) + Send + Sync + 'static,
    ) -> Responder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            handler,
            connections: AtomicU32::new(0),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
        });
        let serve = Arc::new(serve);
        let for_thread = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                for_thread.connections.fetch_add(1, Ordering::SeqCst);
                let (serve, shared) = (serve.clone(), for_thread.clone());
                thread::spawn(move || serve(stream, shared));
            }
        });
        Responder {
            port,
            scheme,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far, whether or not a request came on them.
    pub fn connections(&self) -> u32 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The requests read so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// `(X-TC-Action, body)` of every request so far, in order of arrival.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.requests()
            .iter()
            .map(|r| (r.action(), r.body_text()))
            .collect()
    }

    /// Blocks until `n` requests have arrived; panics after `within`.
    pub fn wait_for_requests(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        let mut requests = self.shared.requests.lock().unwrap();
        while requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{} of {n} requests in {within:?}",
                requests.len()
            );
            requests = self.shared.arrived.wait_timeout(requests, left).unwrap().0;
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens: connections are refused.
pub fn refused_url() -> String {
    // Bind and drop to get a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

fn serve_plain(mut stream: TcpStream, shared: &Shared) {
    // Peeked, not read, so that a reset can leave the request unread.
    let Ok(raw) = peek_request(&stream) else {
        return;
    };
    let Ok(reply) = shared.take(&raw) else { return };
    if !matches!(reply, Reply::Reset(_)) && stream.read_exact(&mut vec![0; raw.len()]).is_err() {
        return;
    }
    let _ = play(&mut stream, reply);
}

fn serve_tls(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    shared: &Shared,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
    let raw = read_request(&mut tls)?;
    let reply = shared.take(&raw)?;
    assert!(
        !matches!(reply, Reply::Reset(_)),
        "a reset needs plain HTTP"
    );
    let mut tls = tls.into_inner();
    play(&mut tls, reply)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn play(stream: &mut (impl Read + Write), reply: Reply) -> io::Result<()> {
    match reply {
        Reply::Bytes(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()
        }
        Reply::Trickle { bytes, gap } => {
            for byte in bytes {
                stream.write_all(&[byte])?;
                stream.flush()?;
                thread::sleep(gap);
            }
            Ok(())
        }
        Reply::Reset(bytes) => {
            stream.write_all(&bytes)?;
            stream.flush()?;
            // Let the bytes leave before the reset overtakes them.
            thread::sleep(Duration::from_millis(20));
            Ok(())
        }
        Reply::Silence => stream.read_to_end(&mut Vec::new()).map(drop),
        Reply::Flood { head, chunk, count } => {
            stream.write_all(&head)?;
            for _ in 0..count {
                // An error means the client stopped reading: that is the point.
                stream.write_all(&chunk)?;
            }
            Ok(())
        }
    }
}

/// The length of the complete request at the start of `bytes`, if it is all there.
fn complete_length(bytes: &[u8]) -> Option<usize> {
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let total = head_end + content_length(head.split("\r\n"));
    (bytes.len() >= total).then_some(total)
}

fn content_length<'a>(lines: impl Iterator<Item = &'a str>) -> usize {
    lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until a whole request (head and `Content-Length` body) has arrived, without reading it.
fn peek_request(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = stream.peek(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(length) = complete_length(&buf[..n]) {
            buf.truncate(length);
            return Ok(buf);
        }
        if n == buf.len() {
            buf.resize(2 * n, 0);
        } else {
            thread::sleep(Duration::from_millis(1)); // the rest is on its way
        }
    }
}

/// Reads one request (head and `Content-Length` body).
fn read_request(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if &raw[start..] == b"\r\n" {
            break;
        }
    }
    let length = content_length(String::from_utf8_lossy(&raw).split("\r\n"));
    let start = raw.len();
    raw.resize(start + length, 0);
    reader.read_exact(&mut raw[start..])?;
    Ok(raw)
}

fn parse(raw: &[u8], index: usize) -> io::Result<Request> {
    let invalid = || io::Error::new(io::ErrorKind::InvalidData, "not an HTTP request");
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(invalid)?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let mut first = lines.next().ok_or_else(invalid)?.split(' ');
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    Ok(Request {
        index,
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: raw[head_end + 4..].to_vec(),
    })
}
