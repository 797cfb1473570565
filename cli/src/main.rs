//! `latch`: run every route on the embedded store, and operator commands.

mod calibrate;
mod import;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use latch::bootstrap::{self, CredentialSource};

#[derive(Parser)]
#[command(
    name = "latch",
    version,
    about = "Self-hosted password authentication that speaks Stytch's Passwords API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every endpoint in one process on the embedded store (SQLite under --data-dir).
    Serve {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Directory for the database and the generated credentials.
        #[arg(long, default_value = bootstrap::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. The frontend SDK
        /// calls `https://<host>/` on port 443 only (docs/frontend-sdk.md).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM; PKCS#8, PKCS#1 or SEC1).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Show the newest messages in the local outbox (`<data-dir>/outbox/*.eml`) with their links.
    Outbox {
        #[arg(long, default_value = bootstrap::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// How many of the newest messages to show.
        #[arg(long, short = 'n', default_value_t = 1)]
        last: usize,
    },
    /// Create the DynamoDB table named by LATCH_TABLE (default `latch`) where the AWS settings
    /// point (AWS_ENDPOINT_URL for a local emulator), with TTL on `expires_at`.
    CreateTable {
        #[arg(long, env = "LATCH_TABLE", default_value = latch::store::dynamo::table::DEFAULT_TABLE)]
        table: String,
    },
    /// Import password hashes from an export (JSON Lines or CSV) through the migrate endpoints:
    /// concurrent within a rate, with progress, a summary and an error report; an interrupted
    /// run resumes where it stopped. Exit code 0: all imported; 1: some rows failed; 2: could
    /// not run; 130: interrupted.
    Import(import::ImportArgs),
    /// Find argon2id parameters whose verify meets a target time on this machine (memory first,
    /// then iterations; never below OWASP's minimum) and print the LATCH_ARGON2_* settings, the
    /// memory they need and Lambda memory sizes (docs/performance.md).
    Calibrate(calibrate::CalibrateArgs),
    /// Copy the embedded store (`<data-dir>/latch.sqlite3`) to FILE with SQLite's online backup
    /// API: a consistent snapshot, taken while `latch serve` keeps running. FILE must not exist;
    /// it is created 0600. Restoring: README, "Back up the embedded store".
    Backup {
        file: PathBuf,
        #[arg(long, default_value = bootstrap::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// List the routes, one per line: name, method, path.
    Routes,
    /// Print the OpenAPI 3.1 document (as `latch serve` answers at /openapi.json and
    /// docs/openapi.json holds).
    Openapi,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            data_dir,
            tls_cert,
            tls_key,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    Some(latch::server::Tls::from_pem_files(&cert, &key).context("loading the TLS certificate")?)
                }
                _ => None,
            };
            serve(addr, data_dir, tls).await
        }
        Command::Outbox { data_dir, last } => show_outbox(&data_dir.join("outbox"), last),
        Command::CreateTable { table } => {
            let client = latch::store::dynamo::table::client(&bootstrap::aws_config().await?);
            latch::store::dynamo::table::create(&client, &table)
                .await
                .map_err(anyhow::Error::msg)?;
            println!("Table {table} is ready (TTL on expires_at).");
            Ok(())
        }
        Command::Import(args) => std::process::exit(import::run(args).await),
        Command::Calibrate(mut args) => {
            if let Err(message) = args.validate() {
                // A usage error like clap's own: message, usage line, exit code 2.
                let mut cli = Cli::command();
                cli.build();
                match cli.find_subcommand_mut("calibrate") {
                    Some(sub) => sub.error(clap::error::ErrorKind::ArgumentConflict, message).exit(),
                    None => cli.error(clap::error::ErrorKind::ArgumentConflict, message).exit(),
                }
            }
            calibrate::run(args).await
        }
        Command::Backup { file, data_dir } => {
            let database = data_dir.join(latch::store::sqlite::DATABASE_FILE);
            latch::store::sqlite::backup(&database, &file)
                .with_context(|| format!("backing up {} to {}", database.display(), file.display()))?;
            println!("Backed up {} to {}.", database.display(), file.display());
            Ok(())
        }
        Command::Routes => {
            for r in latch::ROUTES {
                println!("{}\t{}\t{}", r.name, r.method.as_str(), r.path);
            }
            Ok(())
        }
        Command::Openapi => {
            // Not print!: a closed pipe (`latch openapi | head`) is an error to report, not a panic.
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                latch::api::openapi::document_json(latch::ROUTES).as_bytes(),
            )?;
            Ok(())
        }
    }
}

async fn serve(addr: SocketAddr, data_dir: PathBuf, tls: Option<latch::server::Tls>) -> anyhow::Result<()> {
    // A belt to the explicit modes (shared/src/files.rs): whatever this process creates is
    // private to its user (docs/security.md X3).
    // SAFETY: umask(2) only sets the process's file mode creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    let (state, creds, source) = bootstrap::from_env(&data_dir)
        .await
        .map_err(anyhow::Error::msg)
        .context("starting Latch")?;
    match source {
        CredentialSource::Environment | CredentialSource::SecretsManager => {}
        CredentialSource::GeneratedNow | CredentialSource::DataDir => {
            let verb = if source == CredentialSource::GeneratedNow {
                "generated"
            } else {
                "loaded"
            };
            // Printed (not logged) once, for the operator at the terminal, as the README says.
            println!(
                "Project credentials {verb} from {}:\n  project_id: {}\n  secret:     {}",
                data_dir.join("credentials.json").display(),
                creds.project_id,
                creds.secret
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(%local, data_dir = %data_dir.display(), "latch listening");
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Latch is listening on {scheme}://{local}/");
    // Public by design: the frontend SDK's pages embed it (LATCH_PUBLIC_TOKEN, docs/frontend-sdk.md).
    println!("  public_token: {}", state.settings.sdk.public_token);
    let limits = state.settings.serve;
    // SIGTERM is what a deploy, a restart or a scale-in sends; SIGINT is Ctrl-C at a terminal.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    latch::server::serve(listener, latch::router(state), limits, tls, async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    })
    .await?;
    // The router, and with it the store, was dropped when the last connection ended: SQLite's
    // last connection checkpoints the WAL as it closes.
    tracing::info!("latch stopped");
    Ok(())
}

fn show_outbox(dir: &std::path::Path, last: usize) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => return Err(e).with_context(|| dir.display().to_string()),
    };
    if files.is_empty() {
        println!("The outbox {} is empty.", dir.display());
        return Ok(());
    }
    // File names start with the send time, so name order is time order.
    files.sort();
    for path in files.iter().rev().take(last).rev() {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        println!("{}", path.display());
        for line in text.lines() {
            if line.starts_with("To: ") || line.starts_with("Subject: ") || line.starts_with("Date: ") {
                println!("  {line}");
            } else if line.starts_with("http://") || line.starts_with("https://") {
                println!("  link: {line}");
            }
        }
    }
    Ok(())
}
