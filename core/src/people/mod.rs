//! The people of an account: members with roles, sign-up (as the deployment allows), sign-in
//! with argon2id passwords, a per-address rate limit and a lockout after repeated failures.

pub mod password;
pub mod sessions;

use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::Context;
use crate::error::{Error, Result};
use crate::plans::Plan;
pub use otoq_entities::enums::MemberRole;
use otoq_entities::{accounts, members};

/// Who may create an account from the sign-up page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignupPolicy {
    /// Anyone.
    Open,
    /// Only people invited by a member (invitations come later: for now, nobody new).
    Invite,
    /// Nobody: accounts are made with `otoq accounts create`.
    Closed,
}

impl FromStr for SignupPolicy {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s.trim() {
            "open" => Ok(SignupPolicy::Open),
            "invite" => Ok(SignupPolicy::Invite),
            "closed" => Ok(SignupPolicy::Closed),
            other => anyhow::bail!("OTOQ_SIGNUP={other:?} must be open, invite or closed"),
        }
    }
}

/// The console's settings (`OTOQ_SIGNUP*`, `OTOQ_SIGNIN_*`, `OTOQ_SESSION_DAYS`).
#[derive(Clone, Debug)]
pub struct PeopleConfig {
    /// `OTOQ_SIGNUP`: default open in the embedded mode (SQLite), closed in the scaled mode.
    pub signup: SignupPolicy,
    /// Plan of accounts made by signing up (`OTOQ_SIGNUP_PLAN`, default free).
    pub signup_plan: Plan,
    /// Wrong passwords in a row before the member is locked out (`OTOQ_SIGNIN_MAX_FAILURES`, 5).
    pub max_failures: i32,
    /// How long a lockout lasts (`OTOQ_SIGNIN_LOCKOUT_SECS`, 900).
    pub lockout: Duration,
    /// Sign-in attempts per address per minute (`OTOQ_SIGNIN_PER_MINUTE`, 20).
    pub per_minute: u64,
    /// How long a session lasts (`OTOQ_SESSION_DAYS`, 14).
    pub session_ttl: Duration,
}

impl PeopleConfig {
    /// Reads the settings; `embedded` picks the sign-up default.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        embedded: bool,
    ) -> anyhow::Result<Self> {
        let num = |name: &str, default: u64| -> anyhow::Result<u64> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a whole number")),
            }
        };
        let signup = match lookup("OTOQ_SIGNUP").filter(|v| !v.trim().is_empty()) {
            Some(v) => v.parse()?,
            None if embedded => SignupPolicy::Open,
            None => SignupPolicy::Closed,
        };
        let signup_plan = match lookup("OTOQ_SIGNUP_PLAN").filter(|v| !v.trim().is_empty()) {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("OTOQ_SIGNUP_PLAN: {e}"))?,
            None => Plan::Free,
        };
        Ok(PeopleConfig {
            signup,
            signup_plan,
            max_failures: num("OTOQ_SIGNIN_MAX_FAILURES", 5)?.clamp(1, 1000) as i32,
            lockout: Duration::from_secs(num("OTOQ_SIGNIN_LOCKOUT_SECS", 900)?.max(1)),
            per_minute: num("OTOQ_SIGNIN_PER_MINUTE", 20)?.clamp(1, 1_000_000),
            session_ttl: Duration::from_secs(num("OTOQ_SESSION_DAYS", 14)?.clamp(1, 365) * 86_400),
        })
    }
}

/// What signing up asks for.
pub struct SignUp<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub business: &'a str,
}

fn business_name(v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(Error::validation(
            "business",
            "`business` (the business name) must be 1 to 100 characters",
        ));
    }
    Ok(v.to_string())
}

async fn email_taken<C: ConnectionTrait>(conn: &C, email: &str) -> Result<bool> {
    Ok(members::Entity::find()
        .filter(members::Column::Email.eq(email))
        .one(conn)
        .await?
        .is_some())
}

/// Inserts a member through `conn`; `password` is hashed when given.
pub async fn insert_member<C: ConnectionTrait>(
    conn: &C,
    account_id: Uuid,
    email: &str,
    password: Option<&str>,
    role: MemberRole,
) -> Result<members::Model> {
    let email = email.trim().to_ascii_lowercase();
    if !crate::accounts::is_valid_email(&email) {
        return Err(Error::validation(
            "email",
            format!("`email` {email:?} is not a valid email address"),
        ));
    }
    if email_taken(conn, &email).await? {
        return Err(Error::Conflict(format!(
            "a member with email {email} already exists"
        )));
    }
    let password_hash = match password {
        Some(p) => {
            password::validate("password", p)?;
            Some(password::hash(p).await?)
        }
        None => None,
    };
    let row = members::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(account_id),
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(role),
        failed_sign_ins: Set(0),
        locked_until: Set(None),
        created_at: Set(Utc::now()),
    };
    Ok(members::Entity::insert(row)
        .exec_with_returning(conn)
        .await?)
}

