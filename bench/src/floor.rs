//! The two floors podauth is measured against, each a server process of its
//! own: a tonic unary ping on a Unix socket (what gRPC itself costs) and a
//! byte echo on a Unix socket (what the kernel and the async runtime cost).
//!
//! Both run on the runtime podauthd runs on (multi-threaded, one worker per
//! core), so that the comparison differs only in what is served. They live
//! until the conductor kills them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use self::pb::floor_server::{Floor, FloorServer};

/// Package `podauth.bench.v1`: the ping service.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)] // generated code
pub(crate) mod pb {
    tonic::include_proto!("podauth.bench.v1");
}

/// Largest read the echo server answers at once.
const ECHO_BUFFER_BYTES: usize = 64 * 1024;
/// How long a floor server may take to accept its first connection.
const START_LIMIT: Duration = Duration::from_secs(10);

/// Where a floor server listens and what it answers.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Socket to listen on (must not exist)
    #[arg(long)]
    socket: PathBuf,

    /// Bytes in every ping reply's payload
    #[arg(long, default_value_t = 0)]
    reply_bytes: usize,
}

/// The ping service: no lookup, no lock, one copy of a fixed reply.
#[derive(Debug)]
struct PingFloor {
    payload: Vec<u8>,
}

#[tonic::async_trait]
impl Floor for PingFloor {
    async fn ping(
        &self,
        _request: Request<pb::PingRequest>,
    ) -> Result<Response<pb::PingReply>, Status> {
        Ok(Response::new(pb::PingReply {
            payload: self.payload.clone(),
            expires_at_unix: i64::from(u32::MAX),
            kind: "Bearer".to_owned(),
        }))
    }
}

/// Serves the ping floor on `args.socket` until killed.
pub(crate) fn serve_ping(args: ServeArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let listener = bind(&args.socket)?;
        let floor = PingFloor { payload: vec![b'x'; args.reply_bytes] };

        Server::builder()
            .add_service(FloorServer::new(floor))
            .serve_with_incoming(UnixListenerStream::new(listener))
            .await
            .with_context(|| format!("ping floor on {} failed", args.socket.display()))
    })
}

/// Serves the echo floor on `args.socket` until killed.
pub(crate) fn serve_echo(args: ServeArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let listener = bind(&args.socket)?;
        loop {
            let (stream, _) = listener.accept().await.with_context(|| {
                format!("echo floor on {}: accept failed", args.socket.display())
            })?;
            tokio::spawn(echo(stream));
        }
    })
}

/// Writes back every byte read, until the client hangs up.
async fn echo(mut stream: UnixStream) {
    let mut buffer = vec![0; ECHO_BUFFER_BYTES];
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if stream.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// The runtime podauthd builds for itself.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime of a floor server")
}

fn bind(socket: &Path) -> anyhow::Result<UnixListener> {
    UnixListener::bind(socket).with_context(|| format!("cannot bind {}", socket.display()))
}

/// A floor server process started by the conductor; killed when dropped.
#[derive(Debug)]
pub(crate) struct FloorProcess {
    child: Child,
    /// Where it listens.
    pub(crate) socket: PathBuf,
}

impl FloorProcess {
    /// Starts this binary as `role` (`serve-ping` or `serve-echo`) on
    /// `socket`, answering pings with `reply_bytes`, and waits until it
    /// accepts a connection.
    pub(crate) fn start(role: &str, socket: PathBuf, reply_bytes: usize) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the benchmark's own binary")?;
        let child = Command::new(&exe)
            .arg(role)
            .arg("--socket")
            .arg(&socket)
            .arg(format!("--reply-bytes={reply_bytes}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {} {role}", exe.display()))?;
        let floor = Self { child, socket };

        let started = Instant::now();
        while std::os::unix::net::UnixStream::connect(&floor.socket).is_err() {
            if started.elapsed() > START_LIMIT {
                anyhow::bail!(
                    "{role} did not listen on {} within {START_LIMIT:?}",
                    floor.socket.display()
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(floor)
    }
}

impl Drop for FloorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
