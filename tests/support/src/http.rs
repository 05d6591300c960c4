//! A small HTTP/1.1 server on loopback for tests that fetch over real HTTP:
//! `GET /NAME` answers 200 with the bytes registered under NAME, anything
//! else 404. One connection at a time, each closed after its answer.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The running server; stopped (port closed) when dropped.
pub struct Server {
    addr: SocketAddr,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `files` (name → content) from an ephemeral loopback port.
    pub fn start(files: HashMap<String, Vec<u8>>) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let files = Arc::new(Mutex::new(files));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (files2, stop2, requests2) = (files.clone(), stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    requests2.fetch_add(1, Ordering::SeqCst);
                    let _ = answer(stream, &files2);
                }
            }
        });
        Ok(Server {
            addr,
            files,
            stop,
            requests,
            thread: Some(thread),
        })
    }

    /// The URL of `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// Serves `content` under `name` from now on.
    pub fn put(&self, name: &str, content: Vec<u8>) {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.insert(name.to_string(), content);
    }

    /// How many connections were answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, files: &Mutex<HashMap<String, Vec<u8>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let name = path.strip_prefix('/').unwrap_or(path);
    let body = files
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .cloned();
    let mut out = stream;
    match body {
        Some(body) if request_line.starts_with("GET ") => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        _ => write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}
