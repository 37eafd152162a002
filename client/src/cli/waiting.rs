//! What the user sees while the agent waits on them: the URL, for device
//! codes the code in large print and a QR code of the page, and a spinner
//! with the time left. Everything goes to stderr, so stdout stays for
//! results; the spinner only draws on a terminal.

use std::io::IsTerminal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use podauth::v1 as pb;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use super::{Failure, output};

/// The flags of every command that may send the user to a browser.
#[derive(Debug, clap::Args)]
pub(crate) struct BrowserArgs {
    /// Auth environment [default: the agent's default]
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    pub(crate) environment: String,

    /// Do not let the agent open a browser; open the printed URL yourself
    #[arg(long)]
    pub(crate) no_browser: bool,

    /// Seconds you have to finish in the browser (1 to 3600) [default: the agent's, 300]
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<u32>,

    /// Do not draw QR codes of device-code pages
    #[arg(long)]
    pub(crate) no_qr: bool,
}

/// How the user actions are shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Display {
    /// Draw a QR code of device-code pages.
    pub(crate) qr: bool,
}

/// A spinner saying what is awaited and how long is left.
#[derive(Debug)]
pub(crate) struct Spinner {
    bar: ProgressBar,
    what: String,
    until: Option<SystemTime>,
}

impl Display {
    /// Prints one user action.
    pub(crate) fn action(&self, action: &pb::UserAction) {
        let purpose = if action.pod_ids.is_empty() {
            "To sign in".to_owned()
        } else {
            format!("To prove your identity to {}", action.pod_ids.join(", "))
        };
        errln!("{purpose}, open in a browser:\n  {}", action.url);

        if !action.user_code.is_empty() {
            errln!("and confirm this code:\n{}", large(&action.user_code));
            if self.qr {
                if let Some(qr) = qr_code(&action.url) {
                    errln!("or scan:\n{qr}");
                }
            }
        }
        if action.browser_opened {
            errln!("(a browser was opened for you)");
        }
    }
}

impl Spinner {
    /// Starts spinning on a terminal; invisible otherwise.
    pub(crate) fn start(what: impl Into<String>, until: Option<SystemTime>) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new_spinner()
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let spinner = Self { bar, what: what.into(), until };
        spinner.tick();
        spinner
    }

    /// Changes what is awaited.
    pub(crate) fn set_what(&mut self, what: impl Into<String>) {
        self.what = what.into();
        self.tick();
    }

    /// Refreshes the time left.
    pub(crate) fn tick(&self) {
        let left = self.until.map(|until| {
            let seconds = until.duration_since(SystemTime::now()).map_or(0, |d| d.as_secs());
            format!(" ({} left)", output::duration(seconds))
        });
        self.bar.set_message(format!("{}{}", self.what, left.unwrap_or_default()));
    }

    /// Prints a line above the spinner.
    pub(crate) fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            errln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Removes the spinner.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// Reads `stream` to its end, handing each message to `handle` along with
/// the spinner it may start or update, and refreshing the spinner's time
/// left every second. The spinner is removed at the end, also on error.
pub(crate) async fn follow<T>(
    stream: &mut tonic::Streaming<T>,
    mut handle: impl FnMut(T, &mut Option<Spinner>),
) -> Result<(), Failure> {
    let mut spinner: Option<Spinner> = None;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let result = loop {
        tokio::select! {
            message = stream.message() => match message {
                Ok(Some(message)) => handle(message, &mut spinner),
                Ok(None) => break Ok(()),
                Err(status) => break Err(podauth::ClientError::from(status).into()),
            },
            _ = ticker.tick() => {
                if let Some(spinner) = &spinner {
                    spinner.tick();
                }
            }
        }
    };
    if let Some(spinner) = spinner {
        spinner.finish();
    }
    result
}

/// A time from the protocol, if set.
pub(crate) fn unix_time(seconds: i64) -> Option<SystemTime> {
    u64::try_from(seconds).ok().filter(|s| *s > 0).map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// The code spaced out in a box, bold on a terminal: easy to read across a
/// room or to copy letter by letter.
fn large(code: &str) -> String {
    let spaced: String =
        code.chars().flat_map(|c| [c, ' ']).collect::<String>().trim_end().to_owned();
    let width = spaced.chars().count() + 4;
    let (bold, plain) =
        if std::io::stderr().is_terminal() { ("\x1b[1m", "\x1b[0m") } else { ("", "") };
    format!("  ┌{line}┐\n  │  {bold}{spaced}{plain}  │\n  └{line}┘", line = "─".repeat(width),)
}

/// The URL as a QR code in block characters.
fn qr_code(url: &str) -> Option<String> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(code.render::<Dense1x2>().quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_code_is_boxed_and_spaced() {
        let text = large("WZWG-DFLN");
        assert!(text.contains("W Z W G - D F L N"), "{text}");
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn qr_code_renders_blocks() {
        let qr = qr_code("http://127.0.0.1:3000/device?user_code=ABCD-EFGH").unwrap();
        assert!(qr.contains('█') || qr.contains('▀'), "{qr}");
    }
}
