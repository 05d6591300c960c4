//! A real HTTP/1.1 server on loopback for tests: serves the files of a
//! folder or of an in-memory map (GET only, a thread per connection,
//! keep-alive), and logs the paths asked for and the connections made. The
//! one server every test crate uses.
//!
//! A [`Gate`] proves that a client downloads in parallel by events, not by
//! timing: the answers to the gated requests are held until that many of
//! them are waiting at once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Files served from memory, by request path (`/a/b.stone`); tests may
/// change them while the server runs.
pub type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

#[derive(Clone)]
enum Source {
    Dir(PathBuf),
    Files(Files),
}

impl Source {
    fn body(&self, target: &str) -> Option<Vec<u8>> {
        let path = target.split('?').next()?;
        match self {
            Source::Dir(dir) => {
                let relative = path.trim_start_matches('/');
                if relative.split('/').any(|c| c == "..") {
                    return None;
                }
                let full = dir.join(relative);
                if full.is_file() {
                    std::fs::read(full).ok()
                } else {
                    None
                }
            }
            Source::Files(files) => files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(path)
                .cloned(),
        }
    }
}

/// Holds the answers to requests whose path ends with `suffix` until
/// `together` such requests are waiting at the same time; from then on they
/// are answered at once. A client that asks one at a time would wait
/// forever, so after [`Gate::PATIENCE`] the waiting requests are answered
/// `503 gate not reached` instead: a failure that names the cause, not a hang.
#[derive(Clone)]
pub struct Gate {
    suffix: String,
    together: usize,
    state: Arc<(Mutex<GateState>, Condvar)>,
}

#[derive(Default)]
struct GateState {
    waiting: usize,
    open: bool,
}

impl Gate {
    /// A generous limit; reaching it means the client did not ask in parallel.
    pub const PATIENCE: Duration = Duration::from_secs(60);

    pub fn new(suffix: &str, together: usize) -> Self {
        Gate {
            suffix: suffix.to_string(),
            together,
            state: Arc::default(),
        }
    }

    /// Whether the gate opened (`together` requests waited at once).
    pub fn opened(&self) -> bool {
        self.state
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open
    }

    /// Waits (for a gated path) until the gate is open; false when the
    /// patience ran out first.
    fn pass(&self, path: &str) -> bool {
        if !path.ends_with(&self.suffix) {
            return true;
        }
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        state.waiting += 1;
        if state.waiting >= self.together {
            state.open = true;
            changed.notify_all();
        }
        let (state, _) = changed
            .wait_timeout_while(state, Self::PATIENCE, |s| !s.open)
            .unwrap_or_else(PoisonError::into_inner);
        state.open
    }
}

