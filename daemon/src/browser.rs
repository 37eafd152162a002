//! Opening a URL in the user's browser.
//!
//! Opening is best effort: no display, no opener, or a `BROWSER` pointing at
//! nothing is not an error, because the client always gets the URL too.

use std::process::Stdio;

use tracing::debug;
use url::Url;

/// How the daemon opens a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserCommand {
    /// The platform's opener (`xdg-open`, `open`).
    Platform,
    /// A command and its arguments; `%s` in an argument is replaced by the
    /// URL, otherwise the URL is appended.
    Command(Vec<String>),
    /// Never open a browser.
    Disabled,
}

impl BrowserCommand {
    /// Parses a configured command line; `none` disables opening.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(Self::Disabled);
        }
        let words = shell_words::split(text).map_err(|e| format!("cannot split command: {e}"))?;
        if words.is_empty() {
            return Err("empty command; use \"none\" to never open a browser".into());
        }
        Ok(Self::Command(words))
    }

    /// `$BROWSER` when set (its first entry, as a colon-separated list), else
    /// the platform's opener.
    pub fn from_env(browser_var: Option<String>) -> Self {
        browser_var
            .as_deref()
            .and_then(|list| list.split(':').find(|entry| !entry.trim().is_empty()))
            .and_then(|entry| Self::parse(entry).ok())
            .unwrap_or(Self::Platform)
    }

    /// Starts the browser on `url` and returns whether a process started.
    /// The child is reaped in the background.
    pub fn open(&self, url: &Url) -> bool {
        let argv = match self {
            Self::Disabled => return false,
            Self::Command(words) => with_url(words, url.as_str()),
            Self::Platform => match platform_opener() {
                Some(opener) => vec![opener.to_owned(), url.as_str().to_owned()],
                None => return false,
            },
        };

        let Some((program, args)) = argv.split_first() else { return false };
        let spawned = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                tokio::spawn(async move {
                    let status = child.wait().await;
                    debug!(?status, "browser opener exited");
                });
                true
            }
            Err(error) => {
                debug!(program, %error, "cannot start browser");
                false
            }
        }
    }
}

fn with_url(words: &[String], url: &str) -> Vec<String> {
    if words.iter().any(|w| w.contains("%s")) {
        words.iter().map(|w| w.replace("%s", url)).collect()
    } else {
        words.iter().cloned().chain(std::iter::once(url.to_owned())).collect()
    }
}

/// The platform's opener, or `None` where no graphical session is there
/// to show a browser in.
fn platform_opener() -> Option<&'static str> {
    if cfg!(target_os = "macos") {
        return Some("open");
    }
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    has_display.then_some("xdg-open")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_s_is_replaced_else_appended() {
        let url = "http://idp/x?a=1";
        assert_eq!(with_url(&["b".into(), "--u=%s".into()], url), ["b", "--u=http://idp/x?a=1"]);
        assert_eq!(with_url(&["b".into()], url), ["b", url]);
    }

    #[test]
    fn browser_variable_takes_first_entry() {
        let command = BrowserCommand::from_env(Some(":firefox --new-tab:chromium".into()));
        assert_eq!(command, BrowserCommand::Command(vec!["firefox".into(), "--new-tab".into()]));
        assert_eq!(BrowserCommand::from_env(None), BrowserCommand::Platform);
        assert_eq!(BrowserCommand::parse("none").unwrap(), BrowserCommand::Disabled);
    }

    #[tokio::test]
    async fn missing_program_is_not_an_error() {
        let command = BrowserCommand::parse("/nonexistent/browser").unwrap();
        assert!(!command.open(&Url::parse("http://127.0.0.1/").unwrap()));
    }
}
