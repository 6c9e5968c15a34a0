//! `bantam-collector`: serves the lead API and the demo page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::serve::ListenerExt;
use bantam_collector::{app, AppState, Store};

const USAGE: &str = "usage: bantam-collector [--listen ADDR:PORT] [--db PATH] [--www DIR]
  --listen  address to listen on (default 127.0.0.1:8080; port 0 picks a free one)
  --db      SQLite database file (default bantam.db)
  --www     folder served at / (default www)";

struct Args {
    listen: SocketAddr,
    db: PathBuf,
    www: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        db: PathBuf::from("bantam.db"),
        www: PathBuf::from("www"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                args.listen = v.parse().map_err(|_| {
                    format!("--listen: \"{v}\" is not ADDR:PORT, like 127.0.0.1:8080")
                })?;
            }
            "--db" => args.db = PathBuf::from(value()?),
            "--www" => args.www = PathBuf::from(value()?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument \"{other}\"")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("bantam-collector: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::open(&args.db) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("bantam-collector: cannot open {}: {err}", args.db.display());
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("bantam-collector: cannot listen on {}: {err}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or(args.listen, |a| a);
    // Without TCP_NODELAY a small response can wait for the client's delayed ACK (40 ms).
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    println!(
        "bantam-collector: listening on http://{addr}/ (database {})",
        args.db.display()
    );
    let router = app(AppState::new(store), args.www);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(term) => term,
                        Err(_) => return,
                    };
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
        })
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bantam-collector: {err}");
            ExitCode::FAILURE
        }
    }
}
