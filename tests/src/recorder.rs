//! A stand-in browser for `PODAUTH_BROWSER`: a shell script that appends
//! every URL it is asked to open to a file, one per line. Tests read the
//! file to see what the daemon opened, and that it opened nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::fixture::{Fixture, eventually};

/// How long the daemon may take to start the opener.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The recording script and the file it writes.
#[derive(Debug)]
pub struct BrowserRecorder {
    script: PathBuf,
    opened: PathBuf,
}

impl BrowserRecorder {
    /// Writes the script and an empty record into the test's directory.
    pub fn create(fixture: &Fixture) -> Self {
        let script = fixture.join("record-browser.sh");
        let opened = fixture.join("opened-urls.txt");
        let text = format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", opened.display());
        std::fs::write(&script, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", script.display()));
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("cannot make {} executable: {e}", script.display()));
        std::fs::write(&opened, "")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", opened.display()));
        Self { script, opened }
    }

    /// The value for `PODAUTH_BROWSER`.
    pub fn command(&self) -> String {
        self.script.display().to_string()
    }

    /// Every URL opened so far, in order.
    pub fn urls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.opened)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.opened.display()));
        text.lines().map(str::to_owned).collect()
    }

    /// Waits until `count` URLs have been opened in all, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let what = format!("{count} URLs in {}", self.opened.display());
        eventually(OPEN_TIMEOUT, &what, || async {
            let urls = self.urls();
            (urls.len() >= count).then_some(urls)
        })
        .await
    }
}
