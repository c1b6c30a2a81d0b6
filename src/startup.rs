//! Builds and runs the processes: `serve` (API + workers), `api`, `worker`, `migrate`.

use std::net::SocketAddr;

use anyhow::Context as _;
use otoq_core::config::Config;
use otoq_core::{Context, accounts, plans::Plan};
use otoq_migrations::{Migrator, MigratorTrait};
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which parts a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Migrate, then API and workers in one process.
    Serve,
    /// The HTTP API only.
    Api,
    /// The workers only.
    Worker,
}

/// A running otoq process (or its in-process twin in tests).
pub struct Running {
    /// Where the API listens, when it runs.
    pub addr: Option<SocketAddr>,
    /// The shared handles.
    pub ctx: Context,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Asks every part to stop and waits for it.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // Counted requests not yet written are kept for the next start.
        self.ctx.limiter.flush().await;
    }

    /// Waits until the process is told to stop by a signal, then stops.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

/// Applies every pending migration.
pub async fn migrate(ctx: &Context) -> anyhow::Result<()> {
    Migrator::up(&ctx.db, None)
        .await
        .context("running migrations")?;
    Ok(())
}

/// Connects and starts `role`. With `Role::Serve` the schema is migrated first.
pub async fn start(mut config: Config, role: Role) -> anyhow::Result<Running> {
    let listener = if role != Role::Worker {
        let acceptor = TcpListener::bind(config.bind)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no address")?;
        if !config.public_url_configured {
            config.public_url = format!("http://{addr}");
        }
        Some((acceptor, addr))
    } else {
        None
    };
    let ctx = Context::connect(config).await?;
    if role == Role::Serve {
        migrate(&ctx).await?;
    }
    // An unusable key file (empty, short), or no OTOQ_SECRET_KEY in the scaled mode, refuses
    // to start rather than seal with a key anyone could read or guess.
    ctx.secret_box().await?;
    let (shutdown, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut addr = None;
    if let Some((acceptor, a)) = listener {
        addr = Some(a);
        let app = otoq_api::app(ctx.clone());
        let mut rx = rx.clone();
        let limits = ctx.config.server.clone();
        tasks.push(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|v| *v).await;
            };
            crate::server::serve(acceptor, app, limits, stop).await;
        }));
        tracing::info!(%a, public_url = %ctx.config.public_url, "API listening");
    }
    if role != Role::Api {
        let ctx = ctx.clone();
        let rx = rx.clone();
        tasks.push(tokio::spawn(otoq_worker::run(ctx, rx)));
    }
    Ok(Running {
        addr,
        ctx,
        shutdown,
        tasks,
    })
}

/// Creates an account and prints `{"account_id", "api_key"}`.
pub async fn create_account(
    config: Config,
    email: &str,
    name: Option<&str>,
    plan: Plan,
    password: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let ctx = Context::connect(config).await?;
    migrate(&ctx).await?;
    if let Some(p) = password {
        otoq_core::people::password::validate("password", p).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let created = accounts::create(&ctx.db, email, name, plan)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    otoq_core::people::insert_member(
        &ctx.db,
        created.account.id,
        &created.account.email,
        password,
        otoq_core::people::MemberRole::Owner,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if password.is_some() {
        eprintln!(
            "the owner signs in at {}/signin with {}",
            ctx.config.public_url, created.account.email
        );
    }
    Ok(serde_json::json!({ "account_id": created.account.id, "api_key": created.key.plaintext }))
}

/// `otoq accounts set-password`: see `otoq_core::people::set_owner_password`.
pub async fn set_owner_password(config: Config, email: &str, password: &str) -> anyhow::Result<()> {
    let ctx = Context::connect(config).await?;
    migrate(&ctx).await?;
    let member = otoq_core::people::set_owner_password(&ctx.db, email, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "{} signs in at {}/signin",
        member.email, ctx.config.public_url
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