/// A running server; it stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    /// Every accepted connection, closed by [`HttpServer::shut_down`] (a
    /// client's pooled keep-alive connection must not outlive the server).
    open: Arc<Mutex<HashMap<usize, TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves the folder `dir` on an ephemeral loopback port.
    pub fn serve(dir: &Path) -> Self {
        Self::start(Source::Dir(dir.to_path_buf()), None)
    }

    /// Serves `files` (keyed by request path) on an ephemeral loopback port.
    pub fn serve_files(files: Files) -> Self {
        Self::start(Source::Files(files), None)
    }

    /// [`HttpServer::serve_files`] with the answers to some requests held
    /// back by `gate`.
    pub fn serve_files_gated(files: Files, gate: Gate) -> Self {
        Self::start(Source::Files(files), Some(gate))
    }

    fn start(source: Source, gate: Option<Gate>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let open: Arc<Mutex<HashMap<usize, TcpStream>>> = Arc::default();
        let thread = {
            let (stop, log) = (stop.clone(), log.clone());
            let (connections, open) = (connections.clone(), open.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let id = connections.fetch_add(1, Ordering::SeqCst);
                    if let Ok(clone) = conn.try_clone() {
                        open.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(id, clone);
                    }
                    let (source, log, gate) = (source.clone(), log.clone(), gate.clone());
                    let open = open.clone();
                    std::thread::spawn(move || {
                        handle(conn, &source, &log, gate.as_ref());
                        // Its clone must not keep the socket open either.
                        open.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&id);
                    });
                }
            })
        };
        HttpServer {
            addr,
            stop,
            log,
            connections,
            open,
            thread: Some(thread),
        }
    }

    /// TCP connections accepted so far (a client that pools connections
    /// makes fewer than it makes requests).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT/` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops accepting; the port is closed when this returns.
    pub fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for conn in self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
        {
            let _ = conn.1.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The server by file name: `GET /NAME` answers the bytes registered under
/// NAME. A view of [`HttpServer`] for tests that think in names, not paths.
pub struct Server {
    files: Files,
    inner: HttpServer,
}

impl Server {
    /// Serves `files` (name → content) from an ephemeral loopback port.
    pub fn start(files: HashMap<String, Vec<u8>>) -> std::io::Result<Server> {
        let files: Files = Arc::new(Mutex::new(
            files
                .into_iter()
                .map(|(name, body)| (format!("/{name}"), body))
                .collect(),
        ));
        let inner = HttpServer::serve_files(files.clone());
        Ok(Server { files, inner })
    }

    /// The URL of `name` on this server.
    pub fn url(&self, name: &str) -> String {
        self.inner.url(name)
    }

    /// Serves `content` under `name` from now on.
    pub fn put(&self, name: &str, content: Vec<u8>) {
        self.files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(format!("/{name}"), content);
    }

    /// How many requests were answered so far.
    pub fn requests(&self) -> usize {
        self.inner.requests().len()
    }
}

fn handle(conn: TcpStream, source: &Source, log: &Mutex<Vec<String>>, gate: Option<&Gate>) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        // The headers are not needed.
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim_end().is_empty() {
                break;
            }
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(target.to_string());
        if gate.is_some_and(|gate| !gate.pass(target)) {
            let refused = b"HTTP/1.1 503 gate not reached\r\nContent-Length: 0\r\n\r\n";
            if conn.write_all(refused).is_err() {
                return;
            }
            continue;
        }
        let response = match (method, source.body(target)) {
            ("GET", Some(body)) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        };
        if conn.write_all(&response).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(url_path: &str, server: &HttpServer) -> String {
        let mut conn = TcpStream::connect(server.addr).expect("connect");
        write!(
            conn,
            "GET {url_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        conn.shutdown(std::net::Shutdown::Write).expect("shutdown");
        let mut out = String::new();
        conn.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn serves_files_and_logs_requests() {
        let files: Files = Arc::new(Mutex::new(HashMap::from([(
            "/a".to_string(),
            b"hello".to_vec(),
        )])));
        let server = HttpServer::serve_files(files);
        assert!(get("/a", &server).ends_with("\r\n\r\nhello"));
        assert!(get("/b", &server).starts_with("HTTP/1.1 404"));
        assert_eq!(server.requests(), ["/a", "/b"]);
    }

    #[test]
    fn a_gate_answers_once_enough_requests_wait_together() {
        let files: Files = Arc::new(Mutex::new(HashMap::from([
            ("/a.stone".to_string(), b"a".to_vec()),
            ("/b.stone".to_string(), b"b".to_vec()),
            ("/index".to_string(), b"i".to_vec()),
        ])));
        let gate = Gate::new(".stone", 2);
        let server = HttpServer::serve_files_gated(files, gate.clone());
        // Not gated: answered at once.
        assert!(get("/index", &server).ends_with("\r\n\r\ni"));
        assert!(!gate.opened());
        let answers = std::thread::scope(|scope| {
            let a = scope.spawn(|| get("/a.stone", &server));
            let b = scope.spawn(|| get("/b.stone", &server));
            [a.join().expect("a"), b.join().expect("b")]
        });
        assert!(gate.opened());
        assert!(answers[0].ends_with("\r\n\r\na"), "{}", answers[0]);
        assert!(answers[1].ends_with("\r\n\r\nb"), "{}", answers[1]);
        assert_eq!(server.connections(), 3);
    }

    #[test]
    fn a_folder_never_serves_outside_itself() {
        let dir = std::env::temp_dir().join(format!("test-support-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("f"), b"x").expect("write");
        let server = HttpServer::serve(&dir);
        assert!(get("/f", &server).ends_with("\r\n\r\nx"));
        assert!(get("/../f", &server).starts_with("HTTP/1.1 404"));
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
