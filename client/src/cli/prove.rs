//! `podauth prove`: asks the agent for one proof per Pod and prints them.
//!
//! What the user must do (open a URL, confirm a code) goes to stderr as it
//! streams in; the proofs go to stdout at the end, so that
//! `podauth prove ... --json > proofs.json` still shows the instructions.

use clap::Args as ClapArgs;
use podauth::Client;
use podauth::v1::{self as pb, proof, prove_event};
use serde_json::{Value, json};

use super::task;
use super::waiting::{BrowserArgs, Display, Spinner, follow, unix_time};
use super::{Failure, output};

#[derive(Debug, ClapArgs)]
pub(crate) struct ProveArgs {
    /// Method: oidc-device-code, oidc-auth-code or saml [default: the agent's, oidc-device-code]
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    method: String,

    /// A Pod to prove your identity to (repeat for several)
    #[arg(long = "pod", value_name = "ID", required_unless_present = "task")]
    pods: Vec<String>,

    /// A task file (YAML) naming the Pods (pods.identifiers) and the method
    /// (modeller.identity_verification_method)
    #[arg(long, value_name = "FILE", conflicts_with = "pods")]
    task: Option<std::path::PathBuf>,

    /// The OIDC client id the Pods sent: once for all Pods, or once per Pod in order
    #[arg(long = "client-id", value_name = "CID")]
    client_ids: Vec<String>,

    /// saml: the Pod's SAMLRequest (HTTP-Redirect encoding), @FILE to read it
    /// from a file, or - for stdin; once per Pod, in order
    #[arg(long = "saml-request", value_name = "VALUE")]
    saml_requests: Vec<String>,

    /// saml: the IdP single sign-on URL [default: the environment's]
    #[arg(long, value_name = "URL")]
    idp_sso_url: Option<String>,

    #[command(flatten)]
    browser: BrowserArgs,

    /// Print one JSON document with every proof
    #[arg(long)]
    json: bool,
}

pub(crate) async fn prove(mut client: Client, mut args: ProveArgs) -> Result<(), Failure> {
    if let Some(path) = &args.task {
        let task = task::read(path).map_err(Failure::usage)?;
        if args.method.is_empty() {
            args.method = task.method.unwrap_or_default();
        }
        args.pods = task.pods;
        if args.client_ids.is_empty() && args.method != podauth::methods::SAML {
            args.client_ids =
                vec![environment_client_id(&mut client, &args.browser.environment).await?];
        }
    }
    let challenges = challenges(&args)?;
    let request = pb::ProveRequest {
        method: args.method.clone(),
        challenges,
        environment: args.browser.environment.clone(),
        timeout_seconds: args.browser.timeout,
        open_browser: Some(!args.browser.no_browser),
    };

    let display = Display { qr: !args.browser.no_qr };
    let pod_count = request.challenges.len();
    let mut stream = client.prove(request).await?;
    let mut actions = Vec::new();
    let mut proofs = Vec::new();
    follow(&mut stream, |event, spinner| match event.event {
        Some(prove_event::Event::UserAction(action)) => {
            display.action(&action);
            if action.user_code.is_empty() {
                let what = format!("waiting for the browser: 0 of {pod_count} pods answered");
                *spinner = Some(Spinner::start(what, unix_time(action.expires_at_unix)));
            }
            actions.push(action);
        }
        Some(prove_event::Event::Proof(proof)) => {
            let line = format!("proof ready for pod {}", proof.pod_id);
            match spinner.as_mut() {
                Some(spinner) => {
                    spinner.println(&line);
                    let answered = proofs.len() + 1;
                    spinner.set_what(format!(
                        "waiting for the browser: {answered} of {pod_count} pods answered"
                    ));
                }
                None => errln!("{line}"),
            }
            proofs.push(proof);
        }
        Some(prove_event::Event::Done(_)) | None => {}
    })
    .await?;

    if args.json {
        let method = if args.method.is_empty() { podauth::methods::DEFAULT } else { &args.method };
        return output::json(&json!({
            "method": method,
            "environment": (!args.browser.environment.is_empty()).then_some(&args.browser.environment),
            "user_actions": actions.iter().map(action_json).collect::<Vec<_>>(),
            "proofs": proofs.iter().map(proof_json).collect::<Vec<_>>(),
        }));
    }
    for proof in &proofs {
        print_proof(proof);
    }
    Ok(())
}

/// One challenge per Pod: SAML requests for `saml`, client ids otherwise.
fn challenges(args: &ProveArgs) -> Result<Vec<pb::Challenge>, Failure> {
    if args.method == podauth::methods::SAML {
        if !args.client_ids.is_empty() {
            return Err(Failure::usage("method saml takes --saml-request, not --client-id"));
        }
        return saml_challenges(args);
    }
    if !args.saml_requests.is_empty() || args.idp_sso_url.is_some() {
        return Err(Failure::usage("--saml-request and --idp-sso-url go with --method saml"));
    }
    oidc_challenges(args)
}

