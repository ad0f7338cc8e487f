//! A raw HTTP/1.1 server on 127.0.0.1 that answers from a script, including the failures
//! a real server cannot be asked for: connection resets, truncated bodies, stalls.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// A complete response.
    Respond {
        /// HTTP status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
    /// Close the connection with a TCP reset before answering.
    Reset,
    /// Send the head and part of the body, announcing more, then close.
    Truncated {
        /// HTTP status.
        status: u16,
        /// The partial body.
        body: String,
    },
    /// Wait, then do the inner step.
    Delay(Duration, Box<Step>),
}

impl Step {
    /// `status` with `body` and headers.
    pub fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        Self::Respond {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_owned(),
        }
    }

    /// `200 {"data":[]}`.
    pub fn ok() -> Self {
        Self::respond(
            200,
            &[("content-type", "application/vnd.api+json")],
            r#"{"data":[]}"#,
        )
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Hit {
    /// When it arrived.
    pub at: Instant,
    /// The request line, e.g. `GET /api/v2/... HTTP/1.1`.
    pub request_line: String,
}

/// The server; stops accepting when dropped.
#[derive(Debug)]
pub struct ScriptedServer {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Serve `script` in order, then `then` for every further request.
    pub async fn start(script: Vec<Step>, then: Step) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(e) => panic!("bind 127.0.0.1:0: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(e) => panic!("local_addr: {e}"),
        };
        let hits = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let state = (hits.clone(), script, then);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (hits, script, then) = (state.0.clone(), state.1.clone(), state.2.clone());
                tokio::spawn(serve(socket, hits, script, then));
            }
        });
        Self { addr, hits, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut socket: TcpStream,
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<VecDeque<Step>>>,
    then: Step,
) {
    loop {
        let Some(request_line) = read_head(&mut socket).await else {
            return;
        };
        if let Ok(mut hits) = hits.lock() {
            hits.push(Hit {
                at: Instant::now(),
                request_line,
            });
        }
        let step = script
            .lock()
            .ok()
            .and_then(|mut s| s.pop_front())
            .unwrap_or_else(|| then.clone());
        if !act(&mut socket, step).await {
            return;
        }
    }
}

/// Read one request head; its first line, or `None` when the peer closed.
async fn read_head(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    text.lines().next().map(str::to_owned)
}

/// Perform `step`; `false` when the connection is finished.
async fn act(socket: &mut TcpStream, step: Step) -> bool {
    match step {
        Step::Respond {
            status,
            headers,
            body,
        } => {
            let mut response = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
            for (name, value) in headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&body);
            socket.write_all(response.as_bytes()).await.is_ok()
        }
        Step::Reset => {
            // Linger zero makes the close a TCP RST. (The deprecation is about linger > 0
            // blocking the thread on drop; zero never blocks.)
            #[allow(deprecated)]
            let _ = socket.set_linger(Some(Duration::ZERO));
            false
        }
        Step::Truncated { status, body } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n",
                body.len() + 1000
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.flush().await;
            false
        }
        Step::Delay(delay, inner) => {
            tokio::time::sleep(delay).await;
            Box::pin(act(socket, *inner)).await
        }
    }
}
