//! Shell completions and man pages, generated from the command's own
//! definitions: bash, zsh and fish scripts that know every subcommand and
//! flag, a bash script that bash parses and that really completes, and
//! man pages for every page the main one refers to.

use std::collections::BTreeSet;

use podauth_tests::Fixture;
use podauth_tests::cli::{self, CliOutput, EXIT_OK};
use tokio::process::Command;

/// Every subcommand a user can type.
const SUBCOMMANDS: [&str; 8] =
    ["status", "methods", "prove", "login", "token", "logout", "service", "completions"];
/// Flags of `prove` a script must offer.
const PROVE_FLAGS: [&str; 4] = ["--task", "--no-qr", "--json", "--no-browser"];

async fn podauth(args: &[&str]) -> CliOutput {
    let mut command = cli::bare_command();
    command.args(args);
    let output = cli::output(command, &format!("podauth {}", args.join(" "))).await;
    output.assert_code(EXIT_OK);
    output
}

/// What bash's completion function offers for the words of `line` (the
/// last word being completed), with the generated script loaded.
async fn bash_completes(script: &std::path::Path, line: &[&str]) -> Vec<String> {
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let current = line.len() - 1;
    let previous = line[current.saturating_sub(1)];
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={current}\n\
         _podauth podauth '{}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        line[current],
    );
    let mut command = Command::new("bash");
    command.args(["--norc", "--noprofile", "-c", &program]);
    let output = cli::output(command, "bash completion").await;
    output.assert_code(EXIT_OK);
    output.stdout.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bash_zsh_and_fish_scripts_know_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = podauth(&["completions", shell]).await.stdout;
        assert!(script.len() > 1000, "{shell}: a whole script, not {} bytes", script.len());
        for word in SUBCOMMANDS.iter().chain(&PROVE_FLAGS) {
            // fish names long flags without their dashes (`-l task`).
            let bare = word.trim_start_matches('-');
            assert!(script.contains(word) || script.contains(bare), "{shell} knows {word}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bash_script_parses_and_completes() {
    let fixture = Fixture::new("completions_bash");
    let script = fixture.join("podauth.bash");
    std::fs::write(&script, podauth(&["completions", "bash"]).await.stdout).unwrap();

    let mut check = Command::new("bash");
    check.arg("-n").arg(&script);
    let parsed = cli::output(check, "bash -n").await;
    assert_eq!(parsed.code, Some(0), "bash -n: {}", parsed.stderr);

    assert_eq!(bash_completes(&script, &["podauth", "pr"]).await, ["prove"]);
    let service = bash_completes(&script, &["podauth", "service", ""]).await;
    for action in ["install", "uninstall", "status"] {
        assert!(service.iter().any(|w| w == action), "{action} in {service:?}");
    }
    let flags = bash_completes(&script, &["podauth", "prove", "--no"]).await;
    assert_eq!(flags, ["--no-browser", "--no-qr"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_man_page_the_main_page_names_is_generated() {
    let fixture = Fixture::new("man_pages");
    let dir = fixture.join("man");
    podauth(&["man", "--dir", &dir.display().to_string()]).await;
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();

    // The printed page is the main page of the directory.
    let main_page = podauth(&["man"]).await.stdout;
    assert_eq!(main_page, std::fs::read_to_string(dir.join("podauth.1")).unwrap());

    for page in &written {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        // References read `podauth\-prove(1)` in roff.
        for reference in text.split("podauth\\-").skip(1) {
            let Some((name, _)) = reference.split_once("(1)") else { continue };
            let file = format!("podauth-{}.1", name.replace("\\-", "-"));
            assert!(written.contains(&file), "{page} refers to {file}, not in {written:?}");
        }
    }
    for subcommand in SUBCOMMANDS {
        assert!(written.contains(&format!("podauth-{subcommand}.1")), "{written:?}");
    }
}
