//! `podauth prove`: asks the agent for one proof per Pod and prints them.
//!
//! What the user must do (open a URL, confirm a code) goes to stderr as it
//! streams in; the proofs go to stdout at the end, so that
//! `podauth prove ... --json > proofs.json` still shows the instructions.

use clap::Args as ClapArgs;
use podauth::Client;
use podauth::v1::{self as pb, proof, prove_event};
use serde_json::{Value, json};

use super::{Failure, output};

#[derive(Debug, ClapArgs)]
pub(crate) struct ProveArgs {
    /// Method: oidc-device-code, oidc-auth-code or saml [default: the agent's, oidc-device-code]
    #[arg(long, value_name = "NAME", default_value = "")]
    method: String,

    /// A Pod to prove your identity to (repeat for several)
    #[arg(long = "pod", value_name = "ID", required = true)]
    pods: Vec<String>,

    /// The OIDC client id the Pods sent: once for all Pods, or once per Pod in order
    #[arg(long = "client-id", value_name = "CID")]
    client_ids: Vec<String>,

    /// Auth environment [default: the agent's default]
    #[arg(long, value_name = "NAME", default_value = "")]
    environment: String,

    /// Do not let the agent open a browser; open the printed URL yourself
    #[arg(long)]
    no_browser: bool,

    /// Seconds you have to finish in the browser [default: the agent's, 300]
    #[arg(long, value_name = "SECS")]
    timeout: Option<u32>,

    /// Print one JSON document with every proof
    #[arg(long)]
    json: bool,
}

pub(crate) async fn prove(mut client: Client, args: ProveArgs) -> Result<(), Failure> {
    let challenges = challenges(&args)?;
    let request = pb::ProveRequest {
        method: args.method.clone(),
        challenges,
        environment: args.environment.clone(),
        timeout_seconds: args.timeout,
        open_browser: Some(!args.no_browser),
    };

    let mut stream = client.prove(request).await?;
    let mut actions = Vec::new();
    let mut proofs = Vec::new();
    while let Some(event) = stream.message().await.map_err(podauth::ClientError::from)? {
        match event.event {
            Some(prove_event::Event::UserAction(action)) => {
                print_action(&action);
                actions.push(action);
            }
            Some(prove_event::Event::Proof(proof)) => {
                eprintln!("proof ready for pod {}", proof.pod_id);
                proofs.push(proof);
            }
            Some(prove_event::Event::Done(_)) | None => {}
        }
    }

    if args.json {
        let method = if args.method.is_empty() { podauth::methods::DEFAULT } else { &args.method };
        return output::json(&json!({
            "method": method,
            "environment": (!args.environment.is_empty()).then_some(&args.environment),
            "user_actions": actions.iter().map(action_json).collect::<Vec<_>>(),
            "proofs": proofs.iter().map(proof_json).collect::<Vec<_>>(),
        }));
    }
    for proof in &proofs {
        print_proof(proof);
    }
    Ok(())
}

/// One challenge per Pod; one client id serves all Pods, or one per Pod.
fn challenges(args: &ProveArgs) -> Result<Vec<pb::Challenge>, Failure> {
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

fn print_action(action: &pb::UserAction) {
    let pods = action.pod_ids.join(", ");
    if action.user_code.is_empty() {
        eprintln!("To prove your identity to {pods}, open in a browser:\n  {}", action.url);
    } else {
        eprintln!(
            "To prove your identity to {pods}, open in a browser:\n  {}\nand confirm the code {}",
            action.url, action.user_code
        );
    }
    if action.browser_opened {
        eprintln!("(a browser was opened for you)");
    }
}

fn print_proof(proof: &pb::Proof) {
    println!("{}", proof.pod_id);
    match &proof.kind {
        Some(proof::Kind::DeviceCode(p)) => {
            println!("  device_code:      {}", p.device_code);
            println!("  expires_at_unix:  {}", p.expires_at_unix);
            println!("  interval_seconds: {}", p.interval_seconds);
        }
        Some(proof::Kind::AuthCode(p)) => {
            println!("  auth_code:        {}", p.auth_code);
            println!("  code_verifier:    {}", p.code_verifier);
            println!("  redirect_uri:     {}", p.redirect_uri);
        }
        Some(proof::Kind::Saml(p)) => {
            println!("  relay_state:      {}", p.relay_state);
            println!("  saml_response:    {}", p.saml_response);
        }
        None => println!("  (empty proof)"),
    }
}

fn action_json(action: &pb::UserAction) -> Value {
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
