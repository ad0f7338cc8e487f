//! A minimal HTTP/1.1 server loop on a raw `TcpStream`: GET only, keep-alive, no request
//! bodies. Owning the socket is what makes truncated bodies and real connection resets
//! possible, which a full HTTP framework would (rightly) refuse to produce.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::handler::{Delivery, Request, Response, Shared, reason};

const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// Request bodies are read and discarded (the API has none); past this, the client is
/// misbehaving.
const MAX_BODY: usize = 1024 * 1024;
/// Below this, head and body go out in one write (one segment for small responses).
const COALESCE: usize = 16 * 1024;

struct Head {
    request: Request,
    close: bool,
    content_length: usize,
    chunked: bool,
}

enum Parsed {
    Complete(Head, usize),
    Partial,
    Invalid(u16, &'static str),
}

/// Serves one connection until the client closes it, a response closes it, the client leaves
/// it idle for the idle timeout, or the server shuts down (between requests: an in-flight
/// response is finished first).
pub(crate) async fn serve(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Nagle would hold back the body behind the head while the client delays its ACK.
    stream.set_nodelay(true).ok();
    let mut buf = Vec::with_capacity(4096);
    loop {
        // A client gets `idle_timeout` for each request: to send all of its head (and body)
        // after connecting or after the previous response.
        let next = async {
            let Some(head) = read_head(&mut stream, &mut buf).await? else {
                return Ok(None);
            };
            if head.chunked || head.content_length > MAX_BODY {
                return Err((413, "The API takes no request body"));
            }
            match discard(&mut stream, &mut buf, head.content_length).await {
                Ok(()) => Ok(Some(head)),
                Err(_) => Ok(None),
            }
        };
        let head = tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            head = tokio::time::timeout(shared.idle_timeout, next) => head,
        };
        let head = match head {
            Ok(Ok(Some(head))) => head,
            // Closed by the client, or idle for too long: close quietly.
            Ok(Ok(None)) | Err(_) => return,
            Ok(Err((status, detail))) => {
                let response = shared.protocol_error(status, detail).await;
                write_full(&mut stream, &response, false, false).await.ok();
                return;
            }
        };
        // A response to HEAD has no body, whatever its Content-Length says.
        let head_only = head.request.method == "HEAD";
        let close = head.close;
        let response = shared.handle(head.request).await;
        let keep_alive = !close && !response.close;
        match response.delivery {
            Delivery::Full => {
                let written = write_full(&mut stream, &response, keep_alive, head_only).await;
                if written.is_err() || !keep_alive {
                    return;
                }
            }
            Delivery::Cut { after, reset } => {
                let written = write_cut(&mut stream, &response, after).await;
                if reset {
                    // On loopback the bytes written have normally reached the peer already;
                    // any still queued (a large body, a full receive window) are dropped
                    // with the RST.
                    set_reset(&stream);
                } else if written.is_ok() {
                    stream.shutdown().await.ok();
                }
                return;
            }
            Delivery::Reset => {
                set_reset(&stream);
                return;
            }
            Delivery::Repeat { length, chunked } => {
                // A client that refuses the body hangs up: nothing more to do either way.
                write_repeated(&mut stream, &response, length, chunked)
                    .await
                    .ok();
                stream.shutdown().await.ok();
                return;
            }
        }
    }
}

/// Linger 0 turns the close that follows into an RST instead of a FIN.
fn set_reset(stream: &TcpStream) {
    socket2::SockRef::from(stream)
        .set_linger(Some(Duration::ZERO))
        .ok();
}

