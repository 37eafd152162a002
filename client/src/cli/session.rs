//! `podauth login`, `podauth token` and `podauth logout`: the session the
//! agent shares with every tool.

use clap::Args as ClapArgs;
use podauth::Client;
use podauth::v1::{self as pb, login_event};
use serde_json::json;

use super::prove::action_json;
use super::waiting::{BrowserArgs, Display, Spinner, follow, unix_time};
use super::{Failure, output};

#[derive(Debug, ClapArgs)]
pub(crate) struct LoginArgs {
    /// oidc-device-code (default) or oidc-auth-code
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    method: String,

    #[command(flatten)]
    browser: BrowserArgs,

    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

#[derive(Debug, ClapArgs)]
pub(crate) struct TokenArgs {
    /// Auth environment [default: the agent's default]
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    environment: String,

    /// Print one JSON document with the token and its expiry
    #[arg(long)]
    json: bool,
}

#[derive(Debug, ClapArgs)]
pub(crate) struct LogoutArgs {
    /// Auth environment [default: the agent's default]
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    environment: String,

    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

pub(crate) async fn login(mut client: Client, args: LoginArgs) -> Result<(), Failure> {
    let request = pb::LoginRequest {
        environment: args.browser.environment.clone(),
        method: args.method.clone(),
        timeout_seconds: args.browser.timeout,
        open_browser: Some(!args.browser.no_browser),
    };
    let display = Display { qr: !args.browser.no_qr };
    let mut stream = client.login(request).await?;
    let mut actions = Vec::new();
    let mut done = None;
    follow(&mut stream, |event, spinner| match event.event {
        Some(login_event::Event::UserAction(action)) => {
            display.action(&action);
            let until = unix_time(action.expires_at_unix);
            *spinner = Some(Spinner::start("waiting for you to sign in", until));
            actions.push(action);
        }
        Some(login_event::Event::Done(finished)) => done = Some(finished),
        None => {}
    })
    .await?;
    let Some(done) = done else {
        return Err(Failure::other("the agent ended the login without saying it finished"));
    };

    if args.json {
        return output::json(&json!({
            "environment": done.environment,
            "subject": done.subject,
            "access_token_expires_at_unix": done.access_token_expires_at_unix,
            "user_actions": actions.iter().map(action_json).collect::<Vec<_>>(),
        }));
    }
    outln!("logged in to {} as {}", done.environment, done.subject);
    Ok(())
}

pub(crate) async fn token(mut client: Client, args: TokenArgs) -> Result<(), Failure> {
    let token = client.token(&args.environment).await?;
    if args.json {
        return output::json(&json!({
            "access_token": token.access_token,
            "token_type": token.token_type,
            "expires_at_unix": token.expires_at_unix,
        }));
    }
    outln!("{}", token.access_token);
    Ok(())
}

pub(crate) async fn logout(mut client: Client, args: LogoutArgs) -> Result<(), Failure> {
    let outcome = client.logout(&args.environment).await?;
    if args.json {
        return output::json(&json!({
            "was_logged_in": outcome.was_logged_in,
            "revoked": outcome.revoked,
        }));
    }
    match (outcome.was_logged_in, outcome.revoked) {
        (false, _) => outln!("not logged in; nothing to do"),
        (true, true) => outln!("logged out; the identity provider revoked the session"),
        (true, false) => outln!(
            "logged out; the session is forgotten (the identity provider did not confirm revocation)"
        ),
    }
    Ok(())
}
