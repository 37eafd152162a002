//! `podauth status` and `podauth methods`.

use clap::Args as ClapArgs;
use podauth::Client;
use serde_json::json;

use super::{Failure, output};

#[derive(Debug, ClapArgs)]
pub(crate) struct StatusArgs {
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

#[derive(Debug, ClapArgs)]
pub(crate) struct MethodsArgs {
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

pub(crate) async fn status(mut client: Client, args: StatusArgs) -> Result<(), Failure> {
    let status = client.status().await?;

    if args.json {
        let pending: Vec<_> = status
            .pending
            .iter()
            .map(|p| {
                json!({
                    "request_id": p.request_id,
                    "method": p.method,
                    "environment": p.environment,
                    "waiting_pod_ids": p.waiting_pod_ids,
                    "seconds_left": p.seconds_left,
                })
            })
            .collect();
        return output::json(&json!({
            "version": status.version,
            "pid": status.pid,
            "uptime_seconds": status.uptime_seconds,
            "socket_path": status.socket_path,
            "callback_url": status.callback_url,
            "default_environment": status.default_environment,
            "environments": status.environments,
            "config_path": (!status.config_path.is_empty()).then_some(&status.config_path),
            "store_backend": status.store_backend,
            "store_reason": status.store_reason,
            "sessions": status.sessions.iter().map(|s| json!({
                "environment": s.environment,
                "subject": s.subject,
                "access_token_expires_at_unix": s.access_token_expires_at_unix,
            })).collect::<Vec<_>>(),
            "pending": pending,
        }));
    }

    let environments: Vec<String> = status
        .environments
        .iter()
        .map(|name| {
            if *name == status.default_environment {
                format!("{name} (default)")
            } else {
                name.clone()
            }
        })
        .collect();
    let config = if status.config_path.is_empty() {
        "none (built-in defaults)".to_owned()
    } else {
        status.config_path.clone()
    };

    outln!(
        "podauthd {} (pid {}), up {}",
        status.version,
        status.pid,
        output::duration(status.uptime_seconds)
    );
    outln!("socket:        {}", status.socket_path);
    outln!("callback url:  {}", status.callback_url);
    outln!("environments:  {}", environments.join(", "));
    outln!("config:        {config}");
    if status.store_reason.is_empty() {
        outln!("token store:   {}", status.store_backend);
    } else {
        outln!("token store:   {} ({})", status.store_backend, status.store_reason);
    }
    for session in &status.sessions {
        outln!("session:       {} as {}", session.environment, session.subject);
    }
    if status.pending.is_empty() {
        outln!("pending:       none");
    }
    for pending in &status.pending {
        outln!(
            "pending:       {} {} in {}: waiting for {} ({} left)",
            pending.request_id,
            pending.method,
            pending.environment,
            pending.waiting_pod_ids.join(", "),
            output::duration(pending.seconds_left),
        );
    }
    Ok(())
}

pub(crate) async fn methods(mut client: Client, args: MethodsArgs) -> Result<(), Failure> {
    let methods = client.methods().await?;

    if args.json {
        let list: Vec<_> = methods
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "default": m.is_default,
                    "uses_callback": m.uses_callback,
                    "description": m.description,
                })
            })
            .collect();
        return output::json(&json!({ "methods": list }));
    }

    for method in &methods {
        let default = if method.is_default { " (default)" } else { "" };
        outln!("{:<18} {}{default}", method.name, method.description);
    }
    Ok(())
}