/// One SAML request per Pod, each given inline, as @FILE, or as - (stdin).
fn saml_challenges(args: &ProveArgs) -> Result<Vec<pb::Challenge>, Failure> {
    if args.saml_requests.len() != args.pods.len() {
        return Err(Failure::usage(format!(
            "{} --saml-request values for {} --pod values; give one per Pod",
            args.saml_requests.len(),
            args.pods.len()
        )));
    }
    if args.saml_requests.iter().filter(|v| *v == "-").count() > 1 {
        return Err(Failure::usage("only one --saml-request can be read from stdin"));
    }

    args.pods
        .iter()
        .zip(&args.saml_requests)
        .map(|(pod, value)| {
            let saml_request = read_value(value)?;
            Ok(pb::Challenge {
                pod_id: pod.clone(),
                kind: Some(pb::challenge::Kind::Saml(pb::SamlChallenge {
                    saml_request,
                    idp_sso_url: args.idp_sso_url.clone().unwrap_or_default(),
                })),
            })
        })
        .collect()
}

/// `VALUE`, `@FILE` or `-`, trimmed.
fn read_value(value: &str) -> Result<String, Failure> {
    let text = if value == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read the SAML request from stdin: {e}")))?
    } else if let Some(path) = value.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read the SAML request from {path}: {e}")))?
    } else {
        value.to_owned()
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(Failure::usage(format!("the SAML request from {value:?} is empty")));
    }
    Ok(text)
}

/// One client id serves all Pods, or one per Pod.
fn oidc_challenges(args: &ProveArgs) -> Result<Vec<pb::Challenge>, Failure> {
    let ids = &args.client_ids;
    let client_id_of = |index: usize| -> Result<&str, Failure> {
        match ids.len() {
            0 => Err(Failure::usage("--client-id is required: the client id each Pod sent")),
            1 => Ok(&ids[0]),
            n if n == args.pods.len() => Ok(&ids[index]),
            n => Err(Failure::usage(format!(
                "{n} --client-id values for {} --pod values; give one for all Pods or one per Pod",
                args.pods.len()
            ))),
        }
    };
    args.pods
        .iter()
        .enumerate()
        .map(|(index, pod)| Ok(podauth::oidc_challenge(pod, client_id_of(index)?)))
        .collect()
}

/// The client id of `environment` (empty: the default), asked of the agent.
async fn environment_client_id(client: &mut Client, environment: &str) -> Result<String, Failure> {
    let status = client.status().await?;
    let name =
        if environment.is_empty() { status.default_environment.as_str() } else { environment };
    status
        .environment_details
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.client_id.clone())
        .ok_or_else(|| Failure::usage(format!("the agent knows no environment {name:?}")))
}

fn print_proof(proof: &pb::Proof) {
    outln!("{}", proof.pod_id);
    match &proof.kind {
        Some(proof::Kind::DeviceCode(p)) => {
            outln!("  device_code:      {}", p.device_code);
            outln!("  expires_at_unix:  {}", p.expires_at_unix);
            outln!("  interval_seconds: {}", p.interval_seconds);
        }
        Some(proof::Kind::AuthCode(p)) => {
            outln!("  auth_code:        {}", p.auth_code);
            outln!("  code_verifier:    {}", p.code_verifier);
            outln!("  redirect_uri:     {}", p.redirect_uri);
        }
        Some(proof::Kind::Saml(p)) => {
            outln!("  relay_state:      {}", p.relay_state);
            outln!("  saml_response:    {}", p.saml_response);
        }
        None => outln!("  (empty proof)"),
    }
}

pub(super) fn action_json(action: &pb::UserAction) -> Value {
    json!({
        "pod_ids": action.pod_ids,
        "url": action.url,
        "user_code": (!action.user_code.is_empty()).then_some(&action.user_code),
        "verification_uri": (!action.verification_uri.is_empty()).then_some(&action.verification_uri),
        "expires_at_unix": action.expires_at_unix,
        "browser_opened": action.browser_opened,
    })
}

fn proof_json(proof: &pb::Proof) -> Value {
    match &proof.kind {
        Some(proof::Kind::DeviceCode(p)) => json!({
            "pod_id": proof.pod_id,
            "method": podauth::methods::OIDC_DEVICE_CODE,
            "device_code": p.device_code,
            "expires_at_unix": p.expires_at_unix,
            "interval_seconds": p.interval_seconds,
        }),
        Some(proof::Kind::AuthCode(p)) => json!({
            "pod_id": proof.pod_id,
            "method": podauth::methods::OIDC_AUTH_CODE,
            "auth_code": p.auth_code,
            "code_verifier": p.code_verifier,
            "redirect_uri": p.redirect_uri,
        }),
        Some(proof::Kind::Saml(p)) => json!({
            "pod_id": proof.pod_id,
            "method": podauth::methods::SAML,
            "saml_response": p.saml_response,
            "relay_state": p.relay_state,
        }),
        None => json!({ "pod_id": proof.pod_id }),
    }
}
