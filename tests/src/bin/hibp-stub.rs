//! The HIBP stub (tests/src/hibp_stub.rs) as a process, for the scripts (scripts/lib.sh):
//!
//!     hibp-stub [--port N] [--port-file PATH] [--slow-seconds S]
//!
//! Listens on 127.0.0.1 (port 0, the default, lets the OS choose), seeded with the passwords the
//! SDK suites expect breached; prints `PORT <n>` and, with `--port-file`, writes the port there
//! once it listens (through a rename, so a reader never sees half a number).

use std::convert::Infallible;
use std::time::Duration;

use latch_tests::hibp_stub::HibpStub;

struct Args {
    port: u16,
    port_file: Option<String>,
    slow: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        port_file: None,
        slow: Duration::from_secs(10),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--port-file" => args.port_file = Some(value()?),
            "--slow-seconds" => {
                let s: f64 = value()?.parse().map_err(|e| format!("--slow-seconds: {e}"))?;
                args.slow = Duration::try_from_secs_f64(s).map_err(|e| format!("--slow-seconds: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> std::io::Result<Infallible> {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("hibp-stub: {e}\nusage: hibp-stub [--port N] [--port-file PATH] [--slow-seconds S]");
        std::process::exit(2);
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let port = listener.local_addr()?.port();
    HibpStub::serve(listener, args.slow).seed_for_sdk_suites();
    println!("PORT {port}");
    if let Some(path) = &args.port_file {
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, format!("{port}\n"))?;
        std::fs::rename(&tmp, path)?;
    }
    // The server runs on its own task; this serves until the script that started it stops it
    // (SIGTERM ends the process).
    Ok(std::future::pending().await)
}
