//! A minimal SMTP receiver on loopback for the e-mail alert tests: it speaks enough SMTP
//! (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to deliver to it, and
//! keeps every message it accepts. No TLS, no AUTH: `smtp://127.0.0.1:PORT`.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One accepted message: the envelope and the data as sent (dot-stuffing undone).
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// Headers and body.
    pub data: String,
}

/// A running sink: its `smtp://` URL and the messages it accepted.
#[derive(Clone)]
pub struct SmtpSink {
    /// `smtp://127.0.0.1:PORT`.
    pub url: String,
    /// Every accepted message, in order.
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

/// The address between `<` and `>` of a `MAIL FROM:<a>` or `RCPT TO:<a>` line.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

impl SmtpSink {
    /// Starts a sink on a free loopback port.
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = session(socket, kept).await;
                });
            }
        });
        SmtpSink { url, mails }
    }

    /// The messages accepted so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    kept: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut mail = Mail::default();
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "HELO" => b"250 sink\r\n",
            "MAIL" => {
                mail = Mail {
                    from: address(&line),
                    ..Mail::default()
                };
                b"250 OK\r\n"
            }
            "RCPT" => {
                mail.to.push(address(&line));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                mail.data = data;
                kept.lock().unwrap().push(std::mem::take(&mut mail));
                b"250 OK queued\r\n"
            }
            "RSET" => {
                mail = Mail::default();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
