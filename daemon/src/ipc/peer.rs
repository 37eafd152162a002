//! The peer check: every connection's credentials are read from the kernel,
//! and a process of another user is refused before it can send a byte of
//! gRPC.

use std::io;

use futures_util::Stream;
use tokio::net::{UnixListener, UnixStream};
use tracing::{debug, warn};

/// Accepted connections from processes of user `uid` only.
pub fn incoming(listener: UnixListener, uid: u32) -> impl Stream<Item = io::Result<UnixStream>> {
    futures_util::stream::unfold(listener, move |listener| async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of descriptors and the like: pause rather than spin.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == uid => {
                    debug!(peer_uid = cred.uid(), peer_pid = cred.pid(), "client connected");
                    return Some((Ok(stream), listener));
                }
                Ok(cred) => {
                    warn!(
                        peer_uid = cred.uid(),
                        peer_pid = cred.pid(),
                        "refused connection from another user"
                    );
                }
                Err(error) => warn!(%error, "refused connection without peer credentials"),
            }
        }
    })
}