async fn read_head(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Head>, (u16, &'static str)> {
    loop {
        if !buf.is_empty() {
            match parse_head(buf) {
                Parsed::Complete(head, consumed) => {
                    buf.drain(..consumed);
                    return Ok(Some(head));
                }
                Parsed::Partial if buf.len() > MAX_HEAD => {
                    return Err((431, "The request head is larger than 64 KiB"));
                }
                Parsed::Partial => {}
                Parsed::Invalid(status, detail) => return Err((status, detail)),
            }
        }
        buf.reserve(4096);
        match stream.read_buf(buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

fn parse_head(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let consumed = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Invalid(431, "The request has too many headers");
        }
        Err(_) => return Parsed::Invalid(400, "The request is not valid HTTP/1.1"),
    };
    let version = parsed.version.unwrap_or(1);
    let mut head = Head {
        request: Request {
            method: parsed.method.unwrap_or_default().to_owned(),
            target: parsed.path.unwrap_or("/").to_owned(),
            api_key: None,
            app_key: None,
            bearer: None,
            headers: Vec::new(),
        },
        close: version == 0,
        content_length: 0,
        chunked: false,
    };
    for header in parsed.headers.iter() {
        // A value that is not UTF-8 counts as absent.
        let value = std::str::from_utf8(header.value).unwrap_or("").trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("dd-api-key") {
            head.request.api_key = non_empty(value);
        } else if name.eq_ignore_ascii_case("dd-application-key") {
            head.request.app_key = non_empty(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            head.request.bearer = value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .and_then(|(_, token)| non_empty(token.trim()));
        } else {
            head.request
                .headers
                .push((name.to_ascii_lowercase(), value.to_owned()));
        }
        if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    head.close = true;
                } else if option.eq_ignore_ascii_case("keep-alive") && version == 0 {
                    head.close = false;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) => head.content_length = n,
                Err(_) => return Parsed::Invalid(400, "Invalid Content-Length"),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        }
    }
    Parsed::Complete(head, consumed)
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

async fn discard(stream: &mut TcpStream, buf: &mut Vec<u8>, mut length: usize) -> io::Result<()> {
    loop {
        let take = length.min(buf.len());
        buf.drain(..take);
        length -= take;
        if length == 0 {
            return Ok(());
        }
        buf.reserve(4096);
        if stream.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// The status line and the response's headers, without the framing headers.
fn response_head(response: &Response) -> String {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head
}

fn head_bytes(response: &Response, content_length: usize, keep_alive: bool) -> Vec<u8> {
    let mut head = response_head(response);
    head.push_str("content-length: ");
    head.push_str(&content_length.to_string());
    head.push_str("\r\n");
    if !keep_alive {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

async fn write_full(
    stream: &mut TcpStream,
    response: &Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let mut head = head_bytes(response, response.body.len(), keep_alive);
    if head_only {
        stream.write_all(&head).await?;
    } else if response.body.len() <= COALESCE {
        head.extend_from_slice(&response.body);
        stream.write_all(&head).await?;
    } else {
        stream.write_all(&head).await?;
        stream.write_all(&response.body).await?;
    }
    stream.flush().await
}

/// The head, then the body repeated to `length` bytes, 64 KiB at a time (as chunks of
/// `Transfer-Encoding: chunked` when `chunked`, else announced in `Content-Length`).
async fn write_repeated(
    stream: &mut TcpStream,
    response: &Response,
    length: u64,
    chunked: bool,
) -> io::Result<()> {
    const BLOCK: usize = 64 * 1024;
    let unit: &[u8] = if response.body.is_empty() {
        b" "
    } else {
        &response.body
    };
    let block: Vec<u8> = unit.iter().copied().cycle().take(BLOCK).collect();
    let mut head = if chunked {
        let mut chunked_head = response_head(response);
        chunked_head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
        chunked_head.into_bytes()
    } else {
        head_bytes(
            response,
            usize::try_from(length).unwrap_or(usize::MAX),
            false,
        )
    };
    stream.write_all(&head).await?;
    head.clear();
    let mut left = length;
    while left > 0 {
        let take = usize::try_from(left.min(BLOCK as u64)).unwrap_or(BLOCK);
        let piece = block.get(..take).unwrap_or_default();
        if chunked {
            stream.write_all(format!("{take:x}\r\n").as_bytes()).await?;
            stream.write_all(piece).await?;
            stream.write_all(b"\r\n").await?;
        } else {
            stream.write_all(piece).await?;
        }
        left -= take as u64;
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await?;
    }
    stream.flush().await
}

/// The head, announcing the whole body, and the first `after` bytes of the body.
async fn write_cut(stream: &mut TcpStream, response: &Response, after: usize) -> io::Result<()> {
    let mut out = head_bytes(response, response.body.len(), false);
    let sent = after.min(response.body.len());
    out.extend_from_slice(response.body.get(..sent).unwrap_or_default());
    stream.write_all(&out).await?;
    stream.flush().await
}
