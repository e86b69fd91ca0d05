//! The interactive terminal, in tmux: JSON is indented and coloured on a terminal and compact
//! without colours when piped, and a real Ctrl-C typed to `appsync serve` stops it cleanly.
//! tmux must be installed (scripts/test.sh installs it); this test never skips.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use support::{kill, tmp_dir, Serve, BIN, LONG};

/// A tmux server of this test's own (its own socket), killed by pid when dropped.
struct Tmux {
    socket: String,
    pid: Option<u32>,
}

impl Tmux {
    /// Starts a detached session running `script` in a pane that stays after it exits.
    fn start(name: &str, dir: &Path, script: &str) -> Tmux {
        let ok = Command::new("tmux")
            .arg("-V")
            .stdout(Stdio::null())
            .status();
        assert!(
            ok.is_ok_and(|s| s.success()),
            "tmux is required for this test: scripts/test.sh installs it (apt-get install -y tmux)"
        );
        let conf = dir.join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g remain-on-exit on\nset -g history-limit 10000\n",
        )
        .unwrap();
        let script_file = dir.join(format!("{name}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let mut t = Tmux {
            socket: format!("appsync-cli-test-{name}-{}", std::process::id()),
            pid: None,
        };
        let out = t
            .cmd()
            .arg("-f")
            .arg(&conf)
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "160",
                "-y",
                "60",
                "-P",
                "-F",
                "#{pid}",
            ])
            .arg(format!("sh {}", script_file.display()))
            .env_remove("TMUX")
            .env("TERM", "xterm-256color")
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.pid = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket);
        c
    }

    /// The pane's whole history, with the escape sequences of colours (`capture-pane -e`).
    fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-e", "-J", "-S", "-", "-t", "t"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `marker`; its content then.
    fn wait_for(&self, marker: &str) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            let screen = self.capture();
            if screen.contains(marker) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the pane never showed {marker:?}:\n{screen}"
            );
            // Polling the screen: tmux cannot push its content.
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &str) {
        self.cmd()
            .args(["send-keys", "-t", "t", keys])
            .status()
            .expect("tmux send-keys");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").stderr(Stdio::null()).status();
        if let Some(pid) = self.pid {
            kill(pid, "KILL");
        }
    }
}

/// The shell lines that give the pane this test's clean environment.
fn prologue(dir: &Path) -> String {
    format!(
        "cd '{dir}'\nunset NO_COLOR APPSYNC_TOKEN APPSYNC_CONFIG AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n\
         export HOME='{dir}' AWS_EC2_METADATA_DISABLED=true\n",
        dir = dir.display()
    )
}

#[test]
fn colours_and_indentation_on_a_terminal_none_when_piped() {
    let s = Serve::start("tty-colours", &[]);
    let query = "'{ listNotes { items { id } } }'";
    let script = format!(
        "{}echo __TTY__\n{BIN} query {query}\necho __TTY_DONE__ $?\n{BIN} query {query} | cat\necho __PIPE_DONE__ $?\n",
        prologue(&s.dir)
    );
    let t = Tmux::start("colours", &s.dir, &script);
    let screen = t.wait_for("__PIPE_DONE__");
    let tty = screen
        .split("__TTY__")
        .nth(1)
        .and_then(|r| r.split("__TTY_DONE__").next())
        .unwrap_or_default();
    let piped = screen
        .split("__TTY_DONE__")
        .nth(1)
        .and_then(|r| r.split("__PIPE_DONE__").next())
        .unwrap_or_default();
    assert!(
        screen.contains("__TTY_DONE__ 0") && screen.contains("__PIPE_DONE__ 0"),
        "{screen}"
    );
    // On the terminal: indented, keys and values in colour.
    assert!(
        tty.contains('\u{1b}'),
        "no colours on the terminal:\n{tty:?}"
    );
    assert!(
        tty.lines().filter(|l| l.contains("listNotes")).count() == 1 && tty.lines().count() > 5,
        "not indented:\n{tty}"
    );
    // Piped: one compact line, no escape at all.
    assert!(!piped.contains('\u{1b}'), "colours when piped:\n{piped:?}");
    assert!(
        piped.contains("{\"data\":{\"listNotes\":{\"items\":[]}}}"),
        "{piped}"
    );
}

#[test]
fn ctrl_c_stops_serve_cleanly() {
    let dir = tmp_dir("tty-ctrl-c");
    let script = format!(
        // The shell survives the Ctrl-C (a handler, unlike an ignored signal, is not
        // inherited), to tell how serve exited.
        "{}trap 'true' INT\n{BIN} serve --port 0 --no-config-files\necho __SERVE_EXIT__ $?\n",
        prologue(&dir)
    );
    let t = Tmux::start("ctrl-c", &dir, &script);
    t.wait_for("Type help");
    t.keys("C-c");
    let screen = t.wait_for("__SERVE_EXIT__");
    assert!(
        screen.contains("stopping…") && screen.contains("stopped"),
        "{screen}"
    );
    assert!(screen.contains("__SERVE_EXIT__ 0"), "{screen}");
}
