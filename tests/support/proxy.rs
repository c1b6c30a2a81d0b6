//! A TCP proxy the test can cut and restore, standing in for an outage of a service (Redis).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards `addr` to `target` while running.
pub struct Proxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

async fn serve(listener: TcpListener, target: SocketAddr, tasks: Arc<Mutex<Vec<JoinHandle<()>>>>) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        let conn = tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
        tasks.lock().unwrap().push(conn);
    }
}

impl Proxy {
    /// Starts forwarding a new local port to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn(serve(listener, target, tasks.clone()));
        tasks.lock().unwrap().push(accept);
        Proxy {
            addr,
            target,
            tasks,
        }
    }

    /// Cuts every connection and stops listening: the service is "down".
    pub fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port: the service is back.
    pub async fn resume(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("rebind the proxy port");
        let accept = tokio::spawn(serve(listener, self.target, self.tasks.clone()));
        self.tasks.lock().unwrap().push(accept);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}
