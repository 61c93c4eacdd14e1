//! A pseudo-terminal (opened with libc, so no system package is needed) in which a test runs
//! the binary, types into it and reads the screen.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// rustyline switches bracketed paste on as each prompt starts.
pub const PROMPT: &str = "\x1b[?2004h";

/// `samtal chat` on a pseudo-terminal, with everything it wrote so far.
pub struct Term {
    pub child: Child,
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Term {
    /// Runs `cmd` with the pseudo-terminal as its stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Self {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the given integers and reads `size`.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec. A new session with the
        // pty as controlling terminal, so that Ctrl-C sends SIGINT as on a real terminal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(cmd);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, mut answerer) = (master.try_clone().unwrap(), master.try_clone().unwrap());
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has closed the terminal.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                // rustyline asks where the cursor is; a terminal would answer.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answerer.write_all(b"\x1b[1;1R");
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Self {
            child,
            master,
            screen,
        }
    }

    /// The screen so far as text: carriage returns removed, line breaks as spaces.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap())
            .replace('\r', "")
            .replace('\n', " ")
    }

    /// Waits until the screen shows `needle` `count` times.
    pub fn wait_for(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.text().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; the screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types a line once the prompt is up and waits for the next prompt: rustyline discards
    /// what is typed while an answer is streaming, as the terminal switches modes.
    pub fn line(&mut self, keys: &str) {
        let prompts = self.text().matches(PROMPT).count();
        self.wait_for(PROMPT, prompts.max(1));
        self.type_(keys);
        self.wait_for(PROMPT, prompts.max(1) + 1);
    }

    pub fn type_(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Waits for the process to exit; its exit code.
    pub fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("samtal chat did not exit; the screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
