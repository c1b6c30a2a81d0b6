//! Database connection for both modes: a SQLite file (embedded) or Postgres (scaled).

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    Value,
};

/// Connects to `url`, creating the SQLite file and its directory when needed.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let parsed = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("DATABASE_URL {url:?} is not a valid SQLite URL"))?;
        if let Some(dir) = parsed.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            private(dir, 0o700)?;
        }
        create_private_file(parsed.get_filename())?;
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    }
    Database::connect(opts)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// Restricts `path` to its owner (`mode`), where the platform has modes.
fn private(path: &std::path::Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
    }
    let _ = (path, mode);
    Ok(())
}

/// Creates the SQLite file 0600 before SQLite does (its `-wal` and `-shm` files take the
/// database file's mode), and restricts existing ones.
fn create_private_file(db: &std::path::Path) -> anyhow::Result<()> {
    if db.as_os_str().is_empty() || db.to_str() == Some(":memory:") {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(db)
        .with_context(|| format!("cannot create the database file {}", db.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let p = std::path::PathBuf::from(name);
        if p.exists() {
            private(&p, 0o600)?;
        }
    }
    Ok(())
}

/// A statement for `conn`'s backend from SQL whose `{}` stand for the values, in order.
pub fn statement<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    let backend = conn.get_database_backend();
    Statement::from_sql_and_values(backend, placeholders(sql, backend), values)
}

fn placeholders(sql: &str, backend: DatabaseBackend) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut parts = sql.split("{}").peekable();
    let mut n = 0;
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some() {
            n += 1;
            match backend {
                DatabaseBackend::Postgres => out.push_str(&format!("${n}")),
                _ => out.push('?'),
            }
        }
    }
    out
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (a
/// transaction that reads first and writes later cannot wait for the lock: it fails "busy").
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE settings SET value = value WHERE name = 'write-lock'")
            .await?;
    }
    Ok(txn)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::DatabaseBackend;

    #[test]
    fn placeholders_follow_the_backend() {
        let sql = "UPDATE jobs SET a = {} WHERE id = {}";
        assert_eq!(
            super::placeholders(sql, DatabaseBackend::Postgres),
            "UPDATE jobs SET a = $1 WHERE id = $2"
        );
        assert_eq!(
            super::placeholders(sql, DatabaseBackend::Sqlite),
            "UPDATE jobs SET a = ? WHERE id = ?"
        );
    }

    #[test]
    fn redact_hides_password_only() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact("sqlite://./data/otoq.db"),
            "sqlite://./data/otoq.db"
        );
    }
}