/// Creates an account and its owner from the sign-up page, as the deployment allows.
pub async fn sign_up(ctx: &Context, s: &SignUp<'_>) -> Result<(accounts::Model, members::Model)> {
    if ctx.config.people.signup != SignupPolicy::Open {
        return Err(Error::Conflict(
            "sign-up is not open on this deployment: ask its operator for an account".into(),
        ));
    }
    let business = business_name(s.business)?;
    password::validate("password", s.password)?;
    let email = s.email.trim().to_ascii_lowercase();
    if email_taken(&ctx.db, &email).await? {
        return Err(Error::Conflict(format!(
            "{email} already has an account: sign in instead"
        )));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let account =
        crate::accounts::insert(&txn, &email, Some(&business), ctx.config.people.signup_plan)
            .await?;
    let owner = insert_member(
        &txn,
        account.id,
        &email,
        Some(s.password),
        MemberRole::Owner,
    )
    .await?;
    txn.commit().await?;
    Ok((account, owner))
}

/// Gives the member `email` a new password (the CLI's way to let an owner in).
pub async fn set_password(
    db: &DatabaseConnection,
    email: &str,
    new: &str,
) -> Result<members::Model> {
    password::validate("password", new)?;
    let email = email.trim().to_ascii_lowercase();
    let member = members::Entity::find()
        .filter(members::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or(Error::NotFound("member"))?;
    let mut m = member.into_active_model();
    m.password_hash = Set(Some(password::hash(new).await?));
    m.failed_sign_ins = Set(0);
    m.locked_until = Set(None);
    Ok(m.update(db).await?)
}

/// The CLI's `accounts set-password`: gives the member `email` a new password, or — for an
/// account made before the console existed, which has no members yet — makes the account's own
/// email its owner with that password.
pub async fn set_owner_password(
    db: &DatabaseConnection,
    email: &str,
    new: &str,
) -> Result<members::Model> {
    password::validate("password", new)?;
    let email = email.trim().to_ascii_lowercase();
    if email_taken(db, &email).await? {
        return set_password(db, &email, new).await;
    }
    let account = accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("account or member"))?;
    let has_members = members::Entity::find()
        .filter(members::Column::AccountId.eq(account.id))
        .one(db)
        .await?
        .is_some();
    if has_members {
        // Its members were chosen by its owner: the CLI does not add one behind their back.
        return Err(Error::NotFound("member"));
    }
    insert_member(db, account.id, &email, Some(new), MemberRole::Owner).await
}

/// The account's members, oldest first.
pub async fn list(db: &DatabaseConnection, account_id: Uuid) -> Result<Vec<members::Model>> {
    Ok(members::Entity::find()
        .filter(members::Column::AccountId.eq(account_id))
        .order_by_asc(members::Column::CreatedAt)
        .all(db)
        .await?)
}

/// How a sign-in attempt ended.
#[derive(Debug)]
pub enum SignIn {
    Ok(members::Model),
    /// Wrong email or password (never which).
    Invalid,
    /// Too many wrong passwords: refused until then, even with the right one.
    Locked {
        until: chrono::DateTime<Utc>,
    },
    /// Too many attempts from this address; retry after this many seconds.
    RateLimited {
        retry_after: u64,
    },
}

/// Checks `email` and `password`, counting failures towards the lockout; `client` is the
/// caller's address for the rate limit.
pub async fn sign_in(ctx: &Context, email: &str, password: &str, client: &str) -> Result<SignIn> {
    let cfg = &ctx.config.people;
    let d = ctx
        .limiter
        .hit(
            &format!("signin:{client}"),
            cfg.per_minute,
            Duration::from_secs(60),
        )
        .await;
    if !d.allowed {
        return Ok(SignIn::RateLimited {
            retry_after: d.retry_after(crate::ratelimit::unix_now()),
        });
    }
    let email = email.trim().to_ascii_lowercase();
    let member = members::Entity::find()
        .filter(members::Column::Email.eq(email))
        .one(&ctx.db)
        .await?;
    let Some(member) = member else {
        password::verify(password, None).await;
        return Ok(SignIn::Invalid);
    };
    let now = Utc::now();
    if let Some(until) = member.locked_until.filter(|u| *u > now) {
        return Ok(SignIn::Locked { until });
    }
    let ok = password::verify(password, member.password_hash.as_deref()).await;
    let mut m = member.clone().into_active_model();
    if ok {
        if member.failed_sign_ins != 0 || member.locked_until.is_some() {
            m.failed_sign_ins = Set(0);
            m.locked_until = Set(None);
            return Ok(SignIn::Ok(m.update(&ctx.db).await?));
        }
        return Ok(SignIn::Ok(member));
    }
    let failures = member.failed_sign_ins + 1;
    if failures >= cfg.max_failures {
        let until =
            now + chrono::Duration::from_std(cfg.lockout).unwrap_or(chrono::Duration::minutes(15));
        m.failed_sign_ins = Set(0);
        m.locked_until = Set(Some(until));
        m.update(&ctx.db).await?;
        return Ok(SignIn::Locked { until });
    }
    m.failed_sign_ins = Set(failures);
    m.update(&ctx.db).await?;
    Ok(SignIn::Invalid)
}
