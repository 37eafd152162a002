//! Task files of the platform's format: `podauth prove --task FILE` proves
//! to the Pods a task names, by the method it names.
//!
//! ```yaml
//! modeller:
//!   username: alice
//!   identity_verification_method: oidc-auth-code
//! pods:
//!   identifiers: [alice/pod-a, bob/pod-b]
//! ```

use std::path::Path;

use serde::Deserialize;

/// What `prove` needs from a task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Task {
    /// The method, when the task names one.
    pub(crate) method: Option<String>,
    /// The Data Scientist's user name, when given.
    pub(crate) username: Option<String>,
    /// The Pods to prove to.
    pub(crate) pods: Vec<String>,
}

#[derive(Deserialize)]
struct TaskFile {
    modeller: Option<Modeller>,
    pods: Option<Pods>,
}

#[derive(Deserialize)]
struct Modeller {
    identity_verification_method: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
struct Pods {
    identifiers: Option<Vec<String>>,
}

/// Reads a task file; errors name the file and what is missing or wrong.
pub(crate) fn read(path: &Path) -> Result<Task, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read task file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("task file {}: {e}", path.display()))
}

fn parse(text: &str) -> Result<Task, String> {
    let file: TaskFile =
        serde_norway::from_str(text).map_err(|e| format!("not a task file: {e}"))?;
    let pods = file
        .pods
        .and_then(|p| p.identifiers)
        .filter(|ids| !ids.is_empty())
        .ok_or("it names no pods (pods.identifiers)")?;
    let modeller = file.modeller;
    Ok(Task {
        method: modeller.as_ref().and_then(|m| m.identity_verification_method.clone()),
        username: modeller.and_then(|m| m.username),
        pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_user_and_pods() {
        let task = parse(
            "modeller:\n  username: alice\n  identity_verification_method: oidc-auth-code\n\
             pods:\n  identifiers:\n    - alice/pod-a\n    - bob/pod-b\ntask:\n  protocol: {name: x}\n",
        )
        .unwrap();
        assert_eq!(task.method.as_deref(), Some("oidc-auth-code"));
        assert_eq!(task.username.as_deref(), Some("alice"));
        assert_eq!(task.pods, ["alice/pod-a", "bob/pod-b"]);
    }

    #[test]
    fn missing_pods_is_named() {
        let err = parse("modeller:\n  username: alice\n").unwrap_err();
        assert!(err.contains("pods.identifiers"), "{err}");
        assert!(parse(": [").unwrap_err().contains("not a task file"));
    }
}
