//! A hostile upstream for `tests/proxy.rs`, on a loopback port 0: by path, an answer far larger
//! than the body cap, silence, bytes that are not HTTP, a body cut short, JSON nested too deep.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Size of the huge answer.
pub const HUGE: usize = 20 * 1024 * 1024;

/// Starts the server; its base URL.
pub async fn start() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream));
        }
    });
    format!("http://{addr}")
}

async fn answer(mut s: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let ok = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
        )
    };
    if path.ends_with("/huge") {
        let _ = s.write_all(ok(HUGE).as_bytes()).await;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..HUGE / chunk.len() {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    } else if path.ends_with("/silent") {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    } else if path.ends_with("/garbage") {
        let _ = s.write_all(b"this is not HTTP at all\r\n\r\n").await;
    } else if path.ends_with("/cut") {
        let _ = s.write_all(ok(100).as_bytes()).await;
        let _ = s.write_all(b"{\"job\": {").await;
    } else {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let _ = s.write_all(ok(deep.len()).as_bytes()).await;
        let _ = s.write_all(deep.as_bytes()).await;
    }
    let _ = s.shutdown().await;
}
